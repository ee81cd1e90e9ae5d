/**
 * A run folder: `runs/<experiment>/<timestamp>/` (or `--out DIR`) holding results.json, metrics.csv, the figures,
 * report.md/.html and `checkpoints/`. results.json is rewritten atomically (temporary file + rename) at every
 * checkpoint and every few seconds, so a killed run keeps what it finished.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Results, Row } from './types.js';

/** Writes to a temporary name and renames, so a kill never leaves half a file under the real name. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** A folder name from the time: 2026-11-01T12-34-56Z (sortable, no colons). */
export function timestampName(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function readResults(dir: string): Results {
  const file = join(dir, 'results.json');
  if (!existsSync(file)) throw new Error(`${dir} has no results.json (is it a run folder?)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Results;
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message})`);
  }
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

  constructor(readonly dir: string, readonly results: Results) {}

  static async create(dir: string, results: Results): Promise<RunFolder> {
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    const f = new RunFolder(dir, results);
    await f.write();
    return f;
  }

  /** Opens a run for --resume: cuts the series and final numbers back to what the last checkpoint covers. */
  static async resume(dir: string): Promise<RunFolder> {
    const r = readResults(dir);
    for (const [name, rows] of Object.entries(r.series)) rows.length = Math.min(rows.length, r.savepoint.rows[name] ?? 0);
    for (const k of Object.keys(r.final)) if (!r.savepoint.finalKeys.includes(k)) delete r.final[k];
    r.attempts += 1;
    r.status = 'running';
    delete r.error;
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    return new RunFolder(dir, r);
  }

  /** Marks everything logged so far as covered by a checkpoint. */
  savepoint(): void {
    const rows: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.results.series)) rows[k] = v.length;
    this.results.savepoint = { rows, finalKeys: Object.keys(this.results.final) };
  }

  /** Writes results.json and metrics.csv now (writes never overlap). */
  write(): Promise<void> {
    this.lastWrite = Date.now();
    this.results.updatedAt = new Date().toISOString();
    const json = JSON.stringify(this.results, null, 1);
    const csv = toCsv(this.results.series);
    this.writing = this.writing.then(async () => {
      await writeAtomic(join(this.dir, 'results.json'), json);
      await writeAtomic(join(this.dir, 'metrics.csv'), csv);
    });
    return this.writing;
  }

  /** Writes if the last write is more than `everyMs` old (for loops that log many rows). */
  maybeWrite(everyMs = 5000): void {
    if (Date.now() - this.lastWrite > everyMs) void this.write();
  }
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
