/**
 * `gpugrad report`: one page for all runs under a folder. For each experiment it takes the newest finished run (else
 * the newest), redraws its figures from results.json, and shows them beside the original report's numbers.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EXPERIMENT_NAMES } from '../experiments/index.js';
import type { Results } from '../run/types.js';
import { findRuns, readResults } from '../run/folder.js';
import { type Block, toHtml, toMarkdown } from './doc.js';
import { type DrawnFigure, ORIGINAL_EXPLAINED, formatDuration, runBlocks, writeRunReport } from './run-report.js';

interface Found { dir: string; results: Results }

function pick(runs: Found[]): Found {
  const byTime = [...runs].sort((a, b) => a.results.startedAt.localeCompare(b.results.startedAt));
  const finished = byTime.filter((r) => r.results.status === 'finished');
  return (finished.length ? finished : byTime)[(finished.length ? finished : byTime).length - 1];
}

/** Writes `<runsDir>/report.html` and `report.md`; returns the HTML page's path. */
export async function assembleReport(runsDir: string, opts: { redraw?: boolean } = {}): Promise<string> {
  const groups = new Map<string, Found[]>();
  for (const dir of findRuns(runsDir)) {
    let results: Results;
    try { results = readResults(dir); } catch { continue; }
    const list = groups.get(results.experiment) ?? [];
    list.push({ dir, results });
    groups.set(results.experiment, list);
  }

  const overview: string[][] = [];
  const sections: Block[] = [];
  let total = 0;
  for (const name of EXPERIMENT_NAMES) {
    const runs = groups.get(name);
    if (!runs?.length) { overview.push([name, '—', 'not run', '', '', '']); continue; }
    const chosen = pick(runs);
    let figures: DrawnFigure[] = [];
    let problems: string[] = [];
    let findings: string[] = [];
    let full: Record<string, unknown> | undefined;
    let quickShows: string | undefined;
    let r = chosen.results;
    try {
      if (opts.redraw !== false) ({ results: r, figures, problems, findings, full, quickShows } = await writeRunReport(chosen.dir));
      else figures = [];
    } catch (err) {
      problems = [`the report of ${chosen.dir} could not be written: ${(err as Error).message}`];
    }
    const prefix = `${relative(runsDir, chosen.dir).split('\\').join('/')}/`;
    total += r.wallTimeS;
    overview.push([`[${name}](#${name})`, r.section, r.status, r.preset, formatDuration(r.wallTimeS), `[${prefix}](${prefix}report.html)`]);
    sections.push(...runBlocks(r, figures, problems, prefix, 2, { findings, full, quickShows, explain: false }));
    const others = runs.filter((x) => x !== chosen).map((x) => `${relative(runsDir, x.dir)} (${x.results.status}, ${x.results.preset})`);
    if (others.length) sections.push({ p: `Other runs of ${name}: ${others.join('; ')}.` });
  }

  const blocks: Block[] = [
    { h: 1, text: 'gpugrad: Homework 1, reproduced' },
    { p: `Each experiment as the homework defines it (the task). ${ORIGINAL_EXPLAINED} Every figure names the definition that produced it; each table puts this run's numbers beside the original report's, with the criterion that judges them.` },
    { table: { head: ['experiment', 'section', 'status', 'preset', 'wall time', 'run folder'], rows: overview } },
    { p: `Total wall time of the runs shown: ${formatDuration(total)}.` },
    ...sections,
  ];
  writeFileSync(join(runsDir, 'report.md'), toMarkdown(blocks));
  const page = join(runsDir, 'report.html');
  writeFileSync(page, toHtml(blocks, 'gpugrad: Homework 1'));
  return page;
}
