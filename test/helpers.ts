/**
 * The one way ops are tested: run the same function on the CPU reference and on every other device (WebGPU, wasm)
 * from the same inputs and compare elementwise with a stated tolerance. WebGPU must really be there (the real
 * SwiftShader adapter in CI): with GPUGRAD_REQUIRE_WEBGPU=1 a missing adapter fails the suite instead of skipping it.
 */
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import type { Tensor } from '../src/index.js';

export { g };

export function webgpuAvailable(): boolean {
  if (!g.hasWebGPU() && process.env.GPUGRAD_REQUIRE_WEBGPU === '1') {
    throw new Error('WebGPU is required for the tests (GPUGRAD_REQUIRE_WEBGPU=1) but no adapter was found: ' +
      'run scripts/setup-swiftshader.sh or `npm test`, which sets it up');
  }
  return g.hasWebGPU();
}

/** The devices checked against the CPU reference: WebGPU (when there) and wasm (always). */
export function testedDevices(): g.DeviceName[] {
  return [...(webgpuAvailable() ? ['webgpu' as const] : []), 'wasm'];
}

/** Every device, the CPU reference first. */
export function allDevices(): g.DeviceName[] { return ['cpu', ...testedDevices()]; }

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

/**
 * Runs `fn` on the CPU and on every tested device with inputs made from the same numbers, and compares every output.
 * `inputs` are [data, shape, dtype?] triples. Returns the CPU outputs.
 */
export async function compareDevices(
  what: string,
  inputs: { data: ArrayLike<number>; shape: readonly number[]; dtype?: g.DType }[],
  fn: (...xs: Tensor[]) => Tensor | Tensor[],
  tol: Tolerance = {},
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
  // WebGPU has no float64: float64 cases compare the devices that have it
  const f64 = inputs.some((i) => i.dtype === 'float64');
  for (const device of testedDevices().filter((d) => !(f64 && d === 'webgpu'))) {
    const got = await run(device);
    ref.shapes.forEach((s, i) => {
      assert.equal([...got.shapes[i]], [...s], `${what} on ${device}: output ${i} shape`);
      assertClose(got.data[i], ref.data[i], tol, `${what} on ${device} (output ${i})`);
    });
  }
  return ref.data;
}

/** Asserts that `fn` throws a GpugradError whose message matches `pattern`. */
export function throwsGpugrad(fn: () => unknown, pattern: RegExp, what = ''): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, g.GpugradError, `${what}: expected a GpugradError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, `${what}: message`);
    return;
  }
  assert.unreachable(`${what}: expected an error matching ${pattern}`);
}
