/**
 * Reads x [N,C,H,W] at a pool's indices: out[plane, o] = x[plane, indices[plane, o]]. The adjoint of max pooling's
 * backward (so second derivatives through a max pool cost one gather).
 * Uniforms: n the outputs (N·C·outH·outW), the plane sizes H·W and outH·outW.
 */
import { type KernelProgram, kernelProgram, memoKernel } from './program.js';

function source(): KernelProgram<'n' | 'inPlane' | 'outPlane'> {
  return kernelProgram({
    key: 'pool-gather',
    inputs: [{ name: 'x', type: 'f32' }, { name: 'indices', type: 'i32' }], outputs: [{ name: 'out', type: 'f32' }],
    uniforms: { n: 'u32', inPlane: 'u32', outPlane: 'u32' },
    entry: { elementwise: `
    out[idx] = x[(idx / u.outPlane) * u.inPlane + u32(indices[idx])];` },
  });
}

export const poolGatherKernel = memoKernel(source);
