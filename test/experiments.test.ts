/**
 * Every experiment end to end at `--preset test` on the test device (SwiftShader's WebGPU in CI): results.json is
 * finished and holds metrics and final numbers, metrics.csv has rows, every figure is a valid SVG with its definition
 * label and a PNG of sensible size, and report.md/html exist. Then a real kill: a `gpugrad run` process is killed
 * with SIGKILL after a checkpoint, and `--resume` continues from that checkpoint to the end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { runExperiment } from '../src/cli/run.js';
import { readResults } from '../src/run/folder.js';
import { EXPERIMENT_NAMES, loadExperiment } from '../src/experiments/index.js';
import { writeRunReport } from '../src/report/run-report.js';
import { pngSize, svgText } from './report-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'gpugrad-experiments-'));
const only = process.env.GPUGRAD_EXPERIMENTS?.split(',');

/**
 * CI has no network and no CIFAR-10: the CIFAR experiment reads a small folder in the official binary layout
 * (records of 1 label byte + 3072 pixel bytes; 8 per file, so 40 training and 8 test images) written here.
 */
function fakeCifar(): string {
  const dir = join(root, 'cifar-data');
  const folder = join(dir, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  const gen = new g.Generator(7);
  for (const file of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
    const bytes = new Uint8Array(8 * 3073);
    for (let r = 0; r < 8; r++) {
      bytes[r * 3073] = r % 10;
      for (let k = 1; k < 3073; k++) bytes[r * 3073 + k] = gen.int(0, 256);
    }
    writeFileSync(join(folder, `${file}.bin`), bytes);
  }
  return dir;
}

for (const name of EXPERIMENT_NAMES) {
  if (only && !only.includes(name)) continue;
  test(`${name} runs end to end at --preset test`, async () => {
    const e = await loadExperiment(name).catch((err: Error) => {
      if (/not implemented yet/.test(err.message)) return null;
      throw err;
    });
    if (!e) { console.log(`  (skipped: ${name} is not implemented yet)`); return; }
    const out = join(root, name);
    const t0 = performance.now();
    const dataDir = e.data.includes('cifar10') ? fakeCifar() : undefined;
    await runExperiment(e, { seed: 0, runsDir: root, out, resume: false, preset: 'test', dataDir }, g.deviceInfo());
    const { figures, problems } = await writeRunReport(out, e);
    const seconds = (performance.now() - t0) / 1000;
    const r = readResults(out);
    assert.is(r.status, 'finished');
    assert.is(r.experiment, name);
    assert.is(r.preset, 'test');
    assert.ok(Object.keys(r.series).length > 0 && Object.values(r.series).every((s) => s.length > 0), 'metrics logged');
    assert.ok(Object.keys(r.final).length > 0, 'final numbers');
    assert.ok(Object.values(r.final).every((v) => typeof v !== 'number' || Number.isFinite(v)), `finite final numbers: ${JSON.stringify(r.final)}`);
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.match(csv[0], /^series,/);
    assert.ok(csv.length > 1);
    assert.equal(problems, [], 'every figure drawn');
    assert.ok(figures.length === e.figures(r).length && figures.length > 0);
    for (const f of figures) {
      const text = svgText(readFileSync(join(out, f.svg), 'utf8'));
      assert.ok(text.includes('definition:'), `${f.name} names its definition`);
      const { width, height } = pngSize(readFileSync(join(out, f.png)));
      assert.ok(width >= 400 && height >= 300 && width < 6000 && height < 6000, `${f.name}.png is ${width}x${height}`);
    }
    assert.ok(existsSync(join(out, 'report.html')) && existsSync(join(out, 'report.md')));
    if (process.env.GPUGRAD_TEST_TIMES) console.log(`  ${name}: ${seconds.toFixed(1)} s`);
  });
}

test('gpugrad report gathers the runs into one page with their figures', () => {
  const r = spawnSync(process.execPath, ['bin/gpugrad.js', 'report', '--runs', root], { env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' }, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const html = readFileSync(join(root, 'report.html'), 'utf8');
  for (const name of EXPERIMENT_NAMES) {
    if (!existsSync(join(root, name, 'results.json'))) continue;
    assert.match(html, `id="${name}"`);
    assert.match(html, new RegExp(`<img src="${name}/[^"]+\\.svg"`));
  }
  assert.match(html, /original report/);
});

test('a run killed after a checkpoint resumes from it (gpugrad run ... --resume)', async () => {
  if (only && !only.includes('resume')) return;
  const out = join(root, 'killed');
  const args = ['bin/gpugrad.js', 'run', 'grad-norm', '--preset', 'test', '--epochs', '100000', '--out', out];
  const child = spawn(process.execPath, args, { env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' }, stdio: 'ignore' });
  const done = () => { try { return readResults(out).units.deep?.epochsDone ?? 0; } catch { return 0; } };
  const t0 = Date.now();
  while (done() < 8 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const killed = readResults(out);
  const at = killed.units.deep.epochsDone;
  assert.ok(at >= 8, `the run reached a checkpoint before the kill (${at})`);
  // SIGKILL leaves no chance to write more: the file still says running, and with no live owner it reads as stopped
  assert.is(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).status, 'running');
  assert.is(killed.status, 'failed');
  assert.match(killed.error ?? '', /stopped without finishing/);

  const r = spawnSync(process.execPath, ['bin/gpugrad.js', 'run', 'grad-norm', '--resume', '--epochs', String(at + 8), '--out', out],
    { env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' }, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /resuming grad-norm/);
  const res = readResults(out);
  assert.is(res.status, 'finished');
  assert.is(res.attempts, 2);
  assert.is(res.preset, 'test', 'the preset of the folder, not the default');
  const its = res.series.steps.map((s) => Number(s.iteration));
  assert.equal(its, Array.from({ length: at + 8 }, (_, i) => i), 'every iteration once, in order: resumed at the checkpoint');
});

test.run();
