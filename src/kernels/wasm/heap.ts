/**
 * The wasm device's memory: one WebAssembly.Memory (shared when SharedArrayBuffer exists, so worker threads run
 * kernels on the same bytes) carved into blocks by size class, like the WebGPU buffer pool: released blocks go back to
 * their class and are handed out again, and the memory only grows. Every block is 16-byte aligned and a whole number
 * of 16-byte vectors long, so kernels may process whole v128 vectors past a storage's last element without touching a
 * neighbour.
 *
 * Typed-array views over the memory are recreated after each growth (growing replaces `memory.buffer`); callers take
 * views after allocating, never across an allocation.
 */
import { GpugradError } from '../../core/errors.js';
import { sizeClass } from '../size-class.js';
import { type WasmMemory, wasmApi } from './wasm-api.js';

const PAGE = 65536;
/** 4 GiB: the most a 32-bit wasm memory can address. Reserved, not committed: pages are committed as the memory grows. */
export const MAX_PAGES = 65536;
/** The first 64 KiB are kept for kernel scratch (the matmul's packed panels live in pooled blocks, not here). */
const RESERVED = PAGE;
/** The matmul kernel reads whole vectors of a partial tile's row (bias, C when accumulating): up to 32 bytes past. */
const GUARD = 64;

export class Heap {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  f32!: Float32Array;
  f64!: Float64Array;
  i32!: Int32Array;
  u8!: Uint8Array;
  private top = RESERVED;
  private free = new Map<number, number[]>();
  allocatedBytes = 0;
  pooledBytes = 0;

  constructor(shared: boolean) {
    this.shared = shared;
    this.memory = new wasmApi.Memory({ initial: 16, maximum: MAX_PAGES, shared });
    this.refresh();
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  /** A block of at least `bytes` bytes (its class); returns its byte address. */
  acquire(bytes: number): { ptr: number; cls: number } {
    const cls = sizeClass(bytes);
    const hit = this.free.get(cls)?.pop();
    if (hit !== undefined) { this.pooledBytes -= cls; return { ptr: hit, cls }; }
    const ptr = this.top;
    const end = ptr + cls;
    // GUARD bytes stay mapped past the last block: kernels may read a partial vector past a storage's end
    if (end + GUARD > this.memory.buffer.byteLength) {
      const need = Math.ceil((end + GUARD - this.memory.buffer.byteLength) / PAGE);
      // grow by at least a quarter of what there is, so a training loop's first steps do not grow page by page
      const pages = Math.max(need, Math.min(MAX_PAGES - this.memory.buffer.byteLength / PAGE, this.memory.buffer.byteLength / PAGE / 4));
      try {
        this.memory.grow(Math.ceil(pages));
      } catch {
        throw new GpugradError(`wasm: out of memory allocating ${bytes} bytes (${this.allocatedBytes} bytes allocated, ` +
          `${this.pooledBytes} of them free in the pool; wasm memory is limited to 4 GiB). Dispose tensors you no ` +
          'longer need (gg.tidy, t.dispose()) or use smaller batches');
      }
      this.refresh();
    }
    this.top = end;
    this.allocatedBytes += cls;
    return { ptr, cls };
  }

  release(ptr: number, cls: number): void {
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(ptr);
    this.pooledBytes += cls;
  }
}
