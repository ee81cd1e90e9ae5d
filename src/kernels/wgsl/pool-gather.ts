/**
 * Reads x [N,C,H,W] at a pool's indices: out[plane, o] = x[plane, indices[plane, o]]. The adjoint of max pooling's
 * backward (so second derivatives through a max pool cost one gather).
 * Parameters: 0 outputs (N·C·outH·outW), 1 H·W, 2 outH·outW.
 */
import { type KernelSpec, bindings, mainElementwise, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;

function source(): KernelSpec {
  return {
    key: 'pool-gather',
    inputs: 2,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'x', type: 'f32' }, { name: 'indices', type: 'i32' }], [{ name: 'out', type: 'f32' }])}
${mainElementwise(WG, `
    out[idx] = x[(idx / P(2u)) * P(1u) + u32(indices[idx])];`)}`,
  };
}

export const poolGatherKernel = memoKernel(source);
