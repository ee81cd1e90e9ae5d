/**
 * One run's report: draws its figures from results.json (SVG + PNG in the run folder) and writes report.md and
 * report.html with the configuration, the device, our final numbers beside the original’s, the figures and the notes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadExperiment, isExperimentName } from '../experiments/index.js';
import type { Experiment, Results, Value } from '../experiments/types.js';
import { readResults } from '../cli/run-folder.js';
import { packageRoot } from '../cli/version.js';
import { type Block, toHtml, toMarkdown } from './doc.js';
import { REFERENCE, type RefEntry } from './reference.js';
import { int, num, pct } from './format.js';
import { toPng, toSvg } from './render.js';

/** The protocol, linked where the package ships it (a file link: the report is read on the machine that ran it). */
export function protocolLink(): string {
  const root = packageRoot();
  const file = root ? join(root, 'docs', 'protocol.md') : null;
  return file && existsSync(file) ? `[docs/protocol.md](${pathToFileURL(file).href})` : '`docs/protocol.md` (in the gpugrad repository)';
}

/** What "the original homework report" is: said once per page. */
export const ORIGINAL_EXPLAINED = `The *original homework report* is a student's report for this homework (Deep Learning CPSC 8430, Homework 1), with its PyTorch code; the protocol we follow, ${protocolLink()}, quotes its numbers and says where its code measured something other than the task, in which case we also compute the original’s variant.`;

export interface DrawnFigure { name: string; title: string; definition: string; caption: string; svg: string; png: string }

/** Draws every figure of a run into its folder; a figure that fails to draw becomes a note, not a crash. */
export async function drawFigures(dir: string, r: Results, e: Experiment<any>): Promise<{ figures: DrawnFigure[]; problems: string[] }> {
  const figures: DrawnFigure[] = [];
  const problems: string[] = [];
  let specs;
  try {
    specs = e.figures(r);
  } catch (err) {
    return { figures, problems: [`figures could not be computed: ${(err as Error).message}`] };
  }
  const runLabel = `${r.preset} preset, seed ${r.seed}, ${r.device}${r.status === 'finished' ? '' : ` (run ${r.status}: partial)`}`;
  for (const f of specs) {
    try {
      const svg = await toSvg(f, [runLabel]);
      writeFileSync(join(dir, `${f.name}.svg`), svg);
      writeFileSync(join(dir, `${f.name}.png`), toPng(svg));
      figures.push({ name: f.name, title: f.title, definition: f.definition, caption: f.caption ?? '', svg: `${f.name}.svg`, png: `${f.name}.png` });
    } catch (err) {
      problems.push(`figure ${f.name} could not be drawn: ${(err as Error).message}`);
    }
  }
  return { figures, problems };
}

export function formatValue(v: Value | undefined, format: RefEntry['format'] = 'num'): string {
  if (v === undefined || v === null) return '—';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  switch (format) {
    case 'pct': return pct(v, 2);
    case 'int': return int(v);
    default: return num(v);
  }
}

/** Our final numbers beside the original’s, with agreement and the reason where they differ. */
export function comparison(r: Results): { head: string[]; rows: string[][] } {
  const ref = REFERENCE[r.experiment];
  const rows: string[][] = [];
  for (const e of ref?.entries ?? []) {
    const ours = r.final[e.key];
    let verdict = '';
    if (ours === undefined || ours === null) verdict = 'not measured in this run';
    else if (typeof e.seed === 'number' && typeof ours === 'number') {
      const tol = e.tol ?? 0.15;
      const rel = Math.abs(ours - e.seed) / Math.max(Math.abs(e.seed), 1e-300);
      const agrees = tol === 0 ? ours === e.seed : rel <= tol;
      const ratio = e.seed !== 0 && ours / e.seed > 0 ? ` (×${formatValue(ours / e.seed)})` : '';
      verdict = agrees ? 'agrees' : `differs${ratio}`;
      if (r.preset !== 'full' && !e.structural) verdict = `${r.preset} preset, not comparable${ratio ? `: ${ratio.slice(2, -1)} the original’s` : ''}`;
    }
    const why = e.why && r.preset === 'full' && !verdict.startsWith('agrees') ? e.why : '';
    rows.push([e.quantity, formatValue(ours, e.format), typeof e.seed === 'number' ? formatValue(e.seed, e.format) : e.seed, [verdict, why].filter(Boolean).join(': ')]);
  }
  return { head: ['quantity', 'ours', 'original report', 'note'], rows };
}

/** Everything other than the final numbers: the whole `final` table, for the reader who wants it all. */
function finalTable(r: Results): { head: string[]; rows: string[][] } {
  return { head: ['final number', 'value'], rows: Object.entries(r.final).map(([k, v]) => [k, formatValue(v)]) };
}

