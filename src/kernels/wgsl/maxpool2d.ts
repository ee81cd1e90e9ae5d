/**
 * Max pooling forward: one invocation per output element scans its window and writes the maximum and its index in
 * the input plane (ih·W + iw). Rules as PyTorch: padding never wins, the first maximum in scan order wins ties (strict
 * `>`), and a NaN wins over numbers.
 * Parameters: 0 outputs (N·C·outH·outW), 1 H, 2 W, 3 outH, 4 outW, 5 kH, 6 kW, 7 strideH, 8 strideW, 9 padH, 10 padW.
 */
import { type KernelSpec, bindings, mainElementwise, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;

function source(): KernelSpec {
  return {
    key: 'maxpool2d',
    inputs: 1,
    outputs: 2,
    source: `${paramsWgsl}
${bindings([{ name: 'x', type: 'f32' }], [{ name: 'out', type: 'f32' }, { name: 'indices', type: 'i32' }])}
${mainElementwise(WG, `
    let H = P(1u); let W = P(2u); let OH = P(3u); let OW = P(4u);
    let ow = idx % OW; let oh = (idx / OW) % OH; let plane = idx / (OW * OH);
    let ih0 = i32(oh * P(7u)) - i32(P(9u));
    let iw0 = i32(ow * P(8u)) - i32(P(10u));
    let xb = plane * H * W;
    var best = -f32_inf();
    var arg = -1;
    for (var kh = 0; kh < i32(P(5u)); kh++) {
      let ih = ih0 + kh;
      if (u32(ih) >= H) { continue; }
      for (var kw = 0; kw < i32(P(6u)); kw++) {
        let iw = iw0 + kw;
        if (u32(iw) >= W) { continue; }
        let at = ih * i32(W) + iw;
        let v = x[xb + u32(at)];
        if (arg < 0 || v > best || (is_nan(v) && !is_nan(best))) { best = v; arg = at; }
      }
    }
    out[idx] = best;
    indices[idx] = arg;`)}`,
  };
}

export const maxPool2dKernel = memoKernel(source);
