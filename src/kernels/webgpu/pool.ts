/**
 * A buffer pool by size class. Released buffers go back to their class and are handed out again; nothing is destroyed
 * until `trim()`, which waits for the queue first, so a buffer is never freed while recorded or in-flight work still uses it.
 *
 * Reuse is safe without waiting: kernels and copies run in queue order, so a buffer taken by a later dispatch is written
 * only after earlier dispatches that read it. The one hazard — `queue.writeBuffer` overtaking recorded, unsubmitted work —
 * is handled by the runtime (it submits first when the target buffer was used by the open batch).
 */
import { GpugradError } from '../../core/errors.js';
import { sizeClass } from '../size-class.js';

export interface PooledBuffer {
  buffer: GPUBuffer;
  bytes: number; // capacity (size class)
  /** id of the batch that last used this buffer (see Runtime.batchId) */
  lastBatch: number;
  /** unique, for bind-group caching */
  id: number;
}

let nextBufferId = 1;

export class BufferPool {
  private free = new Map<number, PooledBuffer[]>();
  allocatedBytes = 0;
  pooledBytes = 0;
  buffersCreated = 0;

  /**
   * `maxBytes`: the largest buffer this pool may create (the device's maxBufferSize, and for storage buffers, which are
   * bound whole, maxStorageBufferBindingSize). Checked here, synchronously, because Dawn only reports an oversized
   * buffer later, as an error that poisons the whole batch and surfaces at some unrelated read.
   */
  constructor(private device: GPUDevice, private usage: number, private label: string, private maxBytes = Infinity,
    private limitName = 'maxBufferSize') {}

  acquire(bytes: number): PooledBuffer {
    if (bytes > this.maxBytes) {
      throw new GpugradError(`webgpu: ${bytes} bytes (${bytes / 4} elements of 4 bytes) do not fit in one buffer on this ` +
        `device: its ${this.limitName} is ${this.maxBytes} bytes (${this.maxBytes / 4} elements). Use smaller tensors ` +
        '(a smaller batch, or split the data), or the cpu device');
    }
    // a size class above the limit (the classes round up to whole MiB) falls back to the exact size
    let cls = sizeClass(bytes);
    if (cls > this.maxBytes) cls = Math.max(16, Math.ceil(bytes / 4) * 4);
    const list = this.free.get(cls);
    const hit = list?.pop();
    if (hit) {
      this.pooledBytes -= cls;
      return hit;
    }
    const buffer = this.device.createBuffer({ size: cls, usage: this.usage, label: `${this.label}:${cls}` });
    this.allocatedBytes += cls;
    this.buffersCreated++;
    return { buffer, bytes: cls, lastBatch: -1, id: nextBufferId++ };
  }

  release(b: PooledBuffer): void {
    let list = this.free.get(b.bytes);
    if (!list) this.free.set(b.bytes, (list = []));
    list.push(b);
    this.pooledBytes += b.bytes;
  }

  /** Destroys every pooled (free) buffer. Call only when the queue is idle. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) { b.buffer.destroy(); this.allocatedBytes -= b.bytes; }
    this.free.clear();
    this.pooledBytes = 0;
  }
}
