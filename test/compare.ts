/**
 * The comparison at the heart of the op tests, in a form that runs anywhere (Node and the browser page of
 * browser.test.ts): the same function on the CPU reference and on WebGPU from the same inputs, compared elementwise
 * with a stated tolerance. It imports the portable API only (src/api.ts), never an entry point, so whichever entry
 * the caller loaded (Node's or the browser's) has installed the host.
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

export interface DeviceInput { data: ArrayLike<number>; shape: readonly number[]; dtype?: g.DType }

/**
 * Runs `fn` on the CPU and, when `withWebGPU`, on WebGPU with inputs made from the same numbers, and compares every
 * output. Returns the CPU outputs.
 */
export async function compareDevices(
  what: string,
  inputs: DeviceInput[],
  fn: (...xs: Tensor[]) => Tensor | Tensor[],
  tol: Tolerance = {},
  withWebGPU = true,
): Promise<Float32Array[]> {
  const run = async (device: g.DeviceName) => {
    const xs = inputs.map((i) => g.tensor(Float32Array.from(i.data), { shape: i.shape, dtype: i.dtype ?? 'float32', device }));
    const out = g.tidy(() => { const r = fn(...xs); return Array.isArray(r) ? r : [r]; });
    const shapes = out.map((t) => t.shape);
    const data = await Promise.all(out.map((t) => t.data()));
    for (const t of [...xs, ...out]) t.dispose();
    return { shapes, data: data.map((d) => Float32Array.from(d)) };
  };
  const ref = await run('cpu');
  if (withWebGPU) {
    const got = await run('webgpu');
    ref.shapes.forEach((s, i) => {
      assert.equal([...got.shapes[i]], [...s], `${what}: output ${i} shape`);
      assertClose(got.data[i], ref.data[i], tol, `${what} (output ${i})`);
    });
  }
  return ref.data;
}
