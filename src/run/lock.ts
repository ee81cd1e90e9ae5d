/**
 * One process at a time per run folder: `run.lock` holds the owner's pid, host, start time and command. A second run
 * into the folder is refused with a message that names the owner; a lock whose process is gone (killed, crashed) on
 * this host is stale and taken over. The lock is created complete or not at all (written under a temporary name,
 * then hard-linked into place, which fails if a lock exists), so a reader never sees half a lock.
 */
import { existsSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GpugradError } from '../core/errors.js';

export const LOCK_FILE = 'run.lock';

export interface LockOwner { pid: number; host: string; startedAt: string; command: string }

/** Whether a process with this pid exists (EPERM: it exists but is someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's owner, or null when the folder is not locked or its owner is gone (a stale lock). */
export function lockOwner(dir: string): LockOwner | null {
  const file = join(dir, LOCK_FILE);
  if (!existsSync(file)) return null;
  let owner: LockOwner;
  try {
    owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return null; // unreadable: not written by a live gpugrad (locks appear whole)
  }
  // A lock from another host cannot be checked from here: it counts as held.
  if (owner.host === hostname() && !alive(owner.pid)) return null;
  return owner;
}

export class RunLock {
  private constructor(readonly dir: string, private readonly onExit: () => void) {}

  /** Takes the folder's lock, or throws a GpugradError naming the process that holds it. */
  static acquire(dir: string, command = process.argv.slice(1).join(' ')): RunLock {
    const file = join(dir, LOCK_FILE);
    const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(me));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          linkSync(tmp, file);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
          const owner = lockOwner(dir);
          if (owner) {
            throw new GpugradError(`${dir} is in use by another run: pid ${owner.pid} on ${owner.host}, since ${owner.startedAt} ` +
              `(${owner.command}). Wait for it to end or stop it, or give another --out; if that process is gone, delete ${file}`);
          }
          rmSync(file, { force: true }); // stale: its owner is gone
        }
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    const release = () => RunLock.releaseIfMine(dir);
    process.on('exit', release);
    return new RunLock(dir, release);
  }

  private static releaseIfMine(dir: string): void {
    const file = join(dir, LOCK_FILE);
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as LockOwner).pid === process.pid) rmSync(file, { force: true });
    } catch { /* gone already */ }
  }

  release(): void {
    process.off('exit', this.onExit);
    RunLock.releaseIfMine(this.dir);
  }
}
