/**
 * Inverted dropout with the mask drawn on the device: element i is kept, and scaled by 1/(1 − p), when a counter-based
 * hash of (i, seed) is at least the threshold round(p · 2³²). The hash is the twin of `dropoutHash` in
 * ../cpu/vision.ts (two rounds of murmur3's finaliser), so both devices draw the same mask, and backward recomputes it
 * from the seed rather than storing it.
 * Parameters: 0 elements, 1 seed word 0, 2 seed word 1, 3 threshold, 4 scale (f32).
 */
import { type KernelSpec, bindings, mainElementwise, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;

function source(): KernelSpec {
  return {
    key: 'dropout',
    inputs: 1,
    outputs: 1,
    source: `${paramsWgsl}
${bindings([{ name: 'x', type: 'f32' }], [{ name: 'out', type: 'f32' }])}
fn fmix(h0: u32) -> u32 {
  var h = (h0 ^ (h0 >> 16u)) * 0x85ebca6bu;
  h = (h ^ (h >> 13u)) * 0xc2b2ae35u;
  return h ^ (h >> 16u);
}
${mainElementwise(WG, `
    let keep = fmix(fmix(idx ^ P(1u)) + P(2u)) >= P(3u);
    out[idx] = select(0.0, x[idx] * Pf(4u), keep);`)}`,
  };
}

export const dropoutKernel = memoKernel(source);