function configTable(r: Results): { head: string[]; rows: string[][] } {
  const rows = Object.entries(r.config).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  return { head: ['setting', 'value'], rows };
}

/** Which settings differ from the protocol's (the full preset), as `name ours (protocol theirs)`. */
export function settingsDiff(config: Record<string, unknown>, full: Record<string, unknown> | undefined): string[] {
  if (!full) return [];
  const keys = [...new Set([...Object.keys(full), ...Object.keys(config)])];
  const show = (v: unknown) => (v === undefined ? 'all' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return keys.filter((k) => JSON.stringify(config[k]) !== JSON.stringify(full[k])).map((k) => `${k} ${show(config[k])} (protocol: ${show(full[k])})`);
}

export function presetCaveat(r: Results, full?: Record<string, unknown>): string | null {
  const diff = settingsDiff(r.config, full);
  if (r.preset === 'full' && !diff.length) return null;
  const what = diff.length ? `: ${diff.join('; ')}` : ' (see the settings)';
  if (r.preset === 'full') return `Settings changed from the protocol's${what}.`;
  return `This is a **${r.preset}** preset run, smaller than the protocol${what}. Trained numbers are not comparable with the original’s; the qualitative picture and the parameter counts are. Run with \`--preset full\` for the protocol's sizes.`;
}

/** The blocks describing one run; `prefix` is the run folder relative to the page (for the assembled report). */
export function runBlocks(r: Results, figures: DrawnFigure[], problems: string[], prefix = '', level: 1 | 2 = 1, findings: string[] = [], full?: Record<string, unknown>): Block[] {
  const h2 = (level + 1) as 2 | 3;
  const blocks: Block[] = [
    { h: level, text: `${r.section} ${r.title} (\`${r.experiment}\`)`, id: r.experiment },
    { p: `Status **${r.status}**${r.error ? ` (${r.error})` : ''}; preset \`${r.preset}\`, seed ${r.seed}; device ${r.adapter}; gpugrad ${r.library.version}, Node ${r.node}; started ${r.startedAt}; wall time ${formatDuration(r.wallTimeS)}${r.attempts > 1 ? ` over ${r.attempts} attempts (resumed)` : ''}.` },
  ];
  const caveat = presetCaveat(r, full);
  if (caveat) blocks.push({ p: caveat });
  if (findings.length) blocks.push({ h: h2, text: 'What this run showed' }, { list: findings });
  const cmp = comparison(r);
  const figs: Block[] = [{ h: h2, text: 'Figures' }];
  for (const f of figures) {
    figs.push({ figure: { svg: prefix + f.svg, png: prefix + f.png, title: f.title, caption: `${f.title}. Definition: ${f.definition}.${f.caption ? ` ${f.caption}` : ''}` } });
  }
  if (!figures.length) figs.push({ p: 'No figures.' });
  const numbers: Block[] = cmp.rows.length ? [{ h: h2, text: 'Our numbers beside the original report\'s' }, { table: cmp }] : [];
  blocks.push({ columns: [figs, numbers] });
  const notes = [...r.notes, ...(REFERENCE[r.experiment]?.notes ?? []), ...problems];
  if (notes.length) blocks.push({ h: h2, text: 'Notes' }, { list: notes });
  blocks.push({ h: h2, text: 'Settings' }, { table: configTable(r) });
  if (Object.keys(r.final).length) blocks.push({ h: h2, text: 'All final numbers' }, { table: finalTable(r) });
  blocks.push({ p: `Data: [results.json](${prefix}results.json), [metrics.csv](${prefix}metrics.csv).` });
  return blocks;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Draws the figures and writes report.md and report.html into a run folder. */
export async function writeRunReport(dir: string, experiment?: Experiment<any>): Promise<{ results: Results; figures: DrawnFigure[]; problems: string[]; findings: string[]; full: Record<string, unknown> }> {
  const r = readResults(dir);
  let e = experiment;
  if (!e) {
    if (!isExperimentName(r.experiment)) throw new Error(`${dir}: unknown experiment ${r.experiment}`);
    e = await loadExperiment(r.experiment);
  }
  const { figures, problems } = await drawFigures(dir, r, e);
  let findings: string[] = [];
  try {
    findings = e.summarize?.(r) ?? [];
  } catch (err) {
    problems.push(`the summary could not be computed: ${(err as Error).message}`);
  }
  const full = e.presets.full as Record<string, unknown>;
  const blocks = runBlocks(r, figures, problems, '', 1, findings, full);
  writeFileSync(join(dir, 'report.md'), toMarkdown(blocks));
  writeFileSync(join(dir, 'report.html'), toHtml(blocks, `gpugrad ${r.section} ${r.experiment}`));
  return { results: r, figures, problems, findings, full };
}
