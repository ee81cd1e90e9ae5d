/** where(cond, a, b): a where cond ≠ 0, else b; all three broadcast to the output shape. `modes`: the inputs' AccessModes joined by commas. */
import {
  type AccessMode, type KernelSpec, type Vec4Mode, type WgslType, VEC4_PER_THREAD, accessExpr, bindings, lanes, mainElementwise,
  paramsWgsl, stridedCoords, memoKernel, vec4Coords, vec4Load } from './common.js';

export const WG = 64;

/** WGSL for "cond `cv` is true": non-zero, NaN included (SwiftShader's `!=` is false for NaN, against the spec). */
const truthy = (condType: WgslType, cv: string) => (condType === 'f32' ? `(${cv} != 0.0 || is_nan(${cv}))` : `${cv} != 0`);

function whereKernelSource(condType: WgslType, t: WgslType, modes: string): KernelSpec {
  return {
    key: `where:${condType}:${t}:${modes}`,
    inputs: 3,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'c', type: condType }, { name: 'a', type: t }, { name: 'b', type: t }], [{ name: 'out', type: t }])}
${mainElementwise(WG, `${stridedCoords(modes.split(',') as AccessMode[])}    let cv = c[${accessExpr(modes.split(',')[0] as AccessMode, 0)}];
    out[idx] = select(b[${accessExpr(modes.split(',')[2] as AccessMode, 2)}], a[${accessExpr(modes.split(',')[1] as AccessMode, 1)}], ${truthy(condType, 'cv')});`)}`,
  };
}

export const whereKernel = memoKernel(whereKernelSource);

/** The vec4 variant (see Vec4Mode in common.ts), per lane. `modes`: the inputs' Vec4Modes joined by commas. */
function whereVec4KernelSource(condType: WgslType, t: WgslType, modes: string): KernelSpec {
  const [mc, ma, mb] = modes.split(',') as Vec4Mode[];
  return {
    key: `where:vec4:${condType}:${t}:${modes}`,
    inputs: 3,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'c', type: `vec4<${condType}>` }, { name: 'a', type: `vec4<${t}>` }, { name: 'b', type: `vec4<${t}>` }],
    [{ name: 'out', type: `vec4<${t}>` }])}
fn op(cv: ${condType}, x: ${t}, y: ${t}) -> ${t} { return select(y, x, ${truthy(condType, 'cv')}); }
${mainElementwise(WG, `${vec4Coords([mc, ma, mb])}${vec4Load(mc, 0, 'c', condType, 'cv')}${vec4Load(ma, 1, 'a', t, 'x')}\
${vec4Load(mb, 2, 'b', t, 'y')}    out[idx] = ${lanes(t, (l) => `op(cv.${l}, x.${l}, y.${l})`)};`, VEC4_PER_THREAD)}`,
  };
}

export const whereVec4Kernel = memoKernel(whereVec4KernelSource);
