/**
 * The experiments' batched paths: the per-model losses and metrics they use agree with the per-model computations on
 * both devices (float64 on the CPU, float32 on WebGPU), an MLPEnsemble member is initialised exactly as the MNIST MLP,
 * and fit-functions, grad-norm and optimization-path at --preset test give the same series batched as one by one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose, g, randomArray, webgpuAvailable } from './helpers.js';
import { runExperiment } from '../src/cli/run.js';
import { readResults } from '../src/run/folder.js';
import { loadExperiment } from '../src/experiments/index.js';
import { ScalarLog, VectorLog, flatParameters, memberFlatParameters } from '../src/experiments/readback.js';
import { mnistMlp } from '../src/experiments/models.js';
import type { Results, Row } from '../src/run/types.js';

const DEVICES: g.DeviceName[] = ['cpu', 'webgpu', 'wasm'];
/** float64 on the CPU agrees to rounding; float32 on WebGPU to a few ulps of the sums involved */
const TOL: Record<g.DeviceName, { atol: number; rtol: number }> = {
  cpu: { atol: 1e-12, rtol: 1e-10 }, webgpu: { atol: 1e-6, rtol: 1e-5 }, wasm: { atol: 1e-6, rtol: 1e-5 },
};
const dtypeOf = (device: g.DeviceName): g.DType => (device === 'cpu' ? 'float64' : 'float32');

test('the ensemble helpers are part of the public API', () => {
  for (const f of [g.ensembleCrossEntropy, g.ensembleCountCorrect, g.ensembleMaskedMSE]) assert.type(f, 'function');
});

for (const device of DEVICES) {
  test(`${device}: ensembleCrossEntropy equals crossEntropy per model, value and gradient (labels [N, B] and [B])`, async () => {
    if (device === 'webgpu' && !webgpuAvailable()) return;
    const [N, B, C] = [3, 5, 7];
    const dtype = dtypeOf(device);
    const labelsData = Int32Array.from({ length: N * B }, (_, i) => (i * 5 + 3) % C);
    for (const shared of [false, true]) {
      const logits = g.tensor(randomArray(N * B * C, 1, -3, 3), { shape: [N, B, C], device, dtype, requiresGrad: true });
      const labels = g.tensor(shared ? labelsData.subarray(0, B) : labelsData, { shape: shared ? [B] : [N, B], device, dtype: 'int32' });
      const ce = g.ensembleCrossEntropy(logits, labels);
      assert.equal([...ce.shape], [N]);
      ce.sum().backward();
      const [got, grad] = [await ce.data(), await logits.grad!.data()];
      for (let n = 0; n < N; n++) {
        const one = g.tensor(await logits.slice(0, n, n + 1).reshape([B, C]).data(), { shape: [B, C], device, dtype, requiresGrad: true });
        const y = shared ? labels : labels.slice(0, n, n + 1).reshape([B]);
        const alone = g.F.crossEntropy(one, y);
        alone.backward();
        assertClose([got[n]], [await alone.item()], TOL[device], `model ${n} loss (shared labels: ${shared})`);
        assertClose(grad.subarray(n * B * C, (n + 1) * B * C), await one.grad!.data(), TOL[device], `model ${n} gradient`);
        one.dispose(); alone.dispose();
      }
      logits.dispose(); labels.dispose(); ce.dispose();
    }
  });

  test(`${device}: ensembleCountCorrect equals countCorrect per model (ties go to the first maximum)`, async () => {
    if (device === 'webgpu' && !webgpuAvailable()) return;
    const [N, B, C] = [2, 6, 3];
    const data = randomArray(N * B * C, 2);
    data.set([1, 1, 0], 0); // a tie: the first maximum (class 0) is the prediction
    const logits = g.tensor(data, { shape: [N, B, C], device, dtype: dtypeOf(device) });
    const labels = g.tensor(Int32Array.from({ length: N * B }, (_, i) => i % C), { shape: [N, B], device, dtype: 'int32' });
    const got = await g.ensembleCountCorrect(logits, labels).data();
    for (let n = 0; n < N; n++) {
      const want = await g.countCorrect(logits.slice(0, n, n + 1).reshape([B, C]), labels.slice(0, n, n + 1).reshape([B])).item();
      assert.is(got[n], want, `model ${n}`);
    }
  });

  test(`${device}: ensembleMaskedMSE is each model's MSE on its own rows; padding gets no gradient`, async () => {
    if (device === 'webgpu' && !webgpuAvailable()) return;
    const [N, B] = [2, 7];
    const rows = [7, 4]; // model 1 has 4 rows, padded to 7
    const dtype = dtypeOf(device);
    const pred = g.tensor(randomArray(N * B, 3), { shape: [N, B, 1], device, dtype, requiresGrad: true });
    const target = g.tensor(randomArray(N * B, 4), { shape: [N, B, 1], device, dtype });
    const mask = g.tensor(Float64Array.from({ length: N * B }, (_, i) => (i % B < rows[Math.floor(i / B)] ? 1 : 0)), { shape: [N, B], device, dtype });
    const loss = g.ensembleMaskedMSE(pred, target, mask);
    loss.sum().backward();
    const [got, grad] = [await loss.data(), await pred.grad!.data()];
    for (let n = 0; n < N; n++) {
      const p = g.tensor((await pred.data()).slice(n * B, n * B + rows[n]), { shape: [rows[n], 1], device, dtype, requiresGrad: true });
      const t = target.slice(0, n, n + 1).reshape([B, 1]).slice(0, 0, rows[n]);
      const alone = g.F.mseLoss(p, t);
      alone.backward();
      assertClose([got[n]], [await alone.item()], TOL[device], `model ${n} loss`);
      assertClose(grad.subarray(n * B, n * B + rows[n]), await p.grad!.data(), TOL[device], `model ${n} gradient`);
    }
    assert.equal(Array.from(grad.subarray(B + rows[1], 2 * B)), [0, 0, 0], 'padding rows: exactly zero gradient');
  });
}

