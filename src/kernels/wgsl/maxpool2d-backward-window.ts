/**
 * Max pooling backward when windows tile the input without overlap (stride = kernel, no padding — every pool in the
 * experiments): one invocation per output writes its whole window of dx, the gradient where the index points and 0
 * elsewhere. No atomics and no search, and a quarter of the invocations of the gather form for 2×2 pools. The last
 * row/column of windows also zeroes the strip that floor mode leaves uncovered.
 * Parameters: 0 outputs (N·C·outH·outW), 1 H, 2 W, 3 outH, 4 outW, 5 kH, 6 kW.
 */
import { type KernelSpec, bindings, mainElementwise, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;

function source(): KernelSpec {
  return {
    key: 'maxpool2d-backward-window',
    inputs: 2,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'gy', type: 'f32' }, { name: 'indices', type: 'i32' }], [{ name: 'dx', type: 'f32' }])}
${mainElementwise(WG, `
    let H = P(1u); let W = P(2u); let OH = P(3u); let OW = P(4u); let kH = P(5u); let kW = P(6u);
    let ow = idx % OW; let oh = (idx / OW) % OH; let plane = idx / (OW * OH);
    let g = gy[idx];
    let at = u32(indices[idx]);
    let r1 = select((oh + 1u) * kH, H, oh + 1u == OH);
    let c1 = select((ow + 1u) * kW, W, ow + 1u == OW);
    let xb = plane * H * W;
    for (var r = oh * kH; r < r1; r++) {
      for (var c = ow * kW; c < c1; c++) {
        let i = r * W + c;
        dx[xb + i] = select(0.0, g, i == at);
      }
    }`)}`,
  };
}

export const maxPool2dBackwardWindowKernel = memoKernel(source);
