/**
 * Max pooling forward: one invocation per output element scans its window and writes the maximum and its index in
 * the input plane (ih·W + iw). Rules as PyTorch: padding never wins, the first maximum in scan order wins ties (strict
 * `>`), and a NaN wins over numbers.
 * Uniforms (`poolUniforms`): n the outputs (N·C·outH·outW), the input plane H×W, the output plane OH×OW, the window, stride
 * and padding.
 */
import { type KernelProgram, kernelProgram, memoKernel } from './program.js';

/** The uniforms of the max-pool kernels (`n`: the elements the kernel runs over, which each kernel states). */
export const poolUniforms = {
  n: 'u32', H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', kH: 'u32', kW: 'u32', strideH: 'u32', strideW: 'u32', padH: 'u32', padW: 'u32',
} as const;
export type PoolUniform = keyof typeof poolUniforms;

function source(): KernelProgram<PoolUniform> {
  return kernelProgram({
    key: 'maxpool2d',
    inputs: [{ name: 'x', type: 'f32' }], outputs: [{ name: 'out', type: 'f32' }, { name: 'indices', type: 'i32' }],
    uniforms: poolUniforms,
    entry: { elementwise: `
    let H = u.H; let W = u.W; let OH = u.OH; let OW = u.OW;
    let ow = idx % OW; let oh = (idx / OW) % OH; let plane = idx / (OW * OH);
    let ih0 = i32(oh * u.strideH) - i32(u.padH);
    let iw0 = i32(ow * u.strideW) - i32(u.padW);
    let xb = plane * H * W;
    var best = -f32_inf();
    var arg = -1;
    for (var kh = 0; kh < i32(u.kH); kh++) {
      let ih = ih0 + kh;
      if (u32(ih) >= H) { continue; }
      for (var kw = 0; kw < i32(u.kW); kw++) {
        let iw = iw0 + kw;
        if (u32(iw) >= W) { continue; }
        let at = ih * i32(W) + iw;
        let v = x[xb + u32(at)];
        if (arg < 0 || v > best || (is_nan(v) && !is_nan(best))) { best = v; arg = at; }
      }
    }
    out[idx] = best;
    indices[idx] = arg;` },
  });
}

export const maxPool2dKernel = memoKernel(source);
