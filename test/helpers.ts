/**
 * The one way ops are tested (`testOp`): run the same function on the CPU reference and on every device from the same
 * inputs and compare elementwise — outputs, first and second derivatives — with stated tolerances (compare.ts, which
 * the browser page shares). WebGPU must really be there (the real SwiftShader adapter in CI): with
 * GPUGRAD_REQUIRE_WEBGPU=1 a missing adapter fails the suite instead of skipping it.
 */
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import type { Tensor } from '../src/index.js';
import * as compare from './compare.js';
import type { OpInput, OpTest, Tolerance } from './compare.js';

export { g };
export { randomArray, sizeOf, assertClose, type Tolerance, type OpInput, type OpTest } from './compare.js';

export function webgpuAvailable(): boolean {
  if (!g.hasWebGPU() && process.env.GPUGRAD_REQUIRE_WEBGPU === '1') {
    throw new Error('WebGPU is required for the tests (GPUGRAD_REQUIRE_WEBGPU=1) but no adapter was found: ' +
      'run scripts/setup-swiftshader.sh or `npm test`, which sets it up');
  }
  return g.hasWebGPU();
}

/** compare.ts's `testOp` on every device this process has; fails the suite first when WebGPU is required and missing. */
export function testOp(what: string, inputs: readonly OpInput[], fn: (...xs: Tensor[]) => Tensor | Tensor[],
  opts: OpTest = {}): Promise<Float64Array[]> {
  webgpuAvailable();
  return compare.testOp(what, inputs, fn, opts);
}

/** compare.ts's `compareDevices` (the forward only, against the float32 CPU reference), with the same WebGPU check. */
export function compareDevices(what: string, inputs: readonly OpInput[], fn: (...xs: Tensor[]) => Tensor | Tensor[],
  tol: Tolerance = {}): Promise<Float64Array[]> {
  webgpuAvailable();
  return compare.compareDevices(what, inputs, fn, tol);
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

/** The devices checked against the CPU reference: every device this process has but the CPU (WebGPU, wasm). */
export function testedDevices(): g.DeviceName[] {
  webgpuAvailable();
  return g.availableDevices().filter((d) => d !== 'cpu');
}

/** Every device this process has, the CPU reference first. */
export function allDevices(): g.DeviceName[] {
  webgpuAvailable();
  return g.availableDevices();
}
