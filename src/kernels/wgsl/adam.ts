/**
 * One Adam step for a whole parameter tensor in a single kernel: coupled L2 weight decay (as PyTorch's Adam),
 * both moments and the bias-corrected update, in place. Uniforms: n the length, then (f32) lr, beta1, beta2,
 * eps, weightDecay, bc1 = 1 − beta1^t, bc2 = 1 − beta2^t.
 */
import { kernelProgram, memoKernel } from './program.js';

function adamKernelSource() {
  return kernelProgram({
    key: 'adam',
    inputs: [{ name: 'grad', type: 'f32' }], outputs: [{ name: 'param', type: 'f32' }, { name: 'm', type: 'f32' }, { name: 'v', type: 'f32' }],
    uniforms: { n: 'u32', lr: 'f32', beta1: 'f32', beta2: 'f32', eps: 'f32', weightDecay: 'f32', bc1: 'f32', bc2: 'f32' },
    entry: { elementwise: `
  let lr = u.lr; let b1 = u.beta1; let b2 = u.beta2; let eps = u.eps; let wd = u.weightDecay;
  let bc1 = u.bc1; let bc2 = u.bc2;
  let p = param[idx];
  let g = grad[idx] + wd * p;
  let mi = b1 * m[idx] + (1.0 - b1) * g;
  let vi = b2 * v[idx] + (1.0 - b2) * g * g;
  m[idx] = mi;
  v[idx] = vi;
  param[idx] = p - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);`, perInvocation: 1 },
  });
}

export const adamKernel = memoKernel(adamKernelSource);
