/**
 * Weights on disk in the safetensors format (https://github.com/huggingface/safetensors), so PyTorch reads our files
 * and we read its files:
 *
 *   bytes 0..7   N, the header's length, an unsigned 64-bit little-endian integer
 *   bytes 8..8+N a JSON object: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
 *                "__metadata__": { "<key>": "<string>" } (optional) }, padded with spaces
 *   the rest     the tensors' bytes, row-major and little-endian; offsets count from the start of this part
 *
 * We write F32, F64 and I32. We read those and also F16, BF16 (as float32), I64, I16, I8, U8 and BOOL (as int32).
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { DType, DeviceName, TypedArray } from '../kernels/backend.js';
import { GpugradError, check } from '../kernels/errors.js';
import { sizeOf } from '../kernels/shape.js';
import { tensor } from '../tensor/creation.js';
import { getDevice } from '../tensor/device.js';
import { Tensor } from '../tensor/tensor.js';

/** One tensor's worth of a safetensors file, on the host. */
export interface HostTensor { dtype: DType; shape: number[]; data: TypedArray }

const WRITE_CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const ITEM_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The bytes of a safetensors file holding `tensors` (in the given order). */
export function encodeSafetensors(tensors: Readonly<Record<string, HostTensor>>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    check(name !== '__metadata__', 'save', "'__metadata__' is reserved; rename the tensor");
    const bytes = t.data.length * ITEM_BYTES[WRITE_CODE[t.dtype]];
    header[name] = { dtype: WRITE_CODE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // the data starts 8-byte aligned
  const head = Buffer.from(json, 'utf8');
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

/** Reads a safetensors file's bytes into host tensors (and its metadata). */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const fail = (why: string): never => { throw new GpugradError(`load: not a valid safetensors file: ${why}`); };
  if (bytes.length < 8) fail(`it has only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`the header claims ${n} bytes but the file has ${bytes.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    return fail(`the header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const metadata = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  const tensors: Record<string, HostTensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = info;
    const item = ITEM_BYTES[dtype] ?? fail(`tensor '${name}' has dtype ${dtype}, which gpugrad does not read (supported: ${Object.keys(ITEM_BYTES).join(', ')})`);
    const count = sizeOf(shape);
    if (end - begin !== count * item) fail(`tensor '${name}' ${JSON.stringify(shape)} ${dtype} needs ${count * item} bytes, its offsets span ${end - begin}`);
    if (base + end > bytes.length) fail(`tensor '${name}' ends at byte ${base + end}, past the end of the file (${bytes.length})`);
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
        if (v > 2147483647 || v < -2147483648) fail(`tensor '${name}' holds ${v}, which does not fit int32`);
        return v;
      });
    }
    tensors[name] = { dtype: data instanceof Float64Array ? 'float64' : data instanceof Float32Array ? 'float32' : 'int32', shape: [...shape], data };
  }
  return { tensors, metadata };
}

/** Writes tensors (e.g. `model.stateDict()`) to `path` as safetensors. Reads them back from the device first. */
export async function save(tensors: Readonly<Record<string, Tensor>>, path: string, metadata?: Record<string, string>): Promise<void> {
  const host: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    check(t instanceof Tensor, 'save', `'${name}' is not a Tensor`);
    host[name] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
  }
  await writeFile(path, encodeSafetensors(host, metadata));
}

export interface LoadOptions {
  /** where to put the tensors (default: the current device) */
  device?: DeviceName;
  /** convert floating-point tensors to this dtype (e.g. float32 for WebGPU, which has no float64) */
  dtype?: 'float32' | 'float64';
}

/** Reads a safetensors file into tensors by name (use with `model.loadStateDict(await load(path))`). */
export async function load(path: string, { device = getDevice(), dtype }: LoadOptions = {}): Promise<Record<string, Tensor>> {
  const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path)));
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const want = t.dtype !== 'int32' && dtype ? dtype : t.dtype;
    check(want !== 'float64' || device !== 'webgpu', 'load', `'${name}' is float64, which ${device} does not have; ` +
      "pass {dtype: 'float32'} to convert, or load onto the cpu or wasm device");
    out[name] = tensor(t.data, { shape: t.shape, dtype: want, device });
  }
  return out;
}
