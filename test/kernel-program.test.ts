/**
 * The kernel program object (src/kernels/wgsl/program.ts): the uniform layout follows the declared names, the
 * dispatch rule follows the entry point, and a dispatch that misses a uniform is refused before anything is recorded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelProgram, workgroupsFor } from '../src/kernels/wgsl/program.js';
import { elementwiseProgram } from '../src/kernels/wgsl/common.js';
import { GpugradError } from '../src/core/errors.js';
import { fillKernel } from '../src/kernels/wgsl/fill.js';
import { g, webgpuAvailable } from './helpers.js';

test('uniforms take consecutive words in declaration order; arrays take one word each', () => {
  const p = elementwiseProgram({ key: 't:layout', inputs: [{ name: 'a', type: 'f32' }], outputs: [{ name: 'o', type: 'f32' }],
    operands: 1, extra: { scale: 'f32' }, body: 'o[idx] = a[idx];' });
  assert.equal(p.uniforms.map((s) => [s.name, s.word, s.length, s.float]),
    [['n', 0, 1, false], ['shape', 1, 6, false], ['off0', 7, 1, false], ['str0', 8, 6, false], ['scale', 14, 1, true]]);
  assert.match(p.source, /struct Uniforms \{ n: u32, shape_0: u32, .*shape_5: u32, off0: u32, str0_0: u32, .*scale: f32 \}/);
});

test('the dispatch rule follows the entry point', () => {
  const io = { inputs: [], outputs: [{ name: 'o', type: 'f32' }], uniforms: { n: 'u32' } } as const;
  const ew = kernelProgram({ key: 't:ew', ...io, entry: { elementwise: '' } });
  assert.is(workgroupsFor(ew, 64 * 8 + 1), 2, '64 invocations × 8 elements per workgroup');
  const lin = kernelProgram({ key: 't:lin', ...io, workgroupSize: 32, entry: { linear: '' } });
  assert.is(workgroupsFor(lin, 65), 3);
  const per = kernelProgram({ key: 't:wg', ...io, entry: { custom: () => '', dispatch: 'workgroup' } });
  assert.is(workgroupsFor(per, 7), 7);
  const one = kernelProgram({ key: 't:one', ...io, entry: { custom: () => '', dispatch: 'single' } });
  assert.is(workgroupsFor(one, 1000), 1);
});

test('an elementwise entry without n, or too many uniform words, is an internal error', () => {
  assert.throws(() => kernelProgram({ key: 't:no-n', inputs: [], outputs: [], uniforms: { m: 'u32' }, entry: { elementwise: '' } }),
    (e: unknown) => e instanceof GpugradError && /needs a uniform 'n'/.test(e.message));
  assert.throws(() => kernelProgram({ key: 't:big', inputs: [], outputs: [], uniforms: { a: ['u32', 65] }, entry: { linear: '' } }),
    (e: unknown) => e instanceof GpugradError && /declares 65 uniform words/.test(e.message));
});

test('a dispatch missing a uniform is refused before it is recorded', async () => {
  if (!webgpuAvailable()) return;
  const rt = g.webgpuRuntime()!;
  const buf = rt.storage.acquire(16);
  try {
    const before = rt.stats.dispatches;
    assert.throws(() => rt.dispatch(fillKernel('f32'), [buf], { n: 4 } as never, 4),
      (e: unknown) => e instanceof GpugradError && /fill:f32 needs the uniform 'bits'/.test(e.message));
    assert.is(rt.stats.dispatches, before);
    rt.dispatch(fillKernel('f32'), [buf], { n: 4, bits: new Uint32Array(new Float32Array([2.5]).buffer)[0] }, 4);
    assert.equal([...new Float32Array(await rt.read(buf, 16))], [2.5, 2.5, 2.5, 2.5]);
  } finally {
    rt.storage.release(buf);
  }
});

test.run();
