/**
 * The CPU reference of batch assembly (the WGSL kernel is src/kernels/wgsl/gather-bytes.ts): rows of a byte table
 * packed 4 bytes per int32 word (little-endian, the layout `src/data/` uploads) are gathered by index into a batch,
 * each byte mapped through a float table (pixels) or kept as an integer (labels).
 */
import { GpugradError } from '../../core/errors.js';

/**
 * For b < count and j < rowLen: out[b * rowLen + j] = byte (rows[start + b] * rowLen + j) of `table`, mapped through
 * `lut` into float32, or as int32 when `lut` is null.
 */
export function gatherBytes(table: Int32Array, rows: Int32Array, start: number, count: number, rowLen: number,
  lut: Float32Array | null): Float32Array | Int32Array {
  if (start < 0 || start + count > rows.length) {
    throw new GpugradError(`gatherBytes: entries ${start}..${start + count - 1} are outside the ${rows.length} row indices`);
  }
  const bytes = new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  const tableRows = Math.floor(bytes.length / rowLen);
  const out = lut ? new Float32Array(count * rowLen) : new Int32Array(count * rowLen);
  for (let b = 0; b < count; b++) {
    const row = rows[start + b];
    if (row < 0 || row >= tableRows) {
      throw new GpugradError(`gatherBytes: row index ${row} (entry ${start + b}) is outside the table's ${tableRows} rows`);
    }
    const src = row * rowLen;
    for (let j = 0; j < rowLen; j++) {
      const byte = bytes[src + j];
      out[b * rowLen + j] = lut ? lut[byte] : byte;
    }
  }
  return out;
}
