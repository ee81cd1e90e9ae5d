/**
 * The wasm device's memory: one WebAssembly.Memory (shared when SharedArrayBuffer exists, so worker threads run
 * kernels on the same bytes), carved into blocks whose sizes are the size classes the WebGPU pool uses. Every block is
 * 16-byte aligned and a whole number of 16-byte vectors long, so kernels may process whole v128 vectors past a
 * storage's last element without touching a neighbour.
 *
 * Two kinds of free memory. Small blocks (classes up to 1 MiB, powers of two: few classes, reused all the time) go
 * back to a list per class and are handed out again as they are. Large blocks (whole MiB: nearly every shape is its
 * own class — a conv's im2col panel, an evaluation batch) go into free *ranges* kept in address order: a request takes
 * the smallest range that fits and leaves the rest, a released block merges with its free neighbours, and a range
 * that reaches the top of the heap lowers the top. Without that a run whose shapes vary (training batches, then an
 * evaluation batch of another size) reused nothing across classes and ran out of the 4 GiB with most of it free. When
 * the memory cannot grow, the small classes' lists are given back as ranges too (merging what they can) before an
 * allocation is refused.
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
/** Classes up to this size are powers of two and pooled per class; larger blocks come from the free ranges. */
const SMALL = 1 << 20;

export class Heap {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  f32!: Float32Array;
  f64!: Float64Array;
  i32!: Int32Array;
  u8!: Uint8Array;
  private top = RESERVED;
  /** Small blocks by class. */
  private free = new Map<number, number[]>();
  /** Free ranges below `top`, in address order, never adjacent to each other (they would have merged). */
  private rangeAt: number[] = [];
  private rangeSize: number[] = [];
  /** Bytes handed out or held free below the top (the memory's used part, less the reserved scratch). */
  allocatedBytes = 0;
  /** Of those, bytes free for reuse (small lists and ranges). */
  pooledBytes = 0;

  /** `maxPages` below 4 GiB only for tests of what happens when the memory is full. */
  constructor(shared: boolean, private readonly maxPages = MAX_PAGES) {
    this.shared = shared;
    this.memory = new wasmApi.Memory({ initial: Math.min(16, maxPages), maximum: maxPages, shared });
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
    if (cls <= SMALL) {
      const hit = this.free.get(cls)?.pop();
      if (hit !== undefined) { this.pooledBytes -= cls; return { ptr: hit, cls }; }
    }
    const ptr = this.fromRanges(cls) ?? this.fromTop(cls);
    if (ptr !== undefined) return { ptr, cls };
    // the memory cannot grow: give the small lists back as ranges (they merge with their neighbours) and look again
    this.flushSmall();
    const again = this.fromRanges(cls) ?? this.fromTop(cls);
    if (again !== undefined) return { ptr: again, cls };
    throw new GpugradError(`wasm: out of memory allocating ${bytes} bytes (${this.allocatedBytes} bytes in use or pooled, ` +
      `${this.pooledBytes} of them free, the largest free piece ${Math.max(0, ...this.rangeSize)} bytes; wasm memory ` +
      'is limited to 4 GiB). Dispose tensors you no longer need (gg.tidy, t.dispose()) or use smaller batches');
  }

  release(ptr: number, cls: number): void {
    this.pooledBytes += cls;
    if (cls <= SMALL) {
      let list = this.free.get(cls);
      if (!list) this.free.set(cls, (list = []));
      list.push(ptr);
    } else {
      this.addRange(ptr, cls);
    }
  }

  /** The smallest free range that holds `cls` bytes; the block is cut from its start. */
  private fromRanges(cls: number): number | undefined {
    let best = -1;
    for (let i = 0; i < this.rangeSize.length; i++) {
      const s = this.rangeSize[i];
      if (s >= cls && (best < 0 || s < this.rangeSize[best])) { best = i; if (s === cls) break; }
    }
    if (best < 0) return undefined;
    const ptr = this.rangeAt[best];
    if (this.rangeSize[best] === cls) { this.rangeAt.splice(best, 1); this.rangeSize.splice(best, 1); }
    else { this.rangeAt[best] += cls; this.rangeSize[best] -= cls; }
    this.pooledBytes -= cls;
    return ptr;
  }

  /** A new block at the top, growing the memory; undefined when it cannot grow. */
  private fromTop(cls: number): number | undefined {
    const ptr = this.top;
    const end = ptr + cls;
    // GUARD bytes stay mapped past the last block: kernels may read a partial vector past a storage's end
    const have = this.memory.buffer.byteLength;
    if (end + GUARD > have) {
      const need = Math.ceil((end + GUARD - have) / PAGE);
      const left = this.maxPages - have / PAGE;
      if (need > left) return undefined;
      // grow by at least a quarter of what there is, so a training loop's first steps do not grow page by page
      const pages = Math.max(need, Math.min(left, Math.floor(have / PAGE / 4)));
      try { this.memory.grow(pages); } catch { return undefined; }
      this.refresh();
    }
    this.top = end;
    this.allocatedBytes += cls;
    return ptr;
  }

  /** Free [ptr, ptr + size) into the ranges, merging with its neighbours; a range ending at the top lowers it. */
  private addRange(ptr: number, size: number): void {
    let lo = 0, hi = this.rangeAt.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.rangeAt[mid] < ptr) lo = mid + 1; else hi = mid; }
    let at = ptr, len = size, i = lo;
    if (i > 0 && this.rangeAt[i - 1] + this.rangeSize[i - 1] === at) { i--; at = this.rangeAt[i]; len += this.rangeSize[i]; this.rangeAt.splice(i, 1); this.rangeSize.splice(i, 1); }
    if (i < this.rangeAt.length && at + len === this.rangeAt[i]) { len += this.rangeSize[i]; this.rangeAt.splice(i, 1); this.rangeSize.splice(i, 1); }
    if (at + len === this.top) {
      this.top = at;
      this.allocatedBytes -= len;
      this.pooledBytes -= len;
      return;
    }
    this.rangeAt.splice(i, 0, at);
    this.rangeSize.splice(i, 0, len);
  }

  private flushSmall(): void {
    const blocks: Array<[number, number]> = [];
    for (const [cls, list] of this.free) for (const p of list) blocks.push([p, cls]);
    this.free.clear();
    // from the highest address down, so blocks at the top lower it one after another
    blocks.sort((a, b) => b[0] - a[0]);
    for (const [p, cls] of blocks) this.addRange(p, cls);
  }
}
