/**
 * A run folder: `runs/<experiment>/<timestamp>/` (or `--out DIR`) holding results.json, metrics.csv, the figures,
 * report.md/.html, `checkpoints/` and, while a process owns it, `run.lock`. results.json is rewritten atomically
 * (temporary file, fsync, rename) at every checkpoint and every few seconds, so a killed run keeps what it finished.
 *
 * What results.json records never runs ahead of the checkpoints on disk: a unit's progress moves only once its
 * checkpoint is durable (see context.ts), and `savepoint` says how many rows of each series the checkpoints cover.
 * Rows logged after the last checkpoint are written too (to watch a run) but dropped on resume and on interrupt.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GpugradError } from '../core/errors.js';
import { TMP_PATTERN, makeDir, writeAtomic } from './files.js';
import { RunLock, lockOwner } from './lock.js';
import type { Results, Row } from './types.js';

export { writeAtomic };

/** A folder name from the time: 2026-11-01T12-34-56Z (sortable, no colons). */
export function timestampName(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/**
 * A run folder's results. A run that says `running` while no live process owns its folder stopped without a word
 * (killed, or its last write failed, e.g. on a full disk): it is reported as failed, with what to do.
 */
export function readResults(dir: string): Results {
  const file = join(dir, 'results.json');
  if (!existsSync(file)) throw new GpugradError(`${dir} has no results.json (is it a run folder?)`);
  let r: Results;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as Results;
  } catch (e) {
    throw new GpugradError(`${file} is not valid JSON (${(e as Error).message})`);
  }
  if (r.status === 'running' && !lockOwner(dir)) {
    r.status = 'failed';
    r.error = `stopped without finishing (killed, or results.json could not be written) after ${r.updatedAt}; ` +
      `gpugrad run ${r.experiment} --resume --out ${dir} continues it`;
  }
  return r;
}

/** The newest run folder of an experiment under `runsDir`, or null. */
export function latestRun(runsDir: string, experiment: string): string | null {
  const dir = join(runsDir, experiment);
  if (!existsSync(dir)) return null;
  const runs = readdirSync(dir).filter((f) => existsSync(join(dir, f, 'results.json'))).sort();
  return runs.length ? join(dir, runs[runs.length - 1]) : null;
}

/** Every run folder below `runsDir` (any depth up to 3), newest last per experiment. */
export function findRuns(runsDir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (existsSync(join(d, 'results.json'))) { out.push(d); return; }
    if (depth === 0) return;
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (f !== 'checkpoints' && statSync(p).isDirectory()) walk(p, depth - 1);
    }
  };
  if (existsSync(runsDir)) walk(runsDir, 3);
  return out;
}

export class RunFolder {
  private lastWrite = 0;
  private writing: Promise<void> = Promise.resolve();
  /** The wall time of earlier attempts, and when this one began: every write records the sum, so an attempt that is
   * killed (SIGKILL, a crash, a machine going away) still counts the time it ran up to its last write. */
  private readonly wallBefore: number;
  private readonly attemptStart = performance.now();

  private constructor(readonly dir: string, readonly results: Results, private readonly lock: RunLock) {
    this.wallBefore = results.wallTimeS;
  }

