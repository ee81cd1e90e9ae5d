/**
 * The command line and the run folder: flags are checked (one line, non-zero exit), results.json and metrics.csv
 * are written as the run goes, and a run stopped part-way resumes from its last finished epoch with its checkpoint.
 * Uses a small stand-in experiment built from core tensor ops, so these tests do not depend on any experiment.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { parse, numberFlag, UsageError } from '../src/cli/args.js';
import { deriveSeed } from '../src/run/context.js';
import { runExperiment, type RunOptions } from '../src/cli/run.js';
import { readResults, toCsv } from '../src/run/folder.js';
import { makeDir, writeAtomic } from '../src/run/files.js';
import { loadMnist } from '../src/experiments/classifiers.js';
import type { Experiment, Results } from '../src/run/types.js';

const bin = join(process.cwd(), 'bin/gpugrad.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], {
  encoding: 'utf8', timeout: 60_000, env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' },
});

test('bad flags: one line on stderr and exit status 2', () => {
  for (const args of [
    ['run', 'fit-functions', '--bogus'],
    ['run', 'fit-functions', '--epochs', 'x'],
    ['run', 'fit-functions', '--epochs', '0'],
    ['run', 'fit-functions', '--lr', '-1'],
    ['run', 'fit-functions', '--preset', 'huge'],
    ['run', 'fit-functions', '--device', 'tpu'],
    ['run', 'mnist-cnns', '--one-by-one'],
    ['run', 'fit-functions', '--set', 'nonsense=1'],
    ['run', 'fit-functions', '--set', 'lr=fast'],
    ['run', 'fit-functions', '--set', 'lr'],
    ['run', 'no-such-experiment'],
    ['run'],
    ['frobnicate'],
    ['list', 'extra'],
  ]) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `${args.join(' ')}: one line, got: ${r.stderr}`);
    assert.match(lines[0], /^gpugrad: .*--help\)$/);
  }
});

test('--help everywhere exits 0 and says what the command does', () => {
  for (const args of [['--help'], ['run', '--help'], ['list', '--help'], ['report', '--help'], ['run', 'all', '-h']]) {
    const r = cli(...args);
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: gpugrad/);
  }
});

test('gpugrad data delegates to the data command', () => {
  const r = cli('data', '--help');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /gpugrad data mnist\|cifar10/);
});

test('list names every experiment, without touching the GPU', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' }; // the build under test, never rebuilt
  delete env.VK_ICD_FILENAMES; // a WebGPU probe would now fail and say so on stderr
  delete env.GPUGRAD_QUIET;
  const r = spawnSync(process.execPath, [bin, 'list'], { encoding: 'utf8', timeout: 60_000, env });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '', 'nothing on stderr: the library was not loaded');
  for (const name of ['fit-functions', 'mnist-cnns', 'minimal-ratio', 'sensitivity']) assert.match(r.stdout, name);
});

test('argument helpers', () => {
  const { values } = parse('run', ['--epochs', '3', '--lr', '1e-3'], { epochs: { type: 'string' }, lr: { type: 'string' } });
  assert.is(numberFlag(values, 'epochs', 'positive-int', 'run'), 3);
  assert.is(numberFlag(values, 'lr', 'positive', 'run'), 1e-3);
  assert.throws(() => numberFlag({ n: '1.5' }, 'n', 'int', 'run'), (e: unknown) => e instanceof UsageError && /integer/.test((e as Error).message));
  assert.is(deriveSeed(0, ['a', 1]), deriveSeed(0, ['a', 1]));
  assert.is.not(deriveSeed(0, ['a', 1]), deriveSeed(1, ['a', 1]));
});

test('metrics.csv: one long table with a series column, quoted where needed', () => {
  const csv = toCsv({ a: [{ step: 0, loss: 1 }], b: [{ step: 0, note: 'x,y' }] });
  assert.is(csv, 'series,step,loss,note\na,0,1,\nb,0,,"x,y"\n');
});

// A stand-in experiment: each "epoch" adds 1 to a state tensor and logs it; it can be told to fail after an epoch.
let failAfter = Infinity;
const seen: number[] = [];
const fake: Experiment<{ epochs: number }> = {
  name: 'fake', section: '0-0', title: 'Stand-in', description: 'test', quickShows: 'nothing (a stand-in)', data: [],
  presets: { full: { epochs: 4 }, quick: { epochs: 4 }, test: { epochs: 4 } },
  flags: { epochs: 'epochs' },
  async run(ctx) {
    for (const name of ['a', 'b']) {
      const unit = ctx.unit(name);
      if (unit.finished) continue;
      const restored = await unit.restore();
      if (restored) assert.equal(Array.from(restored.arrays.history), Array.from({ length: unit.epochsDone }, (_, i) => i + 1), 'host arrays come back');
      let state = restored ? restored.tensors.state : g.zeros([3]);
      for (let e = unit.epochsDone; e < ctx.config.epochs; e++) {
        seen.push(e);
        const next = state.add(1); state.dispose(); state = next;
        ctx.log('epochs', { unit: name, epoch: e + 1, value: (await state.data())[0], rng: ctx.rng(name, e).random() });
        await unit.epochDone(e + 1, { tensors: { state }, arrays: { history: Float32Array.from({ length: e + 1 }, (_, i) => i + 1) }, json: { e } });
        if (name === 'b' && e + 1 >= failAfter) throw new Error('simulated kill');
      }
      ctx.final({ [`${name}.value`]: (await state.data())[0] });
      await unit.finish();
      state.dispose();
    }
  },
  figures: () => [],
};

test('a run folder holds results.json (config, device, metrics, final) and metrics.csv', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gpugrad-cli-')), 'run');
  const opts: RunOptions = { seed: 5, runsDir: 'unused', out, resume: false, preset: 'test' };
  await runExperiment(fake, opts, g.deviceInfo());
  const r: Results = readResults(out);
  assert.is(r.status, 'finished');
  assert.is(r.seed, 5);
  assert.equal(r.config, { epochs: 4 });
  assert.is(r.library.name, 'gpugrad');
  assert.match(r.adapter, /WebGPU|CPU/);
  assert.is(r.series.epochs.length, 8);
  assert.equal(r.final, { 'a.value': 4, 'b.value': 4 });
  assert.ok(r.wallTimeS > 0);
  assert.match(readFileSync(join(out, 'metrics.csv'), 'utf8'), /^series,unit,epoch,value,rng\nepochs,a,1,1,/);
  // --epochs overrides the preset's setting
  const out2 = join(out, '..', 'run2');
  await runExperiment(fake, { ...opts, out: out2, epochs: 2 }, g.deviceInfo());
  assert.is(readResults(out2).series.epochs.length, 4);
});

test('--resume continues from the last finished epoch, with the checkpointed state and the same seeds', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gpugrad-cli-')), 'run');
  const opts: RunOptions = { seed: 1, runsDir: 'unused', out, resume: false, preset: 'test' };
  failAfter = 2;
  seen.length = 0;
  await runExperiment(fake, opts, g.deviceInfo()).then(() => assert.unreachable('should fail'), (e) => assert.match(e.message, 'simulated kill'));
  const killed = readResults(out);
  assert.is(killed.status, 'failed');
  assert.equal(killed.units.a, { epochsDone: 4, finished: true }, 'a finished unit keeps no checkpoint');
  assert.is(killed.units.b.epochsDone, 2);
  const ckpt = join(out, killed.units.b.checkpoint!);
  assert.ok(existsSync(ckpt));
  const saved = await g.load(ckpt); // a plain safetensors file: the library's load reads it
  assert.equal(Array.from(await saved['tensor.state'].data()), [2, 2, 2]);
  failAfter = Infinity;
  seen.length = 0;
  await runExperiment(fake, { ...opts, resume: true }, g.deviceInfo());
  assert.equal(seen, [2, 3], 'unit a is skipped, unit b restarts at epoch 2');
  const r = readResults(out);
  assert.is(r.status, 'finished');
  assert.is(r.attempts, 2);
  assert.equal(r.final, { 'a.value': 4, 'b.value': 4 }, 'the state continued from the checkpoint');
  const rows = r.series.epochs.filter((x) => x.unit === 'b');
  assert.equal(rows.map((x) => x.epoch), [1, 2, 3, 4], 'no epoch logged twice');
  // the same derived seeds as an uninterrupted run
  const fresh = join(out, '..', 'fresh');
  await runExperiment(fake, { ...opts, out: fresh }, g.deviceInfo());
  assert.equal(readResults(fresh).series.epochs.map((x) => x.rng), r.series.epochs.map((x) => x.rng));
  // a second run into a folder that holds one is refused
  await runExperiment(fake, opts, g.deviceInfo()).then(() => assert.unreachable('should refuse'), (e) => assert.match(e.message, /already holds a run/));
});

/** A run of the stand-in stopped after unit b's second epoch (as a kill would leave it, with its lock released). */
async function interruptedRun(seed = 1): Promise<{ out: string; opts: RunOptions }> {
  const out = join(mkdtempSync(join(tmpdir(), 'gpugrad-cli-')), 'run');
  const opts: RunOptions = { seed, runsDir: 'unused', out, resume: false, preset: 'test' };
  failAfter = 2;
  await runExperiment(fake, opts, g.deviceInfo()).then(() => assert.unreachable('should fail'), (e) => assert.match(e.message, 'simulated kill'));
  failAfter = Infinity;
  return { out, opts };
}

