/**
 * Batch assembly on the device: gathers rows of a byte table (a dataset's pixels or labels, kept on the GPU once,
 * 4 bytes packed per u32 word, little-endian) into a contiguous batch. For output element i = b * rowLen + j:
 *   row = rows[start + b];  byte = byte number (row * rowLen + j) of the table;
 *   'f32': out[i] = lut[byte]   — a 256-entry float table (pixels: byte / 255 in float32, exactly torchvision's
 *                                 ToTensor; multiplying by 1/255 instead would be one ulp off for half the values)
 *   'i32': out[i] = i32(byte)   — labels
 * Uniforms (byte variant): n the element count (batch × rowLen), row = rowLen, start = the batch's first entry of
 * `rows`.
 * The CPU reference is src/kernels/cpu/gather.ts.
 */
import { type KernelProgram, kernelProgram, memoKernel } from './program.js';

export type GatherOutput = 'f32' | 'i32';
/**
 * 'byte': one output element per step (any rowLen). 'word': one packed word, so 4 outputs, per step; needs rowLen % 4
 * == 0 (MNIST's 784, CIFAR's 3072): a quarter of the divisions and table reads, which is what this kernel costs on
 * SwiftShader. Word uniforms: n the word count (batch × rowLen / 4), row = words per row, start.
 */
export type GatherVariant = 'byte' | 'word';

function gatherBytesSource(out: GatherOutput, variant: GatherVariant): KernelProgram<'n' | 'row' | 'start'> {
  const inputs = [{ name: 'table', type: 'u32' }, { name: 'rows', type: 'i32' }];
  if (out === 'f32') inputs.push({ name: 'lut', type: 'f32' });
  const value = (byte: string) => (out === 'f32' ? `lut[${byte}]` : `i32(${byte})`);
  const body = variant === 'byte'
    ? `    let rowLen = u.row;
    let b = idx / rowLen;
    let at = u32(rows[u.start + b]) * rowLen + (idx - b * rowLen);
    let byte = (table[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
    out[idx] = ${value('byte')};`
    : `    let rowWords = u.row;
    let b = idx / rowWords;
    let word = table[u32(rows[u.start + b]) * rowWords + (idx - b * rowWords)];
    let o = idx * 4u;
    out[o] = ${value('word & 0xffu')};
    out[o + 1u] = ${value('(word >> 8u) & 0xffu')};
    out[o + 2u] = ${value('(word >> 16u) & 0xffu')};
    out[o + 3u] = ${value('word >> 24u')};`;
  return kernelProgram({
    key: `gather-bytes:${out}:${variant}`,
    inputs, outputs: [{ name: 'out', type: out }],
    uniforms: { n: 'u32', row: 'u32', start: 'u32' },
    entry: { elementwise: body },
  });
}

export const gatherBytesKernel = memoKernel(gatherBytesSource);
