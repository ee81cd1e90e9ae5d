/**
 * Max pooling backward when windows tile the input without overlap (stride = kernel, no padding — every pool in the
 * experiments): one invocation per output writes its whole window of dx, the gradient where the index points and 0
 * elsewhere. No atomics and no search, and a quarter of the invocations of the gather form for 2×2 pools. The last
 * row/column of windows also zeroes the strip that floor mode leaves uncovered.
 * Uniforms: maxpool2d.ts's `poolUniforms`, with n = the outputs (N·C·outH·outW); stride and padding are not read.
 */
import { type PoolUniform, poolUniforms } from './maxpool2d.js';
import { type KernelProgram, kernelProgram, memoKernel } from './program.js';

function source(): KernelProgram<PoolUniform> {
  return kernelProgram({
    key: 'maxpool2d-backward-window',
    inputs: [{ name: 'gy', type: 'f32' }, { name: 'indices', type: 'i32' }], outputs: [{ name: 'dx', type: 'f32' }],
    uniforms: poolUniforms,
    entry: { elementwise: `
    let H = u.H; let W = u.W; let OH = u.OH; let OW = u.OW; let kH = u.kH; let kW = u.kW;
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
    }` },
  });
}

export const maxPool2dBackwardWindowKernel = memoKernel(source);
