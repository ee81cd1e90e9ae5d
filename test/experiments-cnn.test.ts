/**
 * The classifier experiments (1-2 MNIST and CIFAR-10, 3-1, 3-2, 3-3 both parts) end to end at `--preset test`, as
 * experiments.test.ts runs the others: results.json finished with metrics and finite final numbers, metrics.csv,
 * every figure a valid SVG naming its definition and a PNG of sensible size, report.md/html. Then what each computes:
 * parameter counts, the original's variant of 3-1 and 3-2 (a new Adam every epoch: the task's first epoch exactly,
 * then apart), the α grid and its end points (θ(0) is θ1, θ(1) is θ2), the input sensitivity against per-sample
 * gradients, and runs interrupted mid-way (an interpolation sweep, 3-1's variant) that resume to the same numbers.
 * CIFAR-10 here is a tiny synthetic folder in the official binary layout, written by the test.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { runExperiment } from '../src/cli/run.js';
import { Context } from '../src/run/context.js';
import { RunFolder, readResults } from '../src/run/folder.js';
import { evaluate, loadMnist, subset, trainWithTestCurve } from '../src/experiments/classifiers.js';
import { type ExperimentName, loadExperiment } from '../src/experiments/index.js';
import { alphaGrid } from '../src/experiments/interpolation.js';
import { flatnessCnn } from '../src/experiments/models.js';
import { inputSensitivity } from '../src/experiments/sensitivity.js';
import type { Experiment, Results, Row, RunContext } from '../src/run/types.js';
import { writeRunReport } from '../src/report/run-report.js';
import { writeCifarFolder } from './data-fixtures.js';
import { assertClose } from './helpers.js';
import { pngSize, svgText } from './report-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'gpugrad-cnn-experiments-'));
const cifarDir = join(root, 'cifar');
writeCifarFolder(cifarDir, 4); // 4 records per batch file: 20 training and 4 test images

/** Runs an experiment at --preset test into root/<out> and checks what every run must leave behind. */
async function runChecked(e: Experiment<any>, out: string, dataDir?: string): Promise<Results> {
  const dir = join(root, out);
  const t0 = performance.now();
  await runExperiment(e, { seed: 0, runsDir: root, out: dir, resume: false, preset: 'test', dataDir }, g.deviceInfo());
  const { figures, problems } = await writeRunReport(dir, e);
  const r = readResults(dir);
  assert.is(r.status, 'finished');
  assert.is(r.experiment, e.name);
  assert.ok(Object.keys(r.series).length > 0 && Object.values(r.series).every((s) => s.length > 0), 'metrics logged');
  assert.ok(Object.values(r.final).every((v) => typeof v !== 'number' || Number.isFinite(v)), `finite final numbers: ${JSON.stringify(r.final)}`);
  const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.match(csv[0], /^series,/);
  assert.ok(csv.length > 1);
  assert.equal(problems, [], 'every figure drawn');
  assert.ok(figures.length === e.figures(r).length && figures.length > 0);
  for (const f of figures) {
    const text = svgText(readFileSync(join(dir, f.svg), 'utf8'));
    assert.ok(text.includes('definition:'), `${f.name} names its definition`);
    const { width, height } = pngSize(readFileSync(join(dir, f.png)));
    assert.ok(width >= 400 && height >= 300 && width < 6000 && height < 6000, `${f.name}.png is ${width}x${height}`);
  }
  assert.ok(existsSync(join(dir, 'report.html')) && existsSync(join(dir, 'report.md')));
  assert.ok((e.summarize?.(r) ?? []).every((s) => typeof s === 'string' && !s.includes('NaN')), 'summary sentences');
  if (process.env.GPUGRAD_TEST_TIMES) console.log(`  ${e.name} (${out}): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

const load = (name: ExperimentName) => loadExperiment(name);
const ofModel = (r: Results, m: string) => (r.series.epochs ?? []).filter((x) => x.model === m);
const isAcc = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;

test('mnist-cnns: CNN-A and CNN-B, one row per epoch, CNN-B also with dropout on (original’s variant)', async () => {
  const e = await load('mnist-cnns');
  const r = await runChecked(e, 'mnist-cnns');
  assert.is(r.final['cnnA.params'], 371581);
  assert.is(r.final['cnnB.params'], 228010);
  const cfg = e.presets.test as { epochs: number };
  for (const m of ['cnnA', 'cnnB']) {
    const rows = ofModel(r, m);
    assert.equal(rows.map((x) => x.epoch), Array.from({ length: cfg.epochs }, (_, i) => i + 1));
    assert.ok(rows.every((x) => isAcc(x.testAcc) && isAcc(x.trainAcc) && Number(x.trainLoss) > 0));
  }
  assert.ok(ofModel(r, 'cnnA').every((x) => x.testAccDropoutOn === undefined), 'CNN-A has no dropout: no original’s variant');
  assert.ok(ofModel(r, 'cnnB').every((x) => isAcc(x.testAccDropoutOn)), 'CNN-B with dropout on');
  assert.ok(isAcc(r.final['cnnB.testAccDropoutOn']));
  assert.ok(r.notes.some((n) => /lr 0\.001; the protocol's is 0\.0001/.test(n)), 'a preset lr other than the protocol\'s is noted');
});

test('cifar-cnns: CNN-1 and CNN-2 on a CIFAR-10 folder in the official binary layout', async () => {
  const e = await load('cifar-cnns');
  const r = await runChecked(e, 'cifar-cnns', cifarDir);
  assert.is(r.final['cnn1.params'], 4210090);
  assert.is(r.final['cnn2.params'], 2299258);
  assert.ok(ofModel(r, 'cnn1').every((x) => isAcc(x.testAccDropoutOn)), 'CNN-1 (dropout) also measured with dropout on');
  assert.ok(ofModel(r, 'cnn2').length > 0 && ofModel(r, 'cnn2').every((x) => x.testAccDropoutOn === undefined));
  const accuracy = e.figures(r).find((f) => f.name === 'accuracy');
  assert.match(String(accuracy?.definition), /CNN-1 measured with dropout on/, 'the figure names the CIFAR model with dropout, not MNIST\'s CNN-B');
});

/**
 * The original's variant beside the task: the same initialisation and batches, so its first epoch (a new Adam in
 * both) is the task's to the bit, and from the second on only the reset optimiser sets it apart.
 */
function assertVariantOfTask(task: readonly Row[], variant: readonly Row[], fields: string[], what: string) {
  const pick = (x: Row | undefined) => JSON.stringify(fields.map((f) => x?.[f]));
  assert.ok(variant.length >= 2, `${what}: the variant trained at least two epochs`);
  assert.is(pick(variant.find((x) => x.epoch === 1)), pick(task.find((x) => x.epoch === 1)), `${what}: epoch 1 of the variant is the task's`);
  assert.is.not(pick(variant.find((x) => x.epoch === 2)), pick(task.find((x) => x.epoch === 2)), `${what}: epoch 2 differs (the optimiser was reset)`);
}

let randomLabels: Results;
test('random-labels: training labels drawn at random, train and test loss per epoch; the original’s variant beside the task', async () => {
  const e = await load('random-labels');
  const r = (randomLabels = await runChecked(e, 'random-labels'));
  assert.ok(Number(r.final['labels.agreeWithTrue']) < 0.5, `random labels mostly differ from the true ones (${r.final['labels.agreeWithTrue']})`);
  const rows = r.series.epochs;
  assert.equal(rows.map((x) => x.epoch), [1, 2]);
  assert.ok(rows.every((x) => Number(x.trainLoss) > 0 && Number(x.testLoss) > 0));
  assert.is(r.final['train.loss.first'], rows[0].trainLoss);
  assert.is(r.final['train.loss.e50'], null, 'a 2-epoch run has no epoch 50');
  const seed = r.series['seed.epochs'];
  assert.equal(seed.map((x) => x.epoch), [1, 2], 'the variant: min(variantEpochs, epochs) epochs, in its own series');
  assertVariantOfTask(rows, seed, ['trainLoss', 'trainAcc', 'testLoss', 'testAcc'], 'random-labels');
  assert.is(r.final['seed.train.loss.final'], seed[1].trainLoss);
  assert.is(r.final['seed.epochs'], 2);
  assert.ok(r.units['cnnA.seed']?.finished, 'the variant is a unit of its own');
  for (const f of e.figures(r)) assert.match(f.definition, /^task .*; dashed, the original’s variant: new Adam every epoch/, `${f.name} names both definitions`);
  assert.match(e.summarize!(r).join(' '), /The original’s variant \(a new Adam every epoch, as its code trained; .*\), 2 epochs: .*At epoch 2 the variant's train loss/);
});

test('random-labels: a run killed in the variant resumes from its checkpoint, resets Adam again, and gives the same rows', async () => {
  const e = await load('random-labels');
  const dir = join(root, 'random-labels-killed');
  // dies logging the variant's second epoch: the task is finished, the variant checkpointed after its first epoch
  await runExperiment(dyingAfter(e, 'seed.epochs', 1), { seed: 0, runsDir: root, out: dir, resume: false, preset: 'test' }, g.deviceInfo())
    .then(() => assert.unreachable('the run should have died'), (err: Error) => assert.match(err.message, /simulated kill/));
  const killed = readResults(dir);
  assert.ok(killed.units.cnnA.finished);
  assert.is(killed.units['cnnA.seed'].epochsDone, 1);
  await runExperiment(e, { seed: 0, runsDir: root, out: dir, resume: true }, g.deviceInfo());
  const r = readResults(dir);
  assert.is(r.status, 'finished');
  assert.is(r.attempts, 2);
  for (const s of ['epochs', 'seed.epochs']) {
    assert.equal(r.series[s].map((x) => JSON.stringify(x)), randomLabels.series[s].map((x) => JSON.stringify(x)), `${s}: the same rows as the run that was not killed`);
  }
  assert.equal(r.final, randomLabels.final);
});

test('params-vs-generalization: every model trained twice, the task and the original’s variant, from one initialisation', async () => {
  const e = await load('params-vs-generalization');
  const r = await runChecked(e, 'params-vs-generalization');
  const names = (e.presets.test as { models: [number, number][] }).models.map(([a, b]) => `${a}-${b}`);
  for (const s of ['models', 'seed.models']) assert.equal(r.series[s].map((x) => x.model), names, `${s}: one row per model`);
  for (const m of names) {
    const of = (s: string) => r.series[s].filter((x) => x.model === m);
    assertVariantOfTask(of('epochs'), of('seed.epochs'), ['trainLoss', 'trainAcc'], m);
    assert.ok(isAcc(r.final[`seed.${m}.testAcc`]) && isAcc(r.final[`${m}.testAcc`]), `${m}: both test accuracies`);
    assert.ok(r.units[`${m}.seed`]?.finished);
  }
  for (const f of e.figures(r)) assert.match(f.definition, /; dashed, the original’s variant: new Adam every epoch/, `${f.name} names both definitions`);
  assert.match(e.summarize!(r).join(' '), /Test accuracy, variant minus task: 4-8 [+−]/);
});

test('alphaGrid: −1 … 2 with 0 and 1 exactly on the grid', () => {
  const a = alphaGrid(10);
  assert.is(a.length, 31);
  assert.is(a[0], -1);
  assert.is(a[30], 2);
  assert.ok(a.includes(0) && a.includes(1) && a.includes(0.3) && a.includes(-0.7));
  assert.equal(alphaGrid(2), [-1, -0.5, 0, 0.5, 1, 1.5, 2]);
});

let interpolation: Results;
test('interpolation: the sweep over α for each lr; θ(0) and θ(1) are the trained θ1 and θ2', async () => {
  const e = await load('interpolation');
  const r = (interpolation = await runChecked(e, 'interpolation'));
  const cfg = e.presets.test as { lrs: number[]; alphaSteps: number; testSamples: number };
  for (const lr of cfg.lrs) {
    const rows = r.series.alpha.filter((x) => x.lr === lr);
    assert.equal(rows.map((x) => x.alpha), alphaGrid(cfg.alphaSteps), `lr ${lr}: every α once, in order`);
    assert.ok(rows.every((x) => isAcc(x.trainAcc) && isAcc(x.testAcc) && Number(x.trainLoss) > 0));
  }
  // evaluate the saved θ1 and θ2 ourselves: they must give the α = 0 and α = 1 rows
  const folder = await RunFolder.resume(join(root, 'interpolation'));
  const ctx = new Context(folder, r.config, r.seed, r.preset, undefined);
  const mnist = await g.loadMNIST();
  const test = subset(mnist.test, cfg.testSamples);
  const model = flatnessCnn(new g.Generator(1));
  for (const [unit, alpha] of [['lr0.01-theta1', 0], ['lr0.01-theta2', 1]] as const) {
    const saved = await ctx.unit(unit).restore();
    assert.ok(saved, `${unit} keeps its final parameters`);
    model.loadStateDict(saved!.tensors);
    for (const t of Object.values(saved!.tensors)) t.dispose();
    const ours = await evaluate(model, test);
    const row = r.series.alpha.find((x) => x.lr === 0.01 && x.alpha === alpha)!;
    assertClose([ours.loss, ours.acc], [Number(row.testLoss), Number(row.testAcc)], { rtol: 1e-5, atol: 1e-6 });
  }
  model.dispose();
  test.release();
  folder.release();
});

/** The experiment, dying when it logs row number `after + 1` of `series` (what a kill at that moment leaves). */
function dyingAfter(e: Experiment<any>, series: string, after: number): Experiment<any> {
  let logged = 0;
  return {
    ...e,
    run: (ctx: RunContext<any>) => e.run(new Proxy(ctx, {
      get(target, key) {
        if (key === 'log') {
          return (s: string, row: Record<string, unknown>) => {
            if (s === series && ++logged > after) throw new Error('simulated kill');
            target.log(s, row as never);
          };
        }
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    })),
  };
}

test('interpolation: a sweep interrupted mid-way resumes at the last α done and gives the same numbers', async () => {
  const e = await load('interpolation');
  const dir = join(root, 'interpolation-killed');
  // a run that dies after logging 4 rows of the first sweep (the θ's are finished by then)
  const dying = dyingAfter(e, 'alpha', 4);
  await runExperiment(dying, { seed: 0, runsDir: root, out: dir, resume: false, preset: 'test' }, g.deviceInfo())
    .then(() => assert.unreachable('the run should have died'), (err: Error) => assert.match(err.message, /simulated kill/));
  const killed = readResults(dir);
  assert.is(killed.status, 'failed');
  assert.is(killed.units['lr0.01-sweep'].epochsDone, 4);

  await runExperiment(e, { seed: 0, runsDir: root, out: dir, resume: true }, g.deviceInfo());
  const r = readResults(dir);
  assert.is(r.status, 'finished');
  assert.is(r.attempts, 2);
  const strip = (rows: Results['series'][string]) => rows.map((x) => JSON.stringify(x));
  assert.equal(strip(r.series.alpha), strip(interpolation.series.alpha), 'the same rows as the uninterrupted run, each once');
});

test('trainWithTestCurve: a run killed after an epoch resumes with the same dropout masks and gives the same rows', async () => {
  // a small MLP with dropout: the helper reseeds its generator per epoch, so a resumed epoch draws the masks it would have
  const probe: Experiment<{ epochs: number }> = {
    name: 'curve-probe', section: '-', title: 'trainWithTestCurve probe', description: '', quickShows: '', data: ['mnist'],
    presets: { full: { epochs: 3 }, quick: { epochs: 3 }, test: { epochs: 3 } }, flags: {},
    async run(ctx) {
      const { train, test } = await loadMnist(ctx, 12, 8);
      const init = ctx.rng('mlp', 'init'), dropout = new g.Generator(0);
      const model = new g.Sequential(new g.Flatten(), new g.Linear(784, 16, { generator: init }), new g.ReLU(),
        new g.Dropout(0.5, dropout), new g.Linear(16, 10, { generator: init }));
      await trainWithTestCurve(ctx, 'mlp', model, train, test, { epochs: ctx.config.epochs, batchSize: 4, lr: 1e-2, dropout, seedDropoutOn: true });
      model.dispose();
      train.release();
      test.release();
    },
    figures: () => [],
  };
  const whole = join(root, 'curve-whole'), killed = join(root, 'curve-killed');
  await runExperiment(probe, { seed: 5, runsDir: root, out: whole, resume: false, preset: 'test' }, g.deviceInfo());
  await runExperiment(dyingAfter(probe, 'epochs', 1), { seed: 5, runsDir: root, out: killed, resume: false, preset: 'test' }, g.deviceInfo())
    .then(() => assert.unreachable('the run should have died'), (err: Error) => assert.match(err.message, /simulated kill/));
  assert.is(readResults(killed).units.mlp.epochsDone, 1);
  await runExperiment(probe, { seed: 5, runsDir: root, out: killed, resume: true }, g.deviceInfo());
  const a = readResults(whole).series.epochs, b = readResults(killed).series.epochs;
  assert.equal(b.map((x) => x.epoch), [1, 2, 3]);
  assert.ok(a.every((x) => x.testAccDropoutOn !== undefined && x.testLoss !== x.testLossDropoutOn), 'dropout on changes the test loss');
  assert.equal(b.map((x) => JSON.stringify(x)), a.map((x) => JSON.stringify(x)), 'the same rows as the run that was not killed');
});

test('inputSensitivity: ‖∂L/∂X‖_F of the mean loss and the per-sample mean, against one-sample gradients', async () => {
  const mnist = await g.loadMNIST();
  const ds = subset(mnist.test, 6);
  const model = flatnessCnn(new g.Generator(3));
  const perSample: number[] = [];
  for (const { x, y } of new g.DataLoader(ds, { batchSize: 1 })) {
    const [dx] = g.grad((xi) => g.F.crossEntropy(model.forward(xi), y), [x]);
    perSample.push(Math.sqrt(Array.from(await dx.data()).reduce((s, v) => s + v * v, 0)));
    for (const t of [x, y, dx]) t.dispose();
  }
  const expected = {
    task: Math.sqrt(perSample.reduce((s, v) => s + v * v, 0)) / perSample.length,
    perSample: perSample.reduce((s, v) => s + v, 0) / perSample.length,
  };
  // the whole set as one batch: the gradient of its mean loss directly
  const [batch] = [...new g.DataLoader(ds, { batchSize: 6 })];
  const [dX] = g.grad((x) => g.F.crossEntropy(model.forward(x), batch.y), [batch.x]);
  const direct = Math.sqrt(Array.from(await dX.data()).reduce((s, v) => s + v * v, 0));
  dX.dispose();
  batch.dispose();
  assertClose([direct], [expected.task], { rtol: 1e-4 });
  for (const bs of [6, 4, 1]) {
    const got = await inputSensitivity(model, ds, bs);
    assertClose([got.task, got.perSample], [expected.task, expected.perSample], { rtol: 1e-4 });
  }
  assert.ok(expected.perSample > expected.task, 'the per-sample mean is not scaled down by 1/N');
  model.dispose();
  ds.release();
});

test('sensitivity: one row per batch size with the task sensitivities and the original’s variant apart', async () => {
  const e = await load('sensitivity');
  const r = await runChecked(e, 'sensitivity');
  const cfg = e.presets.test as { batchSizes: number[] };
  assert.equal(r.series.batches.map((x) => x.batchSize), cfg.batchSizes);
  for (const x of r.series.batches) {
    assert.ok(Number(x.sensitivity) > 0 && Number(x.sensitivityPerSample) > Number(x.sensitivity), 'task sensitivities');
    assert.ok(Number(x.seedSensitivity) > 0, 'original’s variant: parameter-gradient norm of the last batch');
    assert.ok(isAcc(x.testAcc) && isAcc(x.trainAcc));
  }
  const figs = e.figures(r);
  assert.ok(figs.some((f) => f.definition.startsWith('original’s variant')) && figs.some((f) => f.definition.startsWith('task')));
});

test.run();
