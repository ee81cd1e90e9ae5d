/**
 * Durable file writes for the run folder. A write goes to `<name>.tmp-<pid>`, is fsync'd, renamed over the real
 * name, and the folder is fsync'd: after a crash or power loss the real name holds the old file or the new one,
 * never half of one, and once the call returns the new one is on disk (so a record that points at it may follow).
 */
import { closeSync, fsyncSync, openSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, parse, resolve } from 'node:path';
import { GpugradError } from '../core/errors.js';

/** Temporary files being written by this process: removed at exit, so even an abandoned write leaves none behind. */
const inFlight = new Set<string>();
process.on('exit', () => { for (const f of inFlight) rmSync(f, { force: true }); });

/** The suffix of a temporary file: `results.json.tmp-1234`. A run folder's cleanup removes any it finds. */
export const TMP_PATTERN = /\.tmp-\d+$/;

export interface WriteOptions {
  /** called once the data is on disk under the temporary name, before the rename (a test hook stalls here) */
  beforeRename?: (tmp: string) => Promise<void>;
}

/** Writes `data` to `path` atomically and durably (see the file's comment); on failure no temporary file remains. */
export async function writeAtomic(path: string, data: string | Uint8Array, o: WriteOptions = {}): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  inFlight.add(tmp);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await o.beforeRename?.(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    inFlight.delete(tmp);
  }
  syncDir(dirname(path));
}

/** Makes the rename itself durable. Some file systems refuse to fsync a folder: that costs durability, not safety. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* not supported here */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Creates a folder and its missing parents, one level at a time. (Node's recursive mkdir loops forever where the
 * kernel answers ENOENT for a parent that exists, as under /proc: `--out /proc/x` hung.) Says which level failed.
 */
export async function makeDir(dir: string): Promise<void> {
  const full = resolve(dir);
  const { root } = parse(full);
  const parts = full.slice(root.length).split(/[\\/]/).filter(Boolean);
  let at = root;
  for (const part of parts) {
    at = resolve(at, part);
    let isDir = false;
    try { isDir = statSync(at).isDirectory(); } catch { /* missing: create it */ }
    if (isDir) continue;
    try {
      await mkdir(at);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST' && statSync(at).isDirectory()) continue;
      const why = err.code === 'EEXIST' ? 'a file of that name is in the way' : `${err.code ?? ''} ${err.message}`.trim();
      throw new GpugradError(`cannot create the folder ${dir}: ${at} could not be made (${why}); choose another --out or --runs`);
    }
  }
}
