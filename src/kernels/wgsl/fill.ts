/** Fills a buffer with one value (word 29 of the parameter block, as the element's bits). */
import { EXTRA_PARAM, type KernelSpec, type WgslType, bindings, mainElementwise, paramsWgsl, memoKernel } from './common.js';

export const WG = 64;

function fillKernelSource(t: WgslType): KernelSpec {
  return {
    key: `fill:${t}`,
    inputs: 0,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([], [{ name: 'out', type: t }])}
${mainElementwise(WG, `    out[idx] = bitcast<${t}>(P(${EXTRA_PARAM}u));`)}`,
  };
}

export const fillKernel = memoKernel(fillKernelSource);