test('the helpers reject bad shapes with the fix in the message', () => {
  const logits = g.zeros([2, 3, 4], { device: 'cpu' });
  assert.throws(() => g.ensembleCrossEntropy(logits, g.zeros([3], { device: 'cpu' })), /labels must be int32 class indices, got float32/);
  assert.throws(() => g.ensembleCrossEntropy(logits, g.zeros([3, 2], { device: 'cpu', dtype: 'int32' })), /labels must be \[2, 3\] \(one row per model\) or \[3\]/);
  assert.throws(() => g.ensembleCountCorrect(g.zeros([3, 4], { device: 'cpu' }), g.zeros([3], { device: 'cpu', dtype: 'int32' })), /expects logits \[N, B, classes\], got \[3,4\]/);
  assert.throws(() => g.ensembleMaskedMSE(logits, logits, g.ones([2, 4], { device: 'cpu' })), /the mask must be \[2, 3\]/);
});

test('VectorLog reads every pushed [K, N] back in order, one row per push', async () => {
  const log = new VectorLog(2);
  log.push(g.tensor([[1, 2, 3], [4, 5, 6]]));
  assert.not.ok(log.full);
  log.push(g.tensor([[7, 8, 9], [10, 11, 12]]));
  assert.ok(log.full);
  assert.equal(await log.drain(), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]);
  assert.equal(await log.drain(), []);
});

