/**
 * The one way ops are tested (`testOp`, after tinygrad's helper_test_op), in a form that runs anywhere: the Node
 * suites (through helpers.ts, which adds the check that WebGPU is really there) and the browser page of
 * browser.test.ts. The same function runs on the CPU reference and on every device from the same inputs, and
 * outputs, first and second derivatives are compared elementwise with stated tolerances. It imports the portable API
 * only (src/api.ts), never an entry point, so whichever entry the caller loaded (Node's or the browser's) has
 * installed the platform.
 */
import * as assert from 'uvu/assert';
import * as g from '../src/api.js';
import type { Tensor } from '../src/api.js';

/** Deterministic test data: values in [lo, hi) from a seeded generator. */
export function randomArray(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const gen = new g.Generator(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * gen.random());
}

export function sizeOf(shape: readonly number[]): number { return shape.reduce((a, b) => a * b, 1); }

export interface Tolerance { atol?: number; rtol?: number }

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, what = ''): void {
  const { atol = 1e-5, rtol = 1e-4 } = tol;
  assert.is(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue; // also equal infinities
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) assert.unreachable(`${what}: element ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
  }
}

export interface OpInput { data: ArrayLike<number>; shape: readonly number[]; dtype?: g.DType }

export interface OpTest {
  /** every device's forward against the reference */
  forward?: Tolerance;
  /** first derivatives (a vector-Jacobian product with a random cotangent per output); false: forward only */
  backward?: Tolerance | false;
  /** second derivatives (a Hessian-vector product with a random direction per input); false: none */
  second?: Tolerance | false;
  /** the inputs to differentiate (default: every floating-point input) */
  wrt?: readonly number[];
  /** the reference: the CPU backend in float64 (default), or in float32 (forward-only checks of float32 behaviour —
   *  NaN, infinities, int32 — which float64 would not reproduce) */
  reference?: 'float64' | 'float32';
}

interface OpResult { shapes: (readonly number[])[]; values: Float64Array[] }

/**
 * Runs `fn` on one device in one dtype: the outputs, and (when asked) with a cotangent u_k per float output the first
 * derivatives ∂/∂x_i Σ_k ⟨out_k, u_k⟩, and with a direction v_i per input the second derivatives ∂/∂x_i Σ_i ⟨∂_i, v_i⟩.
 * The cotangents and directions are the same numbers on every device.
 */
async function evaluateOp(device: g.DeviceName, float: g.DType, inputs: readonly OpInput[], fn: (...xs: Tensor[]) => Tensor | Tensor[],
  wrt: readonly number[], order: 0 | 1 | 2): Promise<OpResult> {
  const xs = inputs.map((i, k) => g.tensor(Float64Array.from(i.data), {
    shape: i.shape, dtype: (i.dtype ?? 'float32') === 'int32' ? 'int32' : float, device, requiresGrad: order > 0 && wrt.includes(k),
  }));
  const results = g.tidy(() => {
    const r = fn(...xs);
    const outs = Array.isArray(r) ? r : [r];
    const shown = [...outs];
    if (order > 0) {
      const diff = outs.filter((o) => o.dtype !== 'int32' && o.requiresGrad);
      const us = diff.map((o, k) => g.tensor(Float64Array.from(randomArray(o.size, 1000 + k)), { shape: o.shape, dtype: float, device }));
      const targets = wrt.map((k) => xs[k]);
      const first = diff.length ? g.grad(diff, targets, { gradOutputs: us, createGraph: order > 1, allowUnused: true })
        : targets.map((x) => g.zerosLike(x));
      shown.push(...first);
      if (order > 1) {
        let dot = g.tensor(0, { dtype: float, device });
        first.forEach((d, i) => {
          const v = g.tensor(Float64Array.from(randomArray(d.size, 2000 + i)), { shape: d.shape, dtype: float, device });
          dot = dot.add(d.mul(v).sum());
        });
        shown.push(...(dot.requiresGrad ? g.grad(dot, targets, { allowUnused: true }) : targets.map((x) => g.zerosLike(x))));
      }
    }
    return shown;
  });
  const values = await Promise.all(results.map(async (t) => Float64Array.from(await t.data())));
  const shapes = results.map((t) => t.shape);
  for (const t of [...xs, ...results]) t.dispose();
  return { shapes, values };
}

/**
 * The one way ops are tested (after tinygrad's helper_test_op): `fn` runs on the CPU reference and on every device
 * this process has (`g.availableDevices()`), from the same numbers, and each device's outputs — and, unless
 * `backward: false`, its first and second derivatives — must match the reference's within the stated tolerances
 * (separate for forward and backward: derivatives compound rounding). Returns the reference's outputs.
 */
export async function testOp(what: string, inputs: readonly OpInput[], fn: (...xs: Tensor[]) => Tensor | Tensor[],
  opts: OpTest = {}): Promise<Float64Array[]> {
  const reference = opts.reference ?? 'float64';
  const wrt = opts.wrt ?? inputs.flatMap((i, k) => ((i.dtype ?? 'float32') === 'int32' ? [] : [k]));
  const order = opts.backward === false || wrt.length === 0 ? 0 : opts.second === false ? 1 : 2;
  const ref = await evaluateOp('cpu', reference, inputs, fn, wrt, order);
  const outputs = ref.values.length - wrt.length * order;
  const part = (j: number) => (j < outputs ? { name: `output ${j}`, tol: opts.forward }
    : j < outputs + wrt.length ? { name: `d/dx${wrt[j - outputs]}`, tol: opts.backward || {} }
      : { name: `d²/dx${wrt[j - outputs - wrt.length]}·v`, tol: opts.second || opts.backward || {} });
  for (const device of g.availableDevices()) {
    if (device === 'cpu' && reference === 'float32') continue; // the reference itself
    const got = await evaluateOp(device, 'float32', inputs, fn, wrt, order);
    ref.shapes.forEach((s, j) => {
      const { name, tol } = part(j);
      assert.equal([...got.shapes[j]], [...s], `${what} on ${device}: ${name} shape`);
      assertClose(got.values[j], ref.values[j], tol, `${what} on ${device}: ${name}`);
    });
  }
  return ref.values.slice(0, outputs);
}

/** `testOp` for the forward only, against the float32 CPU reference (dtype behaviour, NaN, kernel variants). */
export async function compareDevices(what: string, inputs: readonly OpInput[], fn: (...xs: Tensor[]) => Tensor | Tensor[],
  tol: Tolerance = {}): Promise<Float64Array[]> {
  return testOp(what, inputs, fn, { forward: tol, backward: false, reference: 'float32' });
}
