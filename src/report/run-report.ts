/**
 * One run's report: draws its figures from results.json (SVG + PNG in the run folder) and writes report.md and
 * report.html: what the run showed, its figures, then — labelled as such — the original homework report's numbers beside
 * this run's with a verdict from a stated criterion, the notes, the settings (ours marked) and every final number.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadExperiment, isExperimentName } from '../experiments/index.js';
import type { Experiment, Results, Value } from '../run/types.js';
import { readResults } from '../run/folder.js';
import { packageRoot } from '../cli/version.js';
import { type Block, toHtml, toMarkdown } from './doc.js';
import { REFERENCE, type RefEntry } from './reference.js';
import { int, num, pct, sci } from '../run/format.js';
import { judge } from './verdict.js';
import { toPng, toSvg } from './render.js';

/** The protocol, linked where the package ships it (a file link: the report is read on the machine that ran it). */
export function protocolLink(): string {
  const root = packageRoot();
  const file = root ? join(root, 'docs', 'protocol.md') : null;
  return file && existsSync(file) ? `[docs/protocol.md](${pathToFileURL(file).href})` : '`docs/protocol.md` (in the gpugrad repository)';
}

/** What "the original homework report" is: said once per page. */
export const ORIGINAL_EXPLAINED = `“The original homework report” is a student's report for this homework (Deep Learning CPSC 8430, Homework 1), with its PyTorch code; the protocol we follow, ${protocolLink()}, quotes its numbers and says where its code measured something other than the task, in which case we also compute the original’s variant.`;

export interface DrawnFigure { name: string; title: string; definition: string; caption: string; svg: string; png: string }

/** Whether a spec holds any data rows (inline `data.values`, in it or its layers/panels); true when it holds none inline. */
export function hasData(spec: Record<string, unknown>): boolean {
  let inline = false, rows = 0;
  const walk = (s: unknown) => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    const values = (o.data as { values?: unknown[] } | undefined)?.values;
    if (Array.isArray(values)) { inline = true; rows += values.length; }
    for (const k of ['layer', 'concat', 'hconcat', 'vconcat']) if (Array.isArray(o[k])) (o[k] as unknown[]).forEach(walk);
    if (o.spec) walk(o.spec);
  };
  walk(spec);
  return !inline || rows > 0;
}

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
    if (!hasData(f.spec)) {
      if (r.status === 'finished') problems.push(`figure “${f.title}”: nothing was measured for it in this run.`);
      continue; // a stopped run's page says what happened (stoppedText) instead of drawing empty axes
    }
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

/** This run's final numbers beside the original report's: the ratio, and a verdict from a stated criterion. */
export function comparison(r: Results): { head: string[]; rows: string[][] } {
  const ref = REFERENCE[r.experiment];
  const rows: string[][] = [];
  for (const e of ref?.entries ?? []) {
    const ours = r.final[e.key];
    let verdict = '', ratio = '';
    if (ours === undefined || ours === null) verdict = 'not measured in this run';
    else if (typeof e.seed === 'number' && typeof ours === 'number' && e.criterion) {
      const j = judge(ours, e.seed, e.criterion, r.final);
      ratio = j.ratio === null ? '' : `×${j.ratio >= 1e3 ? sci(j.ratio, 2) : num(j.ratio, 2)}`;
      verdict = j.agrees === null ? j.criterion : `${j.agrees ? 'agrees' : 'differs'} (criterion: ${j.criterion})`;
      // a trained number at a small preset: the verdict holds for this run only (the original ran the protocol's sizes)
      if (r.preset !== 'full' && !e.structural && j.agrees !== null) verdict += `, at the ${r.preset} preset`;
      if (j.agrees === false && e.why && r.preset === 'full') verdict += `: ${e.why}`;
    } else verdict = typeof e.seed === 'number' ? 'a setting: no verdict' : 'compare by eye';
    const quantity = typeof e.quantity === 'function' ? e.quantity(r.config) : e.quantity;
    rows.push([quantity, formatValue(ours, e.format), typeof e.seed === 'number' ? formatValue(e.seed, e.format) : e.seed, ratio, verdict]);
  }
  return { head: ['quantity', 'this run', 'original report', 'ratio', 'verdict (criterion)'], rows };
}

/** Every final number, for the reader who wants them all. */
function finalTable(r: Results): { head: string[]; rows: string[][] } {
  return { head: ['final number', 'value'], rows: Object.entries(r.final).map(([k, v]) => [k, formatValue(v)]) };
}

/** The run's settings beside the protocol's, with the ones that are our choices (not the homework's) marked. */
function configTable(r: Results, full: Record<string, unknown> | undefined): { head: string[]; rows: string[][] } {
  const show = (v: unknown) => (v === undefined ? 'all' : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'number' ? num(v) : String(v));
  const ours = REFERENCE[r.experiment]?.ours ?? {};
  const keys = [...new Set([...Object.keys(full ?? {}), ...Object.keys(r.config)])];
  const rows = keys.map((k) => {
    const changed = full && JSON.stringify(r.config[k]) !== JSON.stringify(full[k]);
    const note = [ours[k], changed ? (r.preset === 'full' ? 'changed on the command line' : `the ${r.preset} preset's`) : ''].filter(Boolean).join('; ');
    return [k, show(r.config[k]), full ? show(full[k]) : '', note];
  });
  return { head: ['setting', 'this run', 'protocol (full preset)', 'note'], rows };
}

