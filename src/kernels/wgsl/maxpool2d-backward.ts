/**
 * Max pooling backward in gather form (deterministic, no atomics): one invocation per input element visits the few
 * outputs whose window can contain it (⌈k/stride⌉ per axis) and sums the gradients of those whose index chose it.
 * Overlapping windows (stride < kernel) are therefore handled exactly.
 * Parameters: 0 inputs (N·C·H·W), 1 H, 2 W, 3 outH, 4 outW, 5 kH, 6 kW, 7 strideH, 8 strideW, 9 padH, 10 padW.
 */
import { type KernelSpec, bindings, mainElementwise, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;

function source(): KernelSpec {
  return {
    key: 'maxpool2d-backward',
    inputs: 2,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'gy', type: 'f32' }, { name: 'indices', type: 'i32' }], [{ name: 'dx', type: 'f32' }])}
// The outputs along one axis whose window [o·s − p, o·s − p + k) contains position i: o in [lo, hi].
fn window_range(i: i32, k: i32, s: i32, p: i32, n: i32) -> vec2<i32> {
  let t = i + p;
  let lo = max(0, (t - k + s) / s); // ⌈(t − k + 1) / s⌉ for t − k + 1 ≥ 0; clamped to 0 below
  let hi = min(n - 1, t / s);
  return vec2<i32>(select(0, lo, t - k + 1 >= 0), hi);
}
${mainElementwise(WG, `
    let H = P(1u); let W = P(2u); let OH = P(3u); let OW = P(4u);
    let iw = i32(idx % W); let ih = i32((idx / W) % H); let plane = idx / (W * H);
    let me = ih * i32(W) + iw;
    let rh = window_range(ih, i32(P(5u)), i32(P(7u)), i32(P(9u)), i32(OH));
    let rw = window_range(iw, i32(P(6u)), i32(P(8u)), i32(P(10u)), i32(OW));
    let ob = plane * OH * OW;
    var acc = 0.0;
    for (var oh = rh.x; oh <= rh.y; oh++) {
      for (var ow = rw.x; ow <= rw.y; ow++) {
        let o = ob + u32(oh * i32(OW) + ow);
        if (indices[o] == me) { acc += gy[o]; }
      }
    }
    dx[idx] = acc;`)}`,
  };
}

export const maxPool2dBackwardKernel = memoKernel(source);