test('drains taken without waiting: each gets the block pushed before it, and they resolve in order', async () => {
  for (const device of DEVICES) {
    if (device === 'webgpu' && !webgpuAvailable()) continue;
    const log = new VectorLog(2), scalars = new ScalarLog(2);
    const order: number[] = [];
    const blocks: Promise<number[][]>[] = [];
    const scalarBlocks: Promise<number[]>[] = [];
    let v = 0;
    for (let b = 0; b < 3; b++) {
      for (let k = 0; k <= b; k++) { v++; log.push(g.tensor([v, -v], { device })); scalars.push(g.tensor(v, { device })); }
      const i = b;
      blocks.push(log.drain().then((r) => { order.push(i); return r; }));
      scalarBlocks.push(scalars.drain());
    }
    assert.equal(await Promise.all(blocks), [[[1, -1]], [[2, -2], [3, -3]], [[4, -4], [5, -5], [6, -6]]], device);
    assert.equal(await Promise.all(scalarBlocks), [[1], [2, 3], [4, 5, 6]], device);
    assert.equal(order, [0, 1, 2], `${device}: blocks resolve in the order they were taken`);
  }
});

test('an ensemble member of sizes [784, 256, 128, 10] is mnistMlp([256, 128]) from the same generator, exactly', async () => {
  const seeds = [5, 6];
  const ens = new g.MLPEnsemble(2, [784, 256, 128, 10], { device: 'cpu', generators: seeds.map((s) => new g.Generator(s)) });
  const flat = await memberFlatParameters(ens.parameters());
  for (const [n, seed] of seeds.entries()) {
    const mlp = mnistMlp([256, 128], new g.Generator(seed)); // default device: the parameters' values, not where they live
    const want = mlp.parameters();
    const got = ens.member(n).parameters();
    assert.equal(got.map((p) => [...p.shape]), want.map((p) => [...p.shape]), 'shapes in parameters() order');
    for (let i = 0; i < want.length; i++) assert.equal(await got[i].data(), await want[i].data(), `model ${n} parameter ${i}`);
    assert.equal(flat[n], await flatParameters(want), 'memberFlatParameters = flatParameters of the model alone');
    mlp.dispose();
  }
  ens.dispose();
});

// ---- the experiments batched vs one by one ------------------------------------------------------------------------

const root = mkdtempSync(join(tmpdir(), 'gpugrad-ensexp-'));

async function run(name: string, oneByOne: boolean, epochs?: number): Promise<Results> {
  const e = await loadExperiment(name as Parameters<typeof loadExperiment>[0]);
  const out = join(root, `${name}-${oneByOne ? 'one-by-one' : 'batched'}${epochs ? `-${epochs}` : ''}`);
  await runExperiment(e, { seed: 0, runsDir: root, out, resume: false, preset: 'test', oneByOne, epochs }, g.deviceInfo());
  const r = readResults(out);
  assert.is(r.status, 'finished');
  assert.is(r.config.oneByOne, oneByOne);
  return r;
}

/** Rows of a series keyed by `keys`, each compared on `fields`; both runs must have exactly the same keys. */
function compareSeries(a: readonly Row[], b: readonly Row[], keys: string[], fields: string[], tol: { atol: number; rtol: number }, what: string) {
  const index = (rows: readonly Row[]) => new Map(rows.map((r) => [keys.map((k) => r[k]).join('|'), r]));
  const [ia, ib] = [index(a), index(b)];
  assert.equal([...ia.keys()].sort(), [...ib.keys()].sort(), `${what}: the same rows`);
  assert.ok(ia.size > 0, `${what}: rows logged`);
  for (const [k, ra] of ia) {
    for (const f of fields) assertClose([Number(ra[f])], [Number(ib.get(k)![f])], tol, `${what} ${k} ${f}`);
  }
}

/**
 * Batched and one by one compute the same maths in float32 with different reductions (batched matmuls, a masked
 * sum instead of a mean, cross-entropy from logSoftmax instead of the fused kernel): each op agrees to a few float32
 * ulps (~1e-7 relative), and over the test presets' few Adam steps (lr ≤ 1e-3) the losses and gradient norms stay
 * within ~1e-6 relative. rtol 1e-4 leaves margin and still catches a wrong init, shuffle or loss (those change the
 * values at the first step by far more).
 */
const SAME = { atol: 1e-6, rtol: 1e-4 };

