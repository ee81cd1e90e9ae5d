/**
 * Inverted dropout with the mask drawn on the device: element i is kept, and scaled by 1/(1 − p), when a counter-based
 * hash of (i, seed) is at least the threshold round(p · 2³²). The hash is the twin of `dropoutHash` in
 * ../cpu/vision.ts (two rounds of murmur3's finaliser), so both devices draw the same mask, and backward recomputes it
 * from the seed rather than storing it.
 * Uniforms: n the elements, the seed's two words, the threshold, the scale 1/(1 − p).
 */
import { type KernelProgram, kernelProgram, memoKernel } from './program.js';

function source(): KernelProgram<'n' | 'seed0' | 'seed1' | 'threshold' | 'scale'> {
  return kernelProgram({
    key: 'dropout',
    inputs: [{ name: 'x', type: 'f32' }], outputs: [{ name: 'out', type: 'f32' }],
    uniforms: { n: 'u32', seed0: 'u32', seed1: 'u32', threshold: 'u32', scale: 'f32' },
    helpers: `
fn fmix(h0: u32) -> u32 {
  var h = (h0 ^ (h0 >> 16u)) * 0x85ebca6bu;
  h = (h ^ (h >> 13u)) * 0xc2b2ae35u;
  return h ^ (h >> 16u);
}`,
    entry: { elementwise: `
    let keep = fmix(fmix(idx ^ u.seed0) + u.seed1) >= u.threshold;
    out[idx] = select(0.0, x[idx] * u.scale, keep);` },
  });
}

export const dropoutKernel = memoKernel(source);
