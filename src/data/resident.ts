/**
 * A dataset kept on a device, uploaded once: its image bytes and label bytes, each packed 4 per int32 word (MNIST's
 * training images are 47 MB this way, not 188 MB as float32), and the 256-entry table that turns a pixel byte into
 * float32 (b / 255, exactly as torchvision's ToTensor). A batch is then assembled on the device by one gather kernel
 * per tensor (Backend.gatherBytes): the host sends only the row order, once per epoch.
 */
import type { DeviceName } from '../kernels/backend.js';
import { check } from '../core/errors.js';
import { getBackend } from '../tensor/device.js';
import { keep } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import type { ImageDataset } from './dataset.js';

/** byte → byte / 255 in float32 (a float32 division, as PyTorch's ToTensor does it). */
export const PIXEL_TABLE = Float32Array.from({ length: 256 }, (_, b) => Math.fround(b / 255));

/** The bytes as int32 words, 4 bytes per word in memory order (a view when aligned, else a zero-padded copy). */
export function packBytes(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0) {
    return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Int32Array(padded.buffer);
}

/** A device tensor holding `data`, kept out of tidy scopes (the dataset owns it). */
function residentTensor(data: Int32Array | Float32Array, device: DeviceName): Tensor {
  const backend = getBackend(device);
  const dtype = data instanceof Int32Array ? 'int32' : 'float32';
  return keep(Tensor.fromStorage(backend.upload(data, dtype), [data.length]));
}

export class ResidentDataset {
  private constructor(
    readonly device: DeviceName,
    /** the image bytes, packed into int32 words */
    readonly images: Tensor,
    /** the label bytes, packed into int32 words */
    readonly labels: Tensor,
    /** the pixel table (256 float32) */
    readonly pixelTable: Tensor,
    readonly imageShape: readonly [number, number, number],
    readonly length: number,
  ) {}

  static upload(dataset: ImageDataset, device: DeviceName): ResidentDataset {
    return new ResidentDataset(device, residentTensor(packBytes(dataset.images), device),
      residentTensor(packBytes(dataset.labels), device), residentTensor(PIXEL_TABLE, device),
      dataset.imageShape, dataset.length);
  }

  get isDisposed(): boolean { return this.images.isDisposed; }

  /**
   * Assembles the batch whose samples are rows[start .. start + count) of `rows` (an int32 tensor of sample indices
   * on this device): x float32 [count, C, H, W] in [0, 1], y int32 [count]. Enqueues two kernels; uploads nothing.
   */
  gather(rows: Tensor, start: number, count: number): { x: Tensor; y: Tensor } {
    check(!this.isDisposed, 'DataLoader', 'the dataset\'s device copy was released; call dataset.onDevice() again');
    check(rows.device === this.device && rows.dtype === 'int32' && rows.ndim === 1 && rows.isContiguous && rows.offset === 0,
      'DataLoader', `row indices must be a fresh 1-D int32 tensor on ${this.device}, got ${rows.dtype} on ${rows.device}`);
    check(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= rows.size,
      'DataLoader', `batch ${start}..${start + count} is outside the ${rows.size} row indices`);
    const backend = getBackend(this.device);
    const [c, h, w] = this.imageShape;
    const x = backend.gatherBytes(this.images.storage, rows.storage, start, count, c * h * w, this.pixelTable.storage);
    const y = backend.gatherBytes(this.labels.storage, rows.storage, start, count, 1, null);
    return { x: Tensor.fromStorage(x, [count, c, h, w]), y: Tensor.fromStorage(y, [count]) };
  }

  dispose(): void {
    this.images.dispose();
    this.labels.dispose();
    this.pixelTable.dispose();
  }
}
