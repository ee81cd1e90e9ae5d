/**
 * Checkpoint files for `--resume`, in the safetensors layout (8-byte little-endian header length, a JSON header
 * naming each array's dtype, shape and byte range, then the raw little-endian data), so PyTorch's `safetensors` can
 * read them too. Works on host arrays; the run context moves tensors to and from the device. Small JSON state travels
 * in the header's `__metadata__` (safetensors allows only string values there, so it is one JSON string).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

export interface HostArray { dtype: 'float32' | 'float64' | 'int32'; shape: number[]; data: Float32Array | Float64Array | Int32Array }

const CODES = { float32: 'F32', float64: 'F64', int32: 'I32' } as const;
const FROM_CODE: Record<string, HostArray['dtype']> = { F32: 'float32', F64: 'float64', I32: 'int32' };

export function encodeSafetensors(arrays: Record<string, HostArray>, json: unknown): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { json: JSON.stringify(json ?? null) } };
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    header[name] = { dtype: CODES[a.dtype], shape: a.shape, data_offsets: [offset, offset + a.data.byteLength] };
    offset += a.data.byteLength;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8); // keep the data 8-byte aligned, as the reference writer does
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const a of Object.values(arrays)) {
    out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), at);
    at += a.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, file = 'checkpoint'): { arrays: Record<string, HostArray>; json: unknown } {
  const fail = (why: string) => new Error(`${file} is not a readable checkpoint: ${why}; delete it (or the run folder) and run without --resume`);
  if (bytes.length < 8) throw fail('shorter than its 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw fail(`header of ${n} bytes runs past the end (${bytes.length} bytes)`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, any>;
  const base = 8 + n;
  const arrays: Record<string, HostArray> = {};
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = FROM_CODE[h.dtype];
    if (!dtype) throw fail(`tensor ${name} has dtype ${h.dtype}`);
    const [b, e] = h.data_offsets as [number, number];
    if (base + e > bytes.length) throw fail(`tensor ${name} runs past the end of the file`);
    const copy = bytes.slice(base + b, base + e).buffer; // a copy is aligned for the typed array
    arrays[name] = { dtype, shape: h.shape, data: dtype === 'float32' ? new Float32Array(copy) : dtype === 'float64' ? new Float64Array(copy) : new Int32Array(copy) };
  }
  const meta = header.__metadata__?.json;
  return { arrays, json: meta ? JSON.parse(meta) : null };
}

/** Writes to a temporary name and renames, so a kill never leaves half a file under the real name. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function readSafetensors(path: string) {
  return decodeSafetensors(new Uint8Array(await readFile(path)), path);
}