test('a missing checkpoint refuses the resume (it used to restart the unit and keep its rows), leaving the folder as it was', async () => {
  const { out, opts } = await interruptedRun();
  const before = readFileSync(join(out, 'results.json'), 'utf8');
  rmSync(join(out, readResults(out).units.b.checkpoint!));
  await runExperiment(fake, { ...opts, resume: true }, g.deviceInfo()).then(() => assert.unreachable('should refuse'),
    (e) => assert.match(e.message, /cannot resume .*: results\.json names checkpoints\/b-e2\.safetensors \(unit b, 2 epochs done\), missing from the folder/));
  assert.is(readFileSync(join(out, 'results.json'), 'utf8'), before, 'results.json untouched');
  assert.not.ok(existsSync(join(out, 'run.lock')), 'the lock is released');
});

test('a resume keeps the seed and preset, applies settings asked for and notes them; leftovers of the killed attempt go', async () => {
  const { out, opts } = await interruptedRun(3);
  // what a kill can leave: temporary files, a superseded checkpoint, a checkpoint written but never named
  writeFileSync(join(out, 'results.json.tmp-99999'), '{');
  writeFileSync(join(out, 'checkpoints', 'b-e1.safetensors'), 'old');
  writeFileSync(join(out, 'checkpoints', 'b-e3.safetensors.tmp-123'), 'half');
  await runExperiment(fake, { ...opts, resume: true, seed: 4 }, g.deviceInfo()).then(() => assert.unreachable('should refuse'),
    (e) => { assert.ok(e instanceof UsageError); assert.match(e.message, /is a run with seed 3; --resume continues it with that seed \(drop --seed 4\)/); });
  await runExperiment(fake, { ...opts, resume: true, seed: undefined, preset: undefined, epochs: 5 }, g.deviceInfo());
  const r = readResults(out);
  assert.is(r.seed, 3);
  assert.is(r.preset, 'test');
  assert.equal(r.config, { epochs: 5 });
  assert.ok(r.notes.includes('Attempt 2 (a resume) changed epochs 4 → 5.'), r.notes.join(' | '));
  assert.equal(readdirSync(join(out, 'checkpoints')), [], 'superseded and unnamed checkpoints removed');
  assert.not.ok(readdirSync(out).some((f) => /\.tmp-\d+$/.test(f)), 'temporary files removed');
});

