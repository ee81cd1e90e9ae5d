/**
 * The IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number — two zero bytes, a
 * type code (0x08 = unsigned byte) and the number of dimensions — then each dimension as a big-endian uint32, then
 * the data in row-major order. Only unsigned-byte files exist in MNIST, so only those are read. Every check names the
 * file and what was expected; gzip-compressed files (as downloaded) are inflated first.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { GpugradError } from '../core/errors.js';

export interface IdxArray {
  dims: number[];
  /** the data after the header (a view into the file's bytes) */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
};

const hex = (v: number, digits = 8) => `0x${v.toString(16).padStart(digits, '0')}`;

/** Parses the bytes of an IDX file; `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const fail = (msg: string) => new GpugradError(`idx: ${file}: ${msg}`);
  if (bytes.length < 4) throw fail(`${bytes.length} bytes is too short for an IDX file (it starts with a 4-byte magic number)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = bytes[2], rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_NAMES) || rank === 0) {
    throw fail(`not an IDX file: the magic number is ${hex(magic)}; IDX files start with 0x000008NN ` +
      '(0x00000803 for images, 0x00000801 for labels). Is it the right file, complete and uncompressed?');
  }
  if (type !== 0x08) throw fail(`holds ${TYPE_NAMES[type]} values (type ${hex(type, 2)}); only unsigned bytes (0x08) are supported`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw fail(`truncated inside its header: ${rank} dimensions need ${header} bytes, the file has ${bytes.length}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const got = bytes.length - header;
  if (got < expected) {
    throw fail(`truncated: its header promises ${dims.join('×')} = ${expected} bytes of data, but only ${got} follow ` +
      `the ${header}-byte header. Download or copy the file again.`);
  }
  if (got > expected) {
    throw fail(`${got - expected} bytes more than its header (${dims.join('×')} = ${expected} bytes) describes: the file is corrupt`);
  }
  return { dims, data: bytes.subarray(header) };
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Reads and parses an IDX file (gzip-compressed or not). */
export async function readIdxFile(file: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new GpugradError(`idx: cannot read ${file}: ${(e as Error).message}`);
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new GpugradError(`idx: ${file} is gzip-compressed but does not inflate (${(e as Error).message}): it is truncated or corrupt`);
    }
  }
  return parseIdx(bytes, file);
}