test('fit-functions at --preset test: batched equals one by one', async () => {
  const [b, o] = [await run('fit-functions', false), await run('fit-functions', true)];
  assert.equal(Object.keys(b.units), ['ensembles']);
  assert.equal(Object.keys(o.units).length, 6 * Number(o.config.seeds), 'every model from every seed');
  compareSeries(b.series.loss, o.series.loss, ['function', 'model', 'iteration'], ['mse'], SAME, 'loss');
  compareSeries(b.series.tail, o.series.tail, ['function', 'model', 'seed', 'iteration'], ['mse'], SAME, 'the last iterations of every seed');
  compareSeries(b.series.final, o.series.final, ['function', 'model', 'seed'], ['mse'], SAME, 'final MSE per seed');
  compareSeries(b.series.prediction, o.series.prediction, ['function', 'model', 'x'], ['y', 'truth'], SAME, 'prediction');
  assert.equal(Object.keys(b.final).sort(), Object.keys(o.final).sort());
  for (const [k, v] of Object.entries(o.final)) {
    if (typeof v === 'number') assertClose([Number(b.final[k])], [v], SAME, k);
    else assert.is(b.final[k], v, k);
  }
});

test('grad-norm at --preset test: batched equals one by one, every run', async () => {
  const [b, o] = [await run('grad-norm', false), await run('grad-norm', true)];
  assert.equal(Object.keys(b.units), ['deep']);
  assert.equal(Object.keys(o.units), ['deep', 'deep-run-1']);
  compareSeries(b.series.steps, o.series.steps, ['iteration'], ['loss', 'gradNorm'], SAME, 'steps (the task)');
  compareSeries(b.series.moreRuns, o.series.moreRuns, ['run', 'iteration'], ['loss', 'gradNorm'], SAME, 'moreRuns');
  assert.equal(b.series.steps.map((r) => r.iteration), Array.from({ length: 8 }, (_, i) => i), 'the task\'s rows in order');
  assert.ok(Number(b.series.moreRuns[0].loss) !== Number(b.series.steps[0].loss), 'run 1 is another initialisation');
  assert.equal(Object.keys(b.final).sort(), Object.keys(o.final).sort());
  const e = await loadExperiment('grad-norm');
  assert.equal(e.figures(b).map((f) => f.name), ['loss-and-grad-norm', 'grad-norm-runs']);
  assert.match(e.summarize!(b).join(' '), /Our addition, 2 independent initialisations/);
  assert.match(e.summarize!(b).join(' '), /This run redrew none/, 'seed 0 redraws nothing, and says so');
});

test('grad-norm says how many initialisations it redrew because they were dead at the start', async () => {
  // at seed 34 the task's (run 0's) first draw outputs a constant on f1; run 1's first draw is alive
  const e = await loadExperiment('grad-norm');
  const out = join(root, 'grad-norm-redraw');
  await runExperiment(e, { seed: 34, runsDir: root, out, resume: false, preset: 'test', oneByOne: false }, g.deviceInfo());
  const r = readResults(out);
  assert.is(r.final.deadInitsSkipped, 1);
  assert.is(r.final['run-1.deadInitsSkipped'], 0);
  assert.match(e.summarize!(r).join(' '), /redrew 1 \(run 0: 1\); each run trained its first live draw/);
});

test('optimization-path at --preset test: batched equals one by one (losses, accuracies, snapshots\' PCA)', async () => {
  const [b, o] = [await run('optimization-path', false), await run('optimization-path', true)];
  assert.equal(Object.keys(b.units), ['runs']);
  assert.equal(Object.keys(o.units), ['run-0', 'run-1']);
  compareSeries(b.series.epochs, o.series.epochs, ['run', 'epoch'], ['loss'], SAME, 'epochs');
  // accuracy counts whole samples: a logit pair equal to float32 rounding may flip one argmax of the 64
  compareSeries(b.series.epochs, o.series.epochs, ['run', 'epoch'], ['acc'], { atol: 1 / 64 + 1e-9, rtol: 0 }, 'epochs');
  // PCA of the snapshots: the same rows; components' signs are arbitrary, so compare |scores|. The displacements after
  // two steps of lr 1e-4 are ~1e-4 against parameters ~5e-2 (float32 ulp ~4e-9): 1e-3 relative covers the rounding.
  for (const series of ['pca', 'pcaDisplacement']) {
    const abs = (rows: readonly Row[]) => rows.map((r) => ({ ...r, pc1: Math.abs(Number(r.pc1)), pc2: Math.abs(Number(r.pc2)) }));
    compareSeries(abs(b.series[series]), abs(o.series[series]), ['part', 'run', 'epoch'], ['pc1', 'pc2', 'loss'], { atol: 1e-6, rtol: 1e-3 }, series);
  }
});

