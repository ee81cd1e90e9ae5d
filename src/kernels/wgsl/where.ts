/** where(cond, a, b): a where cond ≠ 0, else b; all three broadcast to the output shape. `modes`: the inputs' AccessModes joined by commas. */
import {
  type AccessMode, type Vec4Mode, VEC4_PER_THREAD, accessExpr, elementwiseProgram, stridedCoords, vec4Coords, vec4Load,
} from './common.js';
import { type KernelProgram, type WgslType, memoKernel } from './program.js';

/**
 * WGSL for "cond `cv` is true": any bit but the sign set, so ±0 are false and NaN, ±∞ and subnormals true, as on the
 * CPU. A float compare would not do: SwiftShader's `!=` is false for NaN (against the spec) and it flushes
 * subnormals to zero.
 */
const truthy = (condType: WgslType, cv: string) => (condType === 'f32' ? `(bitcast<u32>(${cv}) & 0x7fffffffu) != 0u` : `${cv} != 0`);

/**
 * The vec4 form of `truthy`, for one vector select: cheaper on SwiftShader than four per-lane selects (the mask of
 * ReLU's backward is this kernel, run over every activation).
 */
const truthyVec4 = (condType: WgslType, cv: string) => (condType === 'f32'
  ? `(bitcast<vec4<u32>>(${cv}) & vec4<u32>(0x7fffffffu)) != vec4<u32>(0u)` : `${cv} != vec4<i32>(0)`);

function whereKernelSource(condType: WgslType, t: WgslType, modes: string): KernelProgram {
  const [mc, ma, mb] = modes.split(',') as AccessMode[];
  return elementwiseProgram({
    key: `where:${condType}:${t}:${modes}`,
    inputs: [{ name: 'c', type: condType }, { name: 'a', type: t }, { name: 'b', type: t }], outputs: [{ name: 'out', type: t }],
    operands: 3,
    body: `${stridedCoords([mc, ma, mb])}    let cv = c[${accessExpr(mc, 0)}];
    out[idx] = select(b[${accessExpr(mb, 2)}], a[${accessExpr(ma, 1)}], ${truthy(condType, 'cv')});`,
  });
}

export const whereKernel = memoKernel(whereKernelSource);

/** The vec4 variant (see Vec4Mode in common.ts), per lane. `modes`: the inputs' Vec4Modes joined by commas. */
function whereVec4KernelSource(condType: WgslType, t: WgslType, modes: string): KernelProgram {
  const [mc, ma, mb] = modes.split(',') as Vec4Mode[];
  return elementwiseProgram({
    key: `where:vec4:${condType}:${t}:${modes}`,
    inputs: [{ name: 'c', type: `vec4<${condType}>` }, { name: 'a', type: `vec4<${t}>` }, { name: 'b', type: `vec4<${t}>` }],
    outputs: [{ name: 'out', type: `vec4<${t}>` }], operands: 3,
    body: `${vec4Coords([mc, ma, mb])}${vec4Load(mc, 0, 'c', condType, 'cv')}${vec4Load(ma, 1, 'a', t, 'x')}\
${vec4Load(mb, 2, 'b', t, 'y')}    out[idx] = select(y, x, ${truthyVec4(condType, 'cv')});`,
    perInvocation: VEC4_PER_THREAD,
  });
}

export const whereVec4Kernel = memoKernel(whereVec4KernelSource);
