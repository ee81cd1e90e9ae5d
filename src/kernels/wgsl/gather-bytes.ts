/**
 * Batch assembly on the device: gathers rows of a byte table (a dataset's pixels or labels, kept on the GPU once,
 * 4 bytes packed per u32 word, little-endian) into a contiguous batch. For output element i = b * rowLen + j:
 *   row = rows[start + b];  byte = byte number (row * rowLen + j) of the table;
 *   'f32': out[i] = lut[byte]   — a 256-entry float table (pixels: byte / 255 in float32, exactly torchvision's
 *                                 ToTensor; multiplying by 1/255 instead would be one ulp off for half the values)
 *   'i32': out[i] = i32(byte)   — labels
 * Parameters: word 0 = element count (batch × rowLen), 1 = rowLen, 2 = start (the batch's first entry of `rows`).
 * The CPU reference is src/kernels/cpu/gather.ts.
 */
import { type KernelSpec, bindings, mainElementwise, memoKernel, paramsWgsl } from './common.js';

export const WG = 64;

export type GatherOutput = 'f32' | 'i32';

function gatherBytesSource(out: GatherOutput): KernelSpec {
  const inputs = [{ name: 'table', type: 'u32' }, { name: 'rows', type: 'i32' }];
  if (out === 'f32') inputs.push({ name: 'lut', type: 'f32' });
  const value = out === 'f32' ? 'lut[byte]' : 'i32(byte)';
  return {
    key: `gather-bytes:${out}`,
    inputs: inputs.length,
    outputs: 1,
    source: `${paramsWgsl}
${bindings(inputs, [{ name: 'out', type: out }])}
${mainElementwise(WG, `    let rowLen = P(1u);
    let b = idx / rowLen;
    let at = u32(rows[P(2u) + b]) * rowLen + (idx - b * rowLen);
    let byte = (table[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
    out[idx] = ${value};`)}`,
  };
}

export const gatherBytesKernel = memoKernel(gatherBytesSource);