/** Which settings differ from the protocol's (the full preset), as `name ours (protocol theirs)`. */
export function settingsDiff(config: Record<string, unknown>, full: Record<string, unknown> | undefined): string[] {
  if (!full) return [];
  const keys = [...new Set([...Object.keys(full), ...Object.keys(config)])];
  const show = (v: unknown) => (v === undefined ? 'all' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return keys.filter((k) => JSON.stringify(config[k]) !== JSON.stringify(full[k])).map((k) => `${k} ${show(config[k])} (protocol: ${show(full[k])})`);
}

export function presetCaveat(r: Results, full?: Record<string, unknown>, quickShows?: string): string | null {
  const diff = settingsDiff(r.config, full);
  if (r.preset === 'full' && !diff.length) return null;
  const what = diff.length ? `: ${diff.join('; ')}` : ' (see the settings)';
  if (r.preset === 'full') return `Settings changed from the protocol's${what}.`;
  const promise = r.preset === 'quick' && quickShows ? ` The quick preset is meant to show ${quickShows}.` : '';
  return `A **${r.preset}** preset run, smaller than the protocol${what}.${promise} What it shows is stated for this size; ` +
    `numbers trained at the protocol's size (\`--preset full\`) are what the original report's compare with.`;
}

/** What a run's report says besides its results: computed from the experiment (absent when it cannot be loaded). */
export interface RunContextText {
  findings?: string[];
  /** the protocol's settings (the full preset) */
  full?: Record<string, unknown>;
  /** what the quick preset must show */
  quickShows?: string;
  /** explain "the original homework report" here (false on the assembled page, which explains it once at the top) */
  explain?: boolean;
}

/** What happened to a run that did not finish, in words (instead of empty figures). */
function stoppedText(r: Results): string | null {
  if (r.status === 'finished') return null;
  const units = Object.entries(r.units);
  const done = units.filter(([, u]) => u.finished).length;
  const measured = Object.values(r.series).reduce((n, rows) => n + rows.length, 0);
  const state = r.status === 'running' ? 'is still running, or was stopped without a chance to say so' : 'failed';
  return `**This run ${state}**${r.error ? `: ${r.error}` : '.'} ` +
    (measured ? `It finished ${done} of ${units.length} piece(s) of work before that; the figures show what it measured (partial).`
      : 'It stopped before it measured anything, so there is nothing to draw.') +
    ` \`gpugrad run ${r.experiment} --resume\` continues it from its last checkpoint.`;
}

/** The blocks describing one run; `prefix` is the run folder relative to the page (for the assembled report). */
export function runBlocks(r: Results, figures: DrawnFigure[], problems: string[], prefix = '', level: 1 | 2 = 1, text: RunContextText = {}): Block[] {
  const { findings = [], full, quickShows, explain = true } = text;
  const h2 = (level + 1) as 2 | 3;
  const blocks: Block[] = [
    { h: level, text: `${r.section} ${r.title} (\`${r.experiment}\`)`, id: r.experiment },
    { p: `${r.status === 'finished' ? 'Finished' : r.status === 'failed' ? 'Failed' : 'Not finished'}; ${r.preset} preset, seed ${r.seed}; ${r.adapter}; wall time ${formatDuration(r.wallTimeS)}${r.attempts > 1 ? ` over ${r.attempts} attempts (resumed)` : ''}; gpugrad ${r.library.version}, Node ${r.node}, started ${r.startedAt}.` },
  ];
  const stopped = stoppedText(r);
  if (stopped) blocks.push({ p: stopped });
  const caveat = presetCaveat(r, full, quickShows);
  if (caveat) blocks.push({ p: caveat });
  if (findings.length) blocks.push({ h: h2, text: `What this run showed (${r.preset} preset)` }, { list: findings });
  if (figures.length) {
    blocks.push({ h: h2, text: 'Figures' });
    // the definition is in each figure's subtitle (so a PNG on its own says it): the caption does not repeat it
    for (const f of figures) blocks.push({ figure: { svg: prefix + f.svg, png: prefix + f.png, title: f.title, caption: `${f.title}.${f.caption ? ` ${f.caption}` : ''}` } });
  }
  const cmp = comparison(r);
  const ref = REFERENCE[r.experiment];
  if (cmp.rows.length || ref?.notes.length) {
    blocks.push({ h: h2, text: 'Compared with the original homework report' });
    if (explain) blocks.push({ p: ORIGINAL_EXPLAINED });
    if (ref?.notes.length) blocks.push({ p: 'What the original report found, and where its code measured something else:' }, { list: ref.notes });
    if (cmp.rows.length) blocks.push({ table: cmp });
  }
  const notes = [...r.notes, ...problems];
  if (notes.length) blocks.push({ h: h2, text: 'Notes on this run' }, { list: notes });
  blocks.push({ h: h2, text: 'Settings' }, { table: configTable(r, full) });
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
export async function writeRunReport(dir: string, experiment?: Experiment<any>): Promise<{ results: Results; figures: DrawnFigure[]; problems: string[]; findings: string[]; full: Record<string, unknown>; quickShows: string }> {
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
  const blocks = runBlocks(r, figures, problems, '', 1, { findings, full, quickShows: e.quickShows });
  writeFileSync(join(dir, 'report.md'), toMarkdown(blocks));
  writeFileSync(join(dir, 'report.html'), toHtml(blocks, `gpugrad ${r.section} ${r.experiment}`));
  return { results: r, figures, problems, findings, full, quickShows: e.quickShows };
}
