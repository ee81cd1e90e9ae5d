/**
 * Figures and reports: a Vega-Lite chart becomes a valid SVG (with its title, definition label and axis titles as
 * text) and a PNG whose text really is drawn; the report puts our numbers beside the original’s and says where they differ.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { line, melt, panels, scatter, thin } from '../src/run/charts.js';
import { fontFiles, toPng, toSvg } from '../src/report/render.js';
import { comparison, formatValue } from '../src/report/run-report.js';
import { toHtml, toMarkdown } from '../src/report/doc.js';
import { assembleReport } from '../src/report/assemble.js';
import type { Results } from '../src/run/types.js';
import { pngSize, svgText } from './report-helpers.js';

const rows = Array.from({ length: 50 }, (_, i) => ({ step: i, loss: Math.exp(-i / 10), model: i % 2 ? 'deep' : 'shallow' }));

test('a line chart renders to SVG with title, definition, axis titles and legend, and to a PNG', async () => {
  const svg = await toSvg({ name: 'x', title: 'Loss of f1', definition: 'task', spec: line(rows, { x: { field: 'step', title: 'iteration' }, y: { field: 'loss', title: 'MSE', log: true }, color: { field: 'model', title: 'model' } }) }, ['quick preset']);
  const text = svgText(svg);
  for (const s of ['Loss of f1', 'definition: task', 'quick preset', 'iteration', 'MSE', 'deep', 'shallow']) assert.ok(text.includes(s), `${s} in ${text}`);
  const png = toPng(svg);
  const { width, height } = pngSize(png);
  assert.ok(width > 600 && height > 400, `${width}x${height}`);
});

test('PNG text is drawn (a font is found): a text-only SVG gets dark pixels', () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="5" y="30" font-family="sans-serif" font-size="24">Loss 0.1</text></svg>';
  const r = new Resvg(svg, { background: 'white', font: fontFiles().length ? { loadSystemFonts: false, fontFiles: fontFiles(), sansSerifFamily: 'DejaVu Sans', defaultFontFamily: 'DejaVu Sans' } : { loadSystemFonts: true } });
  const px = r.render().pixels;
  let dark = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i] < 128) dark++;
  assert.ok(dark > 50, `only ${dark} dark pixels: no font reached resvg`);
  pngSize(toPng(svg));
});

test('scatter, panels, thin and melt', async () => {
  const spec = panels([
    scatter(rows, { x: { field: 'step', title: 'a' }, y: { field: 'loss', title: 'b' }, color: { field: 'model', title: 'm' }, label: 'model' }),
    line(melt(rows, ['step'], { loss: 'loss' }, 'what'), { x: { field: 'step', title: 'c' }, y: { field: 'value', title: 'd' }, dash: { field: 'what', title: 'w' } }),
  ]);
  svgText(await toSvg({ name: 'p', title: 'Panels', definition: 'original’s variant', spec }));
  const t = thin(rows, 10, 'model');
  assert.ok(t.length <= 22 && t.length >= 18, `${t.length}`);
  assert.is(t.filter((r) => r.model === 'deep').at(-1)!.step, 49, 'keeps the last point');
});

test('reports: our numbers beside the seed\'s, agreement judged, Markdown and HTML', () => {
  const r = { experiment: 'mnist-cnns', preset: 'full', final: { 'cnnA.testAcc': 0.9841, 'cnnB.testAcc': 0.95, 'cnnA.params': 371581 } } as unknown as Results;
  const t = comparison(r);
  const row = (q: string) => t.rows.find((x) => x[0].startsWith(q))!;
  assert.equal(row('CNN-A test').slice(1, 4), ['98.41\u00a0%', '98.37\u00a0%', '×1']);
  assert.match(row('CNN-A test')[4], /^agrees \(criterion: within 0.5 points\)$/);
  assert.match(row('CNN-B test accuracy, last epoch')[4], /^differs \(criterion: within 0.5 points\): .*dropout/);
  assert.match(row('CNN-A parameters')[4], /^agrees \(criterion: equal\)/);
  assert.match(row('CNN-B parameters')[4], /not measured/);
  assert.is(formatValue(4.92e-4, 'exp'), '4.92\u00a0×\u00a010⁻⁴');
  assert.is(formatValue(371581, 'int'), '371\u202f581');
  const blocks = [{ h: 1 as const, text: 'T' }, { table: t }, { p: 'a `b` **c** [d](e.html) <x>' }];
  assert.match(toMarkdown(blocks), /\| CNN-A test accuracy, last epoch \| 98.41\u00a0% \| 98.37\u00a0% \| ×1 \| agrees/);
  const html = toHtml(blocks, 'T');
  assert.match(html, /<code>b<\/code> <strong>c<\/strong> <a href="e.html">d<\/a> &lt;x&gt;/);
  assert.match(html, /class="differs"/);
});

test('verdicts come from a stated criterion that a wrong number fails, with the ratio printed', () => {
  const at = (experiment: string, final: Record<string, number>, preset = 'full', config: Record<string, unknown> = {}) => {
    const t = comparison({ experiment, preset, final, config } as unknown as Results);
    return (q: string) => t.rows.find((x) => x[0].startsWith(q))!;
  };
  // the old tolerance of 1 (relative) called all of these "agrees"
  const fit = at('fit-functions', { 'f2.medium.mse': 6.9e-3, 'f2.medium.mse.min': 1.1e-3, 'f2.medium.mse.max': 2e-2, 'f1.deep.mse': 5e-4, 'f1.deep.mse.min': 3e-4, 'f1.deep.mse.max': 9e-4 });
  assert.match(fit('f2 medium')[4], /^differs \(criterion: inside our seeds' range 0.0011 – 0.02\)/, 'f2 medium 6.9e-3 against 0.373');
  assert.is(fit('f2 medium')[3], '×0.018');
  assert.match(fit('f1 deep')[4], /^agrees \(criterion: inside our seeds' range/);
  const gn = at('grad-norm', { 'gradNorm.start': 1.316, 'loss.final': 4e-4 });
  assert.match(gn('gradient norm at iteration 0')[4], /^differs \(criterion: within ×1.5 either way\)/, '1.316 against 0.74');
  assert.is(gn('gradient norm at iteration 0')[3], '×1.8');
  assert.match(gn('final loss')[4], /^agrees \(criterion: within ×3 either way\)$/);
  // a count of dead networks: two binomial standard deviations (12 of 100: ±6.5)
  const mr = at('minimal-ratio', { trainings: 100, 'task.dead': 13, 'seed.dead': 11, 'dead.loss.mean': 0.0274, 'task.ratio.min': 0.2 }, 'full', { adamSteps: 300 });
  assert.match(mr('dead networks after 300 Adam steps')[4], /^agrees \(criterion: within 2 binomial s.d. of 12 of 100/, 'the label says the steps the run used');
  assert.match(at('minimal-ratio', { trainings: 100, 'seed.dead': 30 }, 'full', { adamSteps: 1000 })('dead networks after 1000 Adam steps')[4], /^differs/);
  // the original counted after Adam only: the task's count after minimising ½‖∇L‖² gets no verdict against its 12
  assert.match(mr('dead networks after minimising ½‖∇L‖² (task)')[4], /^compare by eye$/);
  assert.match(mr('loss of the dead networks (measured')[4], /^differs/, 'a measured dead loss, not Var(f1) from the data: it can disagree');
  assert.match(mr('minimal ratio, alive runs, min')[4], /^not judged: /, 'a different quantity gets no verdict');
  // 3-1 and 3-2: the original's numbers are judged against its variant (a new Adam every epoch); the task's stand beside
  const rl = at('random-labels', { 'seed.train.loss.e50': 1.2, 'seed.test.loss.e50': 2.9, 'train.loss.e50': 1.79, 'test.loss.e50': 2.83 });
  assert.match(rl('train CE at epoch 50 (original’s variant')[4], /^differs \(criterion: within ±0.2\): the same model/, 'a variant that memorised faster than the original’s');
  assert.match(rl('test CE at epoch 50 (original’s variant')[4], /^agrees \(criterion: within ±0.2\)$/);
  assert.match(rl('train CE at epoch 50 (task')[4], /^not judged: one Adam for all epochs/, 'the task is another training: no verdict, however close');
  assert.match(at('random-labels', { 'seed.train.loss.e50': 1.62 })('train CE at epoch 50 (original’s variant')[4], /^agrees/);
  const pvg = at('params-vs-generalization', { 'seed.4-8.testAcc': 0.66, 'seed.32-64.testAcc': 0.9326, 'seed.256-512.testAcc': 0.95, '256-512.testAcc': 0.973 });
  assert.match(pvg('MLP 784-4-8-10 test accuracy (original’s variant')[4], /^differs \(criterion: within \d+ points\)/, '66 % against 77.3 %');
  assert.match(pvg('MLP 784-32-64-10 test accuracy (original’s variant')[4], /^agrees \(criterion: within 1 points\)$/);
  assert.match(pvg('MLP 784-256-512-10 test accuracy (original’s variant')[4], /^differs/, '95 % against 97.3 %');
  assert.match(pvg('MLP 784-256-512-10 test accuracy (task')[4], /^not judged: /, 'the task equal to the original’s number, and still no verdict');
  assert.match(pvg('MLP 784-8-16-10 test accuracy (original’s variant')[4], /^not measured/);
  // at a small preset the verdict says where it was measured
  assert.match(at('mnist-cnns', { 'cnnA.testAcc': 0.25, 'cnnA.params': 371581 }, 'quick')('CNN-A test')[4], /^differs \(criterion: within 0.5 points\), at the quick preset$/);
  assert.match(at('mnist-cnns', { 'cnnA.params': 371581 }, 'quick')('CNN-A parameters')[4], /^agrees \(criterion: equal\)$/);
});

test('gpugrad report assembles the runs it finds into one page (and lists the experiments not run)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpugrad-report-'));
  const run = join(dir, 'mnist-cnns', '2026-01-01T00-00-00Z');
  mkdirSync(run, { recursive: true });
  const results = {
    format: 1, experiment: 'mnist-cnns', section: '1-2', title: 'MNIST CNNs', status: 'failed', preset: 'test', config: { epochs: 1 }, seed: 0,
    device: 'cpu', adapter: 'CPU', library: { name: 'gpugrad', version: '0' }, node: 'v20', startedAt: '2026', updatedAt: '2026',
    wallTimeS: 1, attempts: 1, series: {}, final: { 'cnnA.params': 371581 }, notes: ['a note'], units: {}, savepoint: { rows: {}, finalKeys: [] },
  };
  writeFileSync(join(run, 'results.json'), JSON.stringify(results));
  const page = await assembleReport(dir, { redraw: false });
  const html = readFileSync(page, 'utf8');
  assert.match(html, /mnist-cnns/);
  assert.match(html, /371\u202f581/);
  assert.match(html, /a note/);
  assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /\| fit-functions \| — \| not run/);
});

test.run();
