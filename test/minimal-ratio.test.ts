/**
 * minimal-ratio batched (one MLPEnsemble for all trainings) against --one-by-one (one Sequential after another): the
 * same networks from the same seeds, so every per-training number and every logged gradient norm must agree within
 * float32 tolerance — including a network that stops early at gradTol while its neighbours go on, and the Hessian
 * spectrum computed from the parameters each one ended with. And where "dead" is judged: at initialisation, after Adam
 * and after minimising ½‖∇L‖².
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

async function run(oneByOne: boolean, set: string[], name = oneByOne ? 'one-by-one' : 'batched', seed = 3) {
  const e = await loadExperiment('minimal-ratio');
  const out = join(root, name);
  await runExperiment(e, { seed, runsDir: root, out, resume: false, preset: 'test', oneByOne, set }, g.deviceInfo());
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

test('dead networks are judged at initialisation, after Adam and after minimising ½‖∇L‖²', async () => {
  // at seed 15 training 0's initial network outputs a constant on the test preset's 20 points: dead from the start,
  // its gradient is exactly 0, so it stays dead through both phases
  const r = await run(false, [], 'dead-at-init', 15);
  const [row] = r.series.trainings ?? [];
  assert.equal([row.deadInit, row.dead, row.deadTask], [true, true, true]);
  assert.equal([r.final['init.dead'], r.final['adam.dead'], r.final['task.dead']], [1, 1, 1]);
  const e = await loadExperiment('minimal-ratio');
  assert.match(e.summarize!(r).join(' '), /of 1 trainings: 1 at initialisation, 1 after 3 Adam steps, 1 after minimising ½‖∇L‖²/);
});

test.run();
