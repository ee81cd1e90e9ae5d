/**
 * The summary a run prints when it ends (stdout, so a redirected log ends with it): what the run showed, its headline
 * numbers beside the original homework report's with the verdict, the total wall time and where the report is.
 */
import type { Results } from '../run/types.js';
import { comparison, formatDuration } from '../report/run-report.js';

/** Plain-text table: columns padded to their widest cell. */
export function textTable(head: string[], rows: string[][], indent = '  '): string {
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(width[c]))).join('  ').trimEnd();
  return [fmt(head), indent + width.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export function runSummary(r: Results, findings: string[], reportPath: string): string {
  const out = [`\n${r.section} ${r.title} (${r.experiment}): ${r.status}, ${r.preset} preset, seed ${r.seed}, ` +
    `${formatDuration(r.wallTimeS)}${r.attempts > 1 ? ` over ${r.attempts} attempts` : ''}`];
  if (r.error) out.push(`  ${r.error}`);
  if (findings.length) out.push('  What this run showed:', ...findings.map((f) => `  - ${plain(f)}`));
  const cmp = comparison(r);
  if (cmp.rows.length) out.push('', textTable(cmp.head, cmp.rows.map((row) => row.map(plain))));
  out.push(`  Report: ${reportPath}\n`);
  return out.join('\n');
}

/** Report text → terminal text: drops Markdown emphasis and code marks, keeps link texts. */
function plain(s: string): string {
  return s.replace(/\*\*([^*]+)\*\*/g, '$1').replace(/`([^`]+)`/g, '$1').replace(/\[([^\]]+)\]\([^)]+\)/g, '$1');
}
