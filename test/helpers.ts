/**
 * The one way ops are tested: run the same function on the CPU reference and on WebGPU from the same inputs and
 * compare elementwise with a stated tolerance (compare.ts, which the browser page shares). WebGPU must really be
 * there (the real SwiftShader adapter in CI): with GPUGRAD_REQUIRE_WEBGPU=1 a missing adapter fails the suite
 * instead of skipping it.
 */
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { type DeviceInput, type Tolerance, compareDevices as compareOnDevices } from './compare.js';

export { g };
export { randomArray, sizeOf, assertClose, type Tolerance } from './compare.js';

export function webgpuAvailable(): boolean {
  if (!g.hasWebGPU() && process.env.GPUGRAD_REQUIRE_WEBGPU === '1') {
    throw new Error('WebGPU is required for the tests (GPUGRAD_REQUIRE_WEBGPU=1) but no adapter was found: ' +
      'run scripts/setup-swiftshader.sh or `npm test`, which sets it up');
  }
  return g.hasWebGPU();
}

/** Runs `fn` on the CPU and on WebGPU (when available) and compares every output; see compare.ts. */
export function compareDevices(what: string, inputs: DeviceInput[], fn: (...xs: Tensor[]) => Tensor | Tensor[],
  tol: Tolerance = {}): Promise<Float32Array[]> {
  return compareOnDevices(what, inputs, fn, tol, webgpuAvailable());
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
