/**
 * minimal-ratio batched (one MLPEnsemble for all trainings) against --one-by-one (one Sequential after another): the
 * same networks from the same seeds, so every per-training number and every logged gradient norm must agree within
 * float32 tolerance — including a network that stops early at gradTol while its neighbours go on, and the Hessian
 * spectrum computed from the parameters each one ended with.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { runExperiment } from '../src/cli/run.js';
import { readResults } from '../src/run/folder.js';
import { loadExperiment } from '../src/experiments/index.js';
import type { Row } from '../src/run/types.js';
import { FUNCTION_MODELS, mlp } from '../src/experiments/models.js';
import { HessianPool } from '../src/experiments/hessian-spectrum.js';

const root = mkdtempSync(join(tmpdir(), 'gpugrad-minimal-ratio-'));

async function run(oneByOne: boolean, set: string[], name = oneByOne ? 'one-by-one' : 'batched') {
  const e = await loadExperiment('minimal-ratio');
  const out = join(root, name);
  await runExperiment(e, { seed: 3, runsDir: root, out, resume: false, preset: 'test', oneByOne, set }, g.deviceInfo());
  const r = readResults(out);
  assert.is(r.status, 'finished');
  assert.is(r.config.oneByOne, oneByOne);
  return r;
}

const close = (a: unknown, b: unknown, rtol: number, what: string) => {
  if (typeof a !== 'number' || typeof b !== 'number') { assert.equal(a, b, what); return; }
  assert.ok(Math.abs(a - b) <= rtol * (Math.abs(a) + Math.abs(b)) / 2 + 1e-6, `${what}: ${a} vs ${b}`);
};

test('batched trainings equal the same trainings one by one (an early stop included)', async () => {
  // 3 trainings, 40 Adam steps, 12 gradient-norm steps read every 4, and a tolerance that stops some of them early
  // (hessianBatch=2: one group of two networks' Hessians through ensembleHessian, one alone; in batched mode the two
  // groups go to two worker threads, one by one computes them in the main thread)
  const set = ['trainings=3', 'adamSteps=40', 'gradSteps=12', 'readEvery=4', 'gradTol=0.05', 'hessianBatch=2', 'hessianWorkers=2'];
  const b = await run(false, set), o = await run(true, set);
  const key = (r: Row) => `${r.training}`;
  const tb = [...(b.series.trainings ?? [])].sort((p, q) => key(p).localeCompare(key(q)));
  const to = [...(o.series.trainings ?? [])].sort((p, q) => key(p).localeCompare(key(q)));
  assert.is(tb.length, 3);
  assert.is(to.length, 3);
  const steps = new Set(to.map((r) => r.gradSteps));
  assert.ok(steps.size > 1 || [...steps][0] !== 12, `the tolerance should stop some training early, got gradSteps ${[...steps]}`);
  tb.forEach((rb, i) => {
    const ro = to[i];
    for (const k of ['training', 'dead', 'gradSteps', 'nPositive', 'nNegative', 'nNearZero']) assert.equal(rb[k], ro[k], `training ${i} ${k}`);
    for (const k of ['adamLoss', 'adamGradNorm', 'seedRatio', 'taskLoss', 'taskGradNorm', 'lambdaMax']) close(rb[k], ro[k], 2e-3, `training ${i} ${k}`);
  });
  // the Hessians in the main thread, group after group, give the same rows as the worker threads
  const m = await run(false, [...set.filter((kv) => !kv.startsWith('hessianWorkers=')), 'hessianWorkers=1'], 'batched-main-thread');
  const tm = [...(m.series.trainings ?? [])].sort((p, q) => key(p).localeCompare(key(q)));
  assert.equal(tm, tb, 'hessianWorkers=1 vs 2');
  const gkey = (r: Row) => Number(r.training) * 1e6 + Number(r.step);
  const gb = [...(b.series.gmin ?? [])].sort((p, q) => gkey(p) - gkey(q));
  const go = [...(o.series.gmin ?? [])].sort((p, q) => gkey(p) - gkey(q));
  assert.is(gb.length, go.length, 'the same gradient-norm rows');
  gb.forEach((r, i) => { assert.is(gkey(r), gkey(go[i])); close(r.gradNorm, go[i].gradNorm, 2e-3, `gmin ${gkey(r)}`); });
});

test('the Hessian pool: worker threads give the spectra the main thread gives, in order; a failing job rejects', async () => {
  const points = { ...g.f1() };
  const keep = (a: Float64Array) => a.filter((_, k) => k % 50 === 0);
  const { x, y } = g.functionDataset({ ...points, x: keep(points.x), y: keep(points.y) }, { device: 'cpu', dtype: 'float64' });
  const nets = await Promise.all([1, 2, 3].map(async (seed) => {
    const m = mlp(FUNCTION_MODELS.deep, new g.Generator(seed), { device: 'cpu', dtype: 'float64' });
    const p: Record<string, Float64Array> = {};
    for (const [k, t] of m.namedParameters()) p[k] = Float64Array.from(await t.data());
    m.dispose();
    return p;
  }));
  const inThread = new HessianPool(1, x, y, 1e-6);
  const pool = new HessianPool(2, x, y, 1e-6);
  assert.is(inThread.workers, 0);
  assert.is(pool.workers, 2);
  try {
    const live = g.memory().cpu.tensors;
    const want = await Promise.all([inThread.spectra([nets[0]]), inThread.spectra([nets[1], nets[2]])]);
    await inThread.spectra([{ ...nets[0], '2.bias': new Float64Array(3) }]).then(() => assert.unreachable('a bad group must throw'),
      (e: Error) => assert.match(e.message, /network 0 gives 3 values for '2\.bias', the deep model needs 10/));
    assert.is(g.memory().cpu.tensors, live, 'no tensor left behind, after a failure either');
    const got = await Promise.all([pool.spectra([nets[0]]), pool.spectra([nets[1], nets[2]])]);
    assert.equal(got, want, 'the same float64 arithmetic in a worker');
    assert.is(got[1].length, 2);
    assert.ok(got[0][0].nPositive > 0 && got[0][0].nPositive !== got[1][0].nPositive, 'different networks, different spectra');
    const bad = { ...nets[0], '0.weight': new Float64Array(2) }; // the wrong size for the layer
    await pool.spectra([bad]).then(() => assert.unreachable('a bad job must reject'), (e: Error) => assert.match(e.message, /Hessian worker: .*network 0 gives 2 values for '0\.weight', the deep model needs 5/));
    assert.equal(await pool.spectra([nets[0]]), want[0], 'the pool still works after a failed job');
    // a worker thread that dies fails its own group only; the others carry on
    const a = pool.spectra([nets[0]]), b = pool.spectra([nets[1]]);
    await new Promise((r) => setTimeout(r, 50)); // both posted (571 backward passes take far longer than this)
    const [victim] = [...(pool as unknown as { busy: Map<{ terminate(): Promise<number> }, number> }).busy.keys()];
    await victim.terminate();
    const settled = await Promise.allSettled([a, b]);
    const died = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.is(died.length, 1, 'exactly the dead worker\'s group fails');
    assert.match(String(died[0].reason), /a worker thread died while computing this group/);
    assert.is(pool.workers, 1);
    assert.equal(await pool.spectra([nets[2]]), [want[1][1]], 'the remaining worker takes new groups');
  } finally {
    await pool.close();
    x.dispose(); y.dispose();
  }
});

test.run();
