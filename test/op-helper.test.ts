/**
 * The op-test helper (testOp in ./helpers.ts) must catch a wrong forward, a wrong first derivative and a wrong second
 * derivative on any device: each function below is right in float64 (the reference) and wrong in float32 (every
 * device under test) in exactly one order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { g, randomArray, testOp } from './helpers.js';

const input = [{ data: randomArray(5, 1), shape: [5] }];
const wrongIn32 = (right: (x: g.Tensor) => g.Tensor, wrong: (x: g.Tensor) => g.Tensor) =>
  (x: g.Tensor) => (x.dtype === 'float32' ? wrong(x) : right(x));

async function caught(what: string, fn: (x: g.Tensor) => g.Tensor, message: RegExp): Promise<void> {
  try {
    await testOp(what, input, fn);
  } catch (e) {
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`${what}: testOp passed a wrong op`);
}

test('a wrong forward is caught', async () => {
  await caught('forward', wrongIn32((x) => x, (x) => x.mul(1.001)), /on cpu: output 0/);
});

test('a wrong first derivative is caught (x·c², c = x detached: the value of x³, a third of its slope)', async () => {
  await caught('first', wrongIn32((x) => x.pow(3), (x) => x.mul(x.detach().square())), /on cpu: d\/dx0:/);
});

test('a wrong second derivative is caught (x³ + 5(x − c)²: the value and slope of x³, curvature +10)', async () => {
  await caught('second', wrongIn32((x) => x.pow(3), (x) => x.pow(3).add(x.sub(x.detach()).square().mul(5))), /on cpu: d²\/dx0·v/);
});

test('a right op passes on every device', async () => {
  await testOp('x³', input, (x) => x.pow(3), { backward: { atol: 1e-5, rtol: 1e-5 } });
});

test.run();
