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

test.run();