// ---- a batched run killed after a checkpoint resumes from it ------------------------------------------------------
// (grad-norm's batched run is killed and resumed in experiments.test.ts)

const cli = (args: string[]) => ({ args: ['bin/gpugrad.js', ...args], env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' } });

/** Starts a long test-preset run, SIGKILLs it once `unit` has `minDone` epochs checkpointed, resumes it to `more` beyond. */
async function killAndResume(name: string, unit: string, minDone: number, more: number): Promise<{ resumed: Results; at: number }> {
  const out = join(root, `${name}-killed`);
  const c = cli(['run', name, '--preset', 'test', '--epochs', '100000', '--out', out]);
  const child = spawn(process.execPath, c.args, { env: c.env, stdio: 'ignore' });
  const done = () => { try { return readResults(out).units[unit]?.epochsDone ?? 0; } catch { return 0; } };
  const t0 = Date.now();
  while (done() < minDone && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const at = readResults(out).units[unit].epochsDone;
  assert.ok(at >= minDone, `checkpointed ${at} before the kill`);
  const r = cli(['run', name, '--resume', '--epochs', String(at + more), '--out', out]);
  const res = spawnSync(process.execPath, r.args, { env: r.env, encoding: 'utf8', timeout: 60_000 });
  assert.is(res.status, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`resuming ${name}`));
  const resumed = readResults(out);
  assert.is(resumed.status, 'finished');
  assert.is(resumed.attempts, 2);
  return { resumed, at };
}

test('fit-functions batched: killed after a checkpoint, --resume continues to the same curves as an uninterrupted run', async () => {
  const { resumed, at } = await killAndResume('fit-functions', 'ensembles', 8, 4);
  const whole = await run('fit-functions', false, at + 4);
  const keys = (r: Results) => r.series.loss.map((x) => `${x.function}|${x.model}|${x.iteration}`);
  assert.is(new Set(keys(resumed)).size, 6 * (at + 4), 'every iteration of the six trainings once');
  compareSeries(resumed.series.loss, whole.series.loss, ['function', 'model', 'iteration'], ['mse'], SAME, 'loss');
  compareSeries(resumed.series.prediction, whole.series.prediction, ['function', 'model', 'x'], ['y'], SAME, 'prediction');
});

test('optimization-path batched: killed after a checkpoint, --resume keeps the snapshots and continues', async () => {
  const { resumed, at } = await killAndResume('optimization-path', 'runs', 2, 1);
  const whole = await run('optimization-path', false, at + 1);
  assert.is(resumed.series.epochs.length, 2 * (at + 1), 'each run\'s epochs once');
  compareSeries(resumed.series.epochs, whole.series.epochs, ['run', 'epoch'], ['loss'], SAME, 'epochs');
  assert.is(resumed.final.snapshots, 2 * (at + 2), 'every snapshot of both runs, the init\'s included');
  const abs = (rows: readonly Row[]) => rows.map((r) => ({ ...r, pc1: Math.abs(Number(r.pc1)), pc2: Math.abs(Number(r.pc2)) }));
  compareSeries(abs(resumed.series.pca), abs(whole.series.pca), ['part', 'run', 'epoch'], ['pc1', 'pc2'], { atol: 1e-6, rtol: 1e-3 }, 'pca');
});

test.run();
