/**
 * Weights on disk in the safetensors format (https://github.com/huggingface/safetensors), so PyTorch reads our files
 * and we read its files:
 *
 *   bytes 0..7   N, the header's length, an unsigned 64-bit little-endian integer
 *   bytes 8..8+N a JSON object: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
 *                "__metadata__": { "<key>": "<string>" } (optional) }, padded with spaces
 *   the rest     the tensors' bytes, row-major and little-endian; offsets count from the start of this part
 *
 * This file is the format (bytes in, bytes out: it runs in a browser too); safetensors-file.ts reads and writes files.
 * We write F32, F64 and I32. We read those and also F16, BF16 (as float32), I64, I16, I8, U8 and BOOL (as int32).
 */
import type { DType, TypedArray } from '../kernels/backend.js';
import { GpugradError, check } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';

/** One tensor's worth of a safetensors file, on the host. */
export interface HostTensor { dtype: DType; shape: number[]; data: TypedArray }

const WRITE_CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const ITEM_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The bytes of a safetensors file holding `tensors` (in the given order). */
export function encodeSafetensors(tensors: Readonly<Record<string, HostTensor>>, metadata?: Record<string, string>): Uint8Array {
  // entries, then Object.fromEntries: assigning header[name] would set the prototype for a tensor named __proto__
  check(typeof tensors === 'object' && tensors !== null, 'save', 'needs an object of tensors by name');
  const header: [string, unknown][] = metadata ? [['__metadata__', metadata]] : [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    check(name !== '__metadata__', 'save', "'__metadata__' is reserved; rename the tensor");
    const bytes = t.data.length * ITEM_BYTES[WRITE_CODE[t.dtype]];
    header.push([name, { dtype: WRITE_CODE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] }]);
    offset += bytes;
  }
  let json = JSON.stringify(Object.fromEntries(header));
  const text = new TextEncoder().encode(json);
  // the data starts 8-byte aligned: the header is padded with spaces
  const head = new Uint8Array(text.length + (8 - ((8 + text.length) % 8)) % 8).fill(0x20);
  head.set(text);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    const d = t.data;
    for (let i = 0; i < d.length; i++, at += d.BYTES_PER_ELEMENT) {
      if (d instanceof Float64Array) view.setFloat64(at, d[i], true);
      else if (d instanceof Float32Array) view.setFloat32(at, d[i], true);
      else view.setInt32(at, d[i], true);
    }
  }
  return out;
}

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1, exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

interface Entry { name: string; dtype: string; shape: number[]; begin: number; end: number }

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * The header's tensors, checked as the reference implementation (huggingface/safetensors) checks them: every entry an
 * object with a known dtype, a shape of non-negative integers and integer offsets [begin, end] whose span is exactly
 * dtype × shape; sorted by offset, the tensors tile the data part with no overlap and no gap, and end at its end.
 * Names are any strings, `__proto__` included (the result is built with Object.fromEntries, never by assignment).
 */
function validateHeader(header: unknown, dataBytes: number, fail: (why: string) => never): { entries: Entry[]; metadata: Record<string, string> } {
  if (!isPlainObject(header)) fail(`the header must be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        fail('__metadata__ must be an object of strings');
      }
      metadata = Object.fromEntries(Object.entries(info)) as Record<string, string>;
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(info)) fail(`${what} must be described by an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_BYTES, dtype)) {
      fail(`${what} has dtype ${JSON.stringify(dtype)}, which gpugrad does not read (supported: ${Object.keys(ITEM_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isIndex)) fail(`${what} has shape ${JSON.stringify(shape)}: it must be a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
      fail(`${what} has data_offsets ${JSON.stringify(offsets)}: they must be two integers 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offsets as [number, number];
    const need = sizeOf(shape) * ITEM_BYTES[dtype];
    if (end - begin !== need) fail(`${what} ${JSON.stringify(shape)} ${dtype} needs ${need} bytes, its offsets [${begin}, ${end}] span ${end - begin}`);
    if (end > dataBytes) fail(`${what} ends at byte ${end} of the data, past its end (the data has ${dataBytes} bytes; the file is truncated?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const [i, e] of sorted.entries()) {
    if (e.begin < at) fail(`tensors ${JSON.stringify(sorted[i - 1].name)} and ${JSON.stringify(e.name)} overlap (bytes ${e.begin}..${at} of the data)`);
    if (e.begin > at) fail(`bytes ${at}..${e.begin} of the data belong to no tensor (before ${JSON.stringify(e.name)})`);
    at = e.end;
  }
  if (at !== dataBytes) fail(`the tensors end at byte ${at} of the data but it has ${dataBytes} bytes`);
  return { entries, metadata };
}

/**
 * Reads a safetensors file's bytes into host tensors (and its metadata). Everything in the header is validated first;
 * a malformed file is a GpugradError naming `file` (when given) and the problem.
 */
export function decodeSafetensors(bytes: Uint8Array, file?: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new GpugradError(`load: ${file ? `${file} is` : 'this is'} not a valid safetensors file: ${why}`);
  };
  check(bytes instanceof Uint8Array, 'load', () => `decodeSafetensors needs the file's bytes (a Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < 8) fail(`it has only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) fail(`the header claims ${n64} bytes but the file has ${bytes.length}`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    return fail(`the header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const { entries, metadata } = validateHeader(header, bytes.length - base, fail);
  const tensors = entries.map(({ name, dtype, shape, begin }): [string, HostTensor] => {
    const count = sizeOf(shape);
    const item = ITEM_BYTES[dtype];
    const at = (i: number) => base + begin + i * item;
    let data: TypedArray;
    if (dtype === 'F64') data = Float64Array.from({ length: count }, (_, i) => view.getFloat64(at(i), true));
    else if (dtype === 'F32') data = Float32Array.from({ length: count }, (_, i) => view.getFloat32(at(i), true));
    else if (dtype === 'F16') data = Float32Array.from({ length: count }, (_, i) => float16(view.getUint16(at(i), true)));
    else if (dtype === 'BF16') data = Float32Array.from({ length: count }, (_, i) => new Float32Array(new Uint32Array([view.getUint16(at(i), true) << 16]).buffer)[0]);
    else {
      const read = { I64: (o: number) => Number(view.getBigInt64(o, true)), I32: (o: number) => view.getInt32(o, true),
        I16: (o: number) => view.getInt16(o, true), I8: (o: number) => view.getInt8(o), U8: (o: number) => view.getUint8(o),
        BOOL: (o: number) => view.getUint8(o) }[dtype]!;
      data = Int32Array.from({ length: count }, (_, i) => {
        const v = read(at(i));
        if (v > 2147483647 || v < -2147483648) fail(`tensor ${JSON.stringify(name)} holds ${v}, which does not fit int32`);
        return v;
      });
    }
    return [name, { dtype: data instanceof Float64Array ? 'float64' : data instanceof Float32Array ? 'float32' : 'int32', shape: [...shape], data }];
  });
  return { tensors: Object.fromEntries(tensors), metadata };
}
