/**
 * Strided copy into a strided destination: dst[dstIndex(i)] = src[srcIndex(i)]. Used by concat (each part lands in
 * its slab of the output). The destination is operand 1: its offset and strides are the uniforms `off1` and `str1`.
 */
import { type AccessMode, accessExpr, elementwiseProgram, stridedCoords } from './common.js';
import { type KernelProgram, type WgslType, memoKernel } from './program.js';

function scatterCopySource(t: WgslType, srcMode: AccessMode, dstMode: AccessMode): KernelProgram {
  return elementwiseProgram({
    key: `scatter-copy:${t}:${srcMode}${dstMode}`,
    inputs: [{ name: 'src', type: t }], outputs: [{ name: 'dst', type: t }], operands: 2,
    body: `${stridedCoords([srcMode, dstMode])}    dst[${accessExpr(dstMode, 1)}] = src[${accessExpr(srcMode, 0)}];`,
  });
}

export const scatterCopyKernel = memoKernel(scatterCopySource);
