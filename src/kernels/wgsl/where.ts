/** where(cond, a, b): a where cond ≠ 0, else b; all three broadcast to the output shape. `modes`: the inputs' AccessModes joined by commas. */
import {
  type AccessMode, type KernelSpec, type WgslType, accessExpr, bindings, mainElementwise, paramsWgsl, stridedCoords, memoKernel } from './common.js';

export const WG = 64;

function whereKernelSource(condType: WgslType, t: WgslType, modes: string): KernelSpec {
  const zero = condType === 'f32' ? '0.0' : '0';
  return {
    key: `where:${condType}:${t}:${modes}`,
    inputs: 3,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'c', type: condType }, { name: 'a', type: t }, { name: 'b', type: t }], [{ name: 'out', type: t }])}
${mainElementwise(WG, `${stridedCoords(modes.split(',') as AccessMode[])}    let cv = c[${accessExpr(modes.split(',')[0] as AccessMode, 0)}];
    out[idx] = select(b[${accessExpr(modes.split(',')[2] as AccessMode, 2)}], a[${accessExpr(modes.split(',')[1] as AccessMode, 1)}], cv != ${zero});`)}`,
  };
}

export const whereKernel = memoKernel(whereKernelSource);
