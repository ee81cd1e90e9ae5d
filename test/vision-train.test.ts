/**
 * The vision issue's "done when": a training step of MNIST CNN-A (forward, cross-entropy, backward, Adam) on WebGPU
 * and on wasm agrees with the CPU reference on the loss and every parameter gradient for a fixed batch — and so does the update.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, g, randomArray, testedDevices } from './helpers.js';

const BATCH = 32;

/** CNN-A of docs/protocol.md 1-2, initialised from `seed` on `device`. */
function cnnA(device: g.DeviceName, seed: number): g.Sequential {
  const generator = new g.Generator(seed);
  const o = { generator, device };
  return new g.Sequential(
    new g.Conv2d(1, 10, 3, o), new g.ReLU(), new g.MaxPool2d(2),
    new g.Conv2d(10, 16, 3, o), new g.ReLU(), new g.MaxPool2d(2),
    new g.Flatten(),
    new g.Linear(400, 512, o), new g.ReLU(),
    new g.Linear(512, 256, o), new g.ReLU(),
    new g.Linear(256, 125, o), new g.ReLU(),
    new g.Linear(125, 10, o),
  );
}

interface StepResult { losses: number[]; correct: number; grads: Float32Array[]; updates: Float32Array[]; names: string[] }

/** Two Adam steps on one fixed batch; the gradients of the first step and each parameter's total update. */
async function train(device: g.DeviceName): Promise<StepResult> {
  const model = cnnA(device, 11);
  const names = model.namedParameters().map(([n]) => n);
  const params = model.parameters();
  const before = await Promise.all(params.map(async (p) => Float32Array.from(await p.data())));
  const gen = new g.Generator(5);
  const x = g.tensor(randomArray(BATCH * 28 * 28, 3, 0, 1), { shape: [BATCH, 1, 28, 28], device });
  const y = g.tensor(Int32Array.from({ length: BATCH }, () => gen.int(0, 10)), { shape: [BATCH], dtype: 'int32', device });
  const opt = new g.Adam(params, { lr: 1e-3 });
  const losses: number[] = [];
  let grads: Float32Array[] = [];
  let correct = 0;
  for (let step = 0; step < 2; step++) {
    const scope = g.startScope(); // the step's intermediates are freed at its end (not the gradients or Adam's moments)
    opt.zeroGrad();
    const logits = model.forward(x);
    const loss = g.crossEntropy(logits, y);
    const count = g.countCorrect(logits, y);
    loss.backward();
    losses.push(await loss.item());
    if (step === 0) {
      correct = await count.item();
      grads = await Promise.all(params.map(async (p) => Float32Array.from(await p.grad!.data())));
    }
    opt.step();
    g.endScope(scope);
  }
  const after = await Promise.all(params.map(async (p) => Float32Array.from(await p.data())));
  const updates = after.map((a, i) => a.map((v, j) => v - before[i][j]));
  opt.dispose();
  for (const t of [x, y, ...params]) t.dispose();
  return { losses, correct, grads, updates, names };
}

test('MNIST CNN-A: forward, crossEntropy, backward and two Adam steps agree between WebGPU, wasm and the CPU', async () => {
  const cpu = await train('cpu');
  assert.is(cpu.names.length, 12, 'four conv/linear weights and biases... (12 tensors)');
  assert.ok(cpu.losses[0] > 2 && cpu.losses[0] < 2.6, `an untrained 10-class loss is near ln 10, got ${cpu.losses[0]}`);
  assert.ok(cpu.losses[1] < cpu.losses[0], 'one Adam step on a fixed batch lowers its loss');
  for (const device of testedDevices()) {
    const gpu = await train(device);
    assertClose(gpu.losses, cpu.losses, { atol: 1e-5, rtol: 1e-5 }, `${device}: losses`);
    assert.is(gpu.correct, cpu.correct, `${device}: countCorrect`);
    for (const [i, name] of cpu.names.entries()) {
      const scale = cpu.grads[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(gpu.grads[i], cpu.grads[i], { atol: 1e-4 * scale, rtol: 1e-3 }, `${device}: gradient of ${name}`);
      // Adam's first steps move each weight by about ±lr: compare where the gradient's sign is not in doubt
      const sure = (j: number) => Math.abs(cpu.grads[i][j]) > 1e-3 * scale;
      const idx = [...cpu.grads[i].keys()].filter(sure);
      assertClose(idx.map((j) => gpu.updates[i][j]), idx.map((j) => cpu.updates[i][j]), { atol: 2e-6, rtol: 1e-3 },
        `${device}: Adam update of ${name}`);
    }
  }
});

test.run();
