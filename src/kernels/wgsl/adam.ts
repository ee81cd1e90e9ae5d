/**
 * One Adam step for a whole parameter tensor in a single kernel: coupled L2 weight decay (as PyTorch's Adam),
 * both moments and the bias-corrected update, in place. Parameters: 0 = length, 1..7 = lr, beta1, beta2, eps,
 * weightDecay, bc1 = 1 − beta1^t, bc2 = 1 − beta2^t (f32).
 */
import { type KernelSpec, bindings, main1d, paramsWgsl, memoKernel } from './common.js';

export const WG = 64;

function adamKernelSource(): KernelSpec {
  return {
    key: 'adam',
    inputs: 1,
    outputs: 3,
    source: `${paramsWgsl}
${bindings([{ name: 'grad', type: 'f32' }], [{ name: 'param', type: 'f32' }, { name: 'm', type: 'f32' }, { name: 'v', type: 'f32' }])}
${main1d(WG)}
  if (idx >= P(0u)) { return; }
  let lr = Pf(1u); let b1 = Pf(2u); let b2 = Pf(3u); let eps = Pf(4u); let wd = Pf(5u);
  let bc1 = Pf(6u); let bc2 = Pf(7u);
  let p = param[idx];
  let g = grad[idx] + wd * p;
  let mi = b1 * m[idx] + (1.0 - b1) * g;
  let vi = b2 * v[idx] + (1.0 - b2) * g * g;
  m[idx] = mi;
  v[idx] = vi;
  param[idx] = p - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}`,
  };
}

export const adamKernel = memoKernel(adamKernelSource);
