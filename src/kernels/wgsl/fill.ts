/** Fills a buffer with one value (the uniform `bits`: the element's bit pattern, so one kernel serves every value). */
import { type KernelProgram, type WgslType, kernelProgram, memoKernel } from './program.js';

function fillKernelSource(t: WgslType): KernelProgram<'n' | 'bits'> {
  return kernelProgram({
    key: `fill:${t}`,
    inputs: [], outputs: [{ name: 'out', type: t }],
    uniforms: { n: 'u32', bits: 'u32' },
    entry: { elementwise: `    out[idx] = bitcast<${t}>(u.bits);` },
  });
}

export const fillKernel = memoKernel(fillKernelSource);
