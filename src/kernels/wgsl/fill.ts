/** Fills a buffer with one value (word 29 of the parameter block, as the element's bits). */
import { EXTRA_PARAM, type KernelSpec, type WgslType, bindings, main1d, paramsWgsl, memoKernel } from './common.js';

export const WG = 64;

function fillKernelSource(t: WgslType): KernelSpec {
  return {
    key: `fill:${t}`,
    inputs: 0,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([], [{ name: 'out', type: t }])}
${main1d(WG)}
  if (idx >= P(0u)) { return; }
  out[idx] = bitcast<${t}>(P(${EXTRA_PARAM}u));
}`,
  };
}

export const fillKernel = memoKernel(fillKernelSource);
