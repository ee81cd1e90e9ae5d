/**
 * Strided copy into a strided destination: dst[dstIndex(i)] = src[srcIndex(i)]. Used by concat (each part lands in
 * its slab of the output). The destination's offset and strides use the second input's parameter slot.
 */
import {
  type AccessMode, type KernelSpec, type WgslType, accessExpr, bindings, mainElementwise, memoKernel, paramsWgsl, stridedCoords,
} from './common.js';

export const WG = 64;

function scatterCopySource(t: WgslType, srcMode: AccessMode, dstMode: AccessMode): KernelSpec {
  return {
    key: `scatter-copy:${t}:${srcMode}${dstMode}`,
    inputs: 1,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'src', type: t }], [{ name: 'dst', type: t }])}
${mainElementwise(WG, `${stridedCoords([srcMode, dstMode])}    dst[${accessExpr(dstMode, 1)}] = src[${accessExpr(srcMode, 0)}];`)}`,
  };
}

export const scatterCopyKernel = memoKernel(scatterCopySource);