test('a run that says "running" while no process owns its folder is reported as stopped', async () => {
  const { out } = await interruptedRun();
  const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  writeFileSync(join(out, 'results.json'), JSON.stringify({ ...r, status: 'running' })); // as after SIGKILL or ENOSPC
  const seen = readResults(out);
  assert.is(seen.status, 'failed');
  assert.match(seen.error!, new RegExp(`stopped without finishing .*gpugrad run fake --resume --out ${out} continues it`));
  writeFileSync(join(out, 'run.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), startedAt: '', command: '' }));
  assert.is(readResults(out).status, 'running', 'a live owner: it is running');
});

test('folders that cannot be made are named at once (--out /proc/x hung in a recursive mkdir)', async () => {
  await makeDir('/proc/gpugrad-test/run').then(() => assert.unreachable('should fail'),
    (e) => assert.match(e.message, /cannot create the folder \/proc\/gpugrad-test\/run: \/proc\/gpugrad-test could not be made/));
  const dir = mkdtempSync(join(tmpdir(), 'gpugrad-cli-'));
  writeFileSync(join(dir, 'file'), '');
  await makeDir(join(dir, 'file', 'sub')).then(() => assert.unreachable('should fail'), (e) => assert.match(e.message, /a file of that name is in the way/));
  await makeDir(join(dir, 'a', 'b', 'c'));
  assert.ok(existsSync(join(dir, 'a', 'b', 'c')));
});

test('a failed write leaves no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpugrad-cli-'));
  mkdirSync(join(dir, 'target', 'inside'), { recursive: true }); // a non-empty folder where the file should go
  await writeAtomic(join(dir, 'target'), 'data').then(() => assert.unreachable('should fail'), () => {});
  assert.equal(readdirSync(dir), ['target']);
});

test('--data-dir without MNIST is refused, not replaced by the bundled copy', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'gpugrad-cli-'));
  const ctx = { dataDir: empty, note: () => assert.unreachable('no note: an error') } as unknown as Parameters<typeof loadMnist>[0];
  await loadMnist(ctx, 10, 10).then(() => assert.unreachable('should refuse'),
    (e) => { assert.is(e.name, 'GpugradError'); assert.match(e.message, new RegExp(`--data-dir ${empty} holds no complete MNIST.*leave out --data-dir`)); });
  const missing = join(empty, 'nope');
  await loadMnist({ ...ctx, dataDir: missing } as typeof ctx, 10, 10).then(() => assert.unreachable('should refuse'), (e) => assert.match(e.message, /does not exist/));
});

test('an expected failure of a run prints its message without a stack trace', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gpugrad-cli-')), 'run');
  const r = cli('run', 'mnist-cnns', '--preset', 'test', '--device', 'cpu', '--data-dir', '/nonexistent-gpugrad', '--out', out);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /gpugrad: mnist-cnns failed: --data-dir \/nonexistent-gpugrad does not exist/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
});

test.run();
