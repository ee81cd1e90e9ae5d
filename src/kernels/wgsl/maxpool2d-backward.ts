/**
 * Max pooling backward in gather form (deterministic, no atomics): one invocation per input element visits the few
 * outputs whose window can contain it (⌈k/stride⌉ per axis) and sums the gradients of those whose index chose it.
 * Overlapping windows (stride < kernel) are therefore handled exactly.
 * Uniforms: maxpool2d.ts's `poolUniforms`, with n = the inputs (N·C·H·W).
 */
import { type PoolUniform, poolUniforms } from './maxpool2d.js';
import { type KernelProgram, kernelProgram, memoKernel } from './program.js';

function source(): KernelProgram<PoolUniform> {
  return kernelProgram({
    key: 'maxpool2d-backward',
    inputs: [{ name: 'gy', type: 'f32' }, { name: 'indices', type: 'i32' }], outputs: [{ name: 'dx', type: 'f32' }],
    uniforms: poolUniforms,
    helpers: `
// The outputs along one axis whose window [o·s − p, o·s − p + k) contains position i: o in [lo, hi].
fn window_range(i: i32, k: i32, s: i32, p: i32, n: i32) -> vec2<i32> {
  let t = i + p;
  let lo = max(0, (t - k + s) / s); // ⌈(t − k + 1) / s⌉ for t − k + 1 ≥ 0; clamped to 0 below
  let hi = min(n - 1, t / s);
  return vec2<i32>(select(0, lo, t - k + 1 >= 0), hi);
}`,
    entry: { elementwise: `
    let H = u.H; let W = u.W; let OH = u.OH; let OW = u.OW;
    let iw = i32(idx % W); let ih = i32((idx / W) % H); let plane = idx / (W * H);
    let me = ih * i32(W) + iw;
    let rh = window_range(ih, i32(u.kH), i32(u.strideH), i32(u.padH), i32(OH));
    let rw = window_range(iw, i32(u.kW), i32(u.strideW), i32(u.padW), i32(OW));
    let ob = plane * OH * OW;
    var acc = 0.0;
    for (var oh = rh.x; oh <= rh.y; oh++) {
      for (var ow = rw.x; ow <= rw.y; ow++) {
        let o = ob + u32(oh * i32(OW) + ow);
        if (indices[o] == me) { acc += gy[o]; }
      }
    }
    dx[idx] = acc;` },
  });
}

export const maxPool2dBackwardKernel = memoKernel(source);
