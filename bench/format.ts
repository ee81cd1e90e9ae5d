/** Number formatting and fixed-width tables for the benchmark printout. */
import type { Stats } from './harness.js';

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

export function fmtStats(s: Stats | undefined): string {
  if (!s) return '–';
  return `${fmtMs(s.median)} ±${Math.round((s.range * 100) / 2)}%`;
}

/** GFLOP/s or GB/s for `work` units per run at `ms` per run. */
export function fmtRate(work: number | undefined, ms: number | undefined): string {
  if (!work || !ms) return '–';
  const r = work / (ms * 1e6);
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '–';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

export function fmtWork(flops?: number, bytes?: number): string {
  if (flops) return flops >= 1e9 ? `${(flops / 1e9).toPrecision(3)} GFLOP` : `${(flops / 1e6).toPrecision(3)} MFLOP`;
  if (bytes) return bytes >= 1e6 ? `${(bytes / 1e6).toPrecision(3)} MB` : `${(bytes / 1e3).toPrecision(3)} kB`;
  return '';
}

/** A left-aligned first column and right-aligned others, in a Markdown-compatible pipe table. */
export class Table {
  private rows: string[][] = [];
  constructor(private readonly header: string[]) {}
  add(row: string[]): string { this.rows.push(row); return this.line(row); }
  private widths(): number[] {
    return this.header.map((h, i) => Math.max(h.length, ...this.rows.map((r) => (r[i] ?? '').length)));
  }
  private line(row: string[], w = this.widths()): string {
    return `| ${row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  }
  render(): string {
    const w = this.widths();
    const sep = `|${w.map((x, i) => (i === 0 ? ` ${'-'.repeat(x)} ` : ` ${'-'.repeat(x - 1)}: `)).join('|')}|`;
    return [this.line(this.header, w), sep, ...this.rows.map((r) => this.line(r, w))].join('\n');
  }
}