  /** Makes a new run folder and takes its lock; refuses a folder that already holds a run. */
  static async create(dir: string, results: Results): Promise<RunFolder> {
    await makeDir(join(dir, 'checkpoints'));
    const lock = RunLock.acquire(dir);
    try {
      if (existsSync(join(dir, 'results.json'))) {
        throw new GpugradError(`${dir} already holds a run; use --resume to continue it, or another --out`);
      }
      const f = new RunFolder(dir, results, lock);
      await f.write();
      return f;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /**
   * Opens a run for --resume: takes the lock, cuts the series and final numbers back to what the checkpoints cover,
   * removes what an interrupted attempt left behind (temporary files, superseded checkpoints), and checks that every
   * checkpoint results.json names is there: a unit whose checkpoint is missing cannot continue where it was.
   */
  static async resume(dir: string): Promise<RunFolder> {
    await makeDir(join(dir, 'checkpoints'));
    const lock = RunLock.acquire(dir);
    try {
      const r = readResults(dir);
      const f = new RunFolder(dir, r, lock);
      f.cutToSavepoint();
      const missing = Object.entries(r.units).filter(([, u]) => u.checkpoint && !existsSync(join(dir, u.checkpoint)));
      if (missing.length) {
        const list = missing.map(([name, u]) => `${u.checkpoint} (unit ${name}, ${u.epochsDone} epochs done)`).join(', ');
        throw new GpugradError(`cannot resume ${dir}: results.json names ${list}, missing from the folder, so that work cannot ` +
          'continue where it stopped (starting it over would repeat its logged rows). Put the file back, or start a new run without --resume');
      }
      await f.removeLeftovers();
      r.attempts += 1;
      r.status = 'running';
      delete r.error;
      return f;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** What the checkpoints written from now on cover: every row and final number logged so far. */
  coverage(): Results['savepoint'] {
    const rows: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.results.series)) rows[k] = v.length;
    return { rows, finalKeys: Object.keys(this.results.final) };
  }

  /** Drops the rows and final numbers no checkpoint covers (they are logged again when their work is redone). */
  cutToSavepoint(): void {
    const r = this.results;
    for (const [name, rows] of Object.entries(r.series)) rows.length = Math.min(rows.length, r.savepoint.rows[name] ?? 0);
    for (const k of Object.keys(r.final)) if (!r.savepoint.finalKeys.includes(k)) delete r.final[k];
  }

  /** Temporary files of killed writes, and checkpoints results.json no longer names (superseded, never committed). */
  private async removeLeftovers(): Promise<void> {
    const named = new Set(Object.values(this.results.units).map((u) => u.checkpoint).filter(Boolean));
    for (const f of readdirSync(this.dir)) if (TMP_PATTERN.test(f)) await rm(join(this.dir, f), { force: true });
    for (const f of readdirSync(join(this.dir, 'checkpoints'))) {
      if (TMP_PATTERN.test(f) || (f.endsWith('.safetensors') && !named.has(`checkpoints/${f}`))) await rm(join(this.dir, 'checkpoints', f), { force: true });
    }
  }

  /** Writes results.json and metrics.csv now, as they are at this call (writes never overlap). */
  write(): Promise<void> {
    this.lastWrite = Date.now();
    this.results.updatedAt = new Date().toISOString();
    this.results.wallTimeS = this.wallBefore + (performance.now() - this.attemptStart) / 1000;
    const json = JSON.stringify(this.results, null, 1);
    const csv = toCsv(this.results.series);
    const next = this.writing.catch(() => {}).then(async () => {
      try {
        await writeAtomic(join(this.dir, 'results.json'), json);
        await writeAtomic(join(this.dir, 'metrics.csv'), csv);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new GpugradError(`cannot write the results in ${this.dir}: ${err.code === 'ENOSPC' ? 'the disk is full' : err.message}. ` +
          'The checkpoints written so far are intact: make room, then --resume continues the run');
      }
    });
    this.writing = next;
    return next;
  }

  /** Writes if the last write is more than `everyMs` old (for loops that log many rows); a failure waits for the next. */
  maybeWrite(everyMs = 5000): void {
    if (Date.now() - this.lastWrite > everyMs) this.write().catch(() => {});
  }

  /** Lets another process have the folder (at the end of the run, whatever its outcome). */
  release(): void { this.lock.release(); }
}

/** All series in one long table: `series` first, then the union of the rows' columns. */
export function toCsv(series: Record<string, Row[]>): string {
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const rows of Object.values(series)) {
    for (const row of rows) for (const k of Object.keys(row)) if (!seen.has(k)) { seen.add(k); cols.push(k); }
  }
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [['series', ...cols].join(',')];
  for (const [name, rows] of Object.entries(series)) {
    for (const row of rows) lines.push([cell(name), ...cols.map((c) => cell(row[c]))].join(','));
  }
  return lines.join('\n') + '\n';
}
