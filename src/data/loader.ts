/**
 * DataLoader: batches of an ImageDataset, as PyTorch's `DataLoader(dataset, batch_size, shuffle, drop_last,
 * generator)` with torchvision's ToTensor: x float32 [B, C, H, W] in [0, 1], y int32 [B].
 *
 * The dataset lives on the device (uploaded once, as bytes); each epoch the host draws the sample order, uploads it
 * (one int32 per sample), and each batch is assembled there by a gather kernel. A training step therefore sends
 * nothing from the host.
 *
 *   const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 });
 *   for (const { x, y } of loader) { ...; x.dispose(); y.dispose(); }
 *
 * Batches belong to the caller: dispose them (or call batch.dispose()), or run the epoch inside a scope.
 */
import type { DeviceName } from '../kernels/backend.js';
import { check } from '../core/errors.js';
import { getBackend, getDevice } from '../tensor/device.js';
import { keep } from '../tensor/memory.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { ImageDataset } from './dataset.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** a new random order every epoch (default false, as PyTorch) */
  shuffle?: boolean;
  /** seeds the loader's own generator: the same seed gives the same sequence of epochs */
  seed?: number;
  /** or a generator to draw from (default: the global one, seeded by manualSeed) */
  generator?: Generator;
  /** skip the last batch when it is smaller than batchSize (default false: it comes out partial) */
  dropLast?: boolean;
  /** where batches are assembled (default: the current device) */
  device?: DeviceName;
}

export interface Batch {
  /** float32 [B, C, H, W], pixels in [0, 1] */
  x: Tensor;
  /** int32 [B] */
  y: Tensor;
  /** disposes x and y */
  dispose(): void;
}

export class DataLoader implements Iterable<Batch> {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly device: DeviceName;
  /** epochs started so far */
  epoch = 0;
  private readonly generator: Generator;

  constructor(dataset: ImageDataset, options: DataLoaderOptions) {
    check(dataset instanceof ImageDataset, 'DataLoader', () => `the first argument must be an ImageDataset, got ${dataset === null ? 'null' : typeof dataset}`);
    check(typeof options === 'object' && options !== null, 'DataLoader', 'needs options, at least {batchSize}');
    const { batchSize } = options;
    check(Number.isInteger(batchSize) && batchSize >= 1, 'DataLoader', `batchSize must be a positive integer, got ${batchSize}`);
    check(options.seed === undefined || options.generator === undefined, 'DataLoader', 'give seed or generator, not both');
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.device = options.device ?? getDevice();
    getBackend(this.device); // fails early, with the reason, when the device is missing
    this.generator = options.generator ?? (options.seed !== undefined ? new Generator(options.seed) : defaultGenerator);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of the next epoch (a permutation when shuffling, else 0..N-1). Advances the generator. */
  private nextOrder(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return this.generator.permutation(n);
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  /** One epoch: iterating again starts the next one (with a new order when shuffling). */
  *[Symbol.iterator](): IterableIterator<Batch> {
    const resident = this.dataset.onDevice(this.device);
    const order = this.nextOrder();
    this.epoch++;
    const rows = keep(Tensor.fromStorage(getBackend(this.device).upload(order, 'int32'), [order.length]));
    try {
      for (let b = 0; b < this.length; b++) {
        const start = b * this.batchSize;
        const { x, y } = resident.gather(rows, start, Math.min(this.batchSize, order.length - start));
        yield { x, y, dispose() { x.dispose(); y.dispose(); } };
      }
    } finally {
      rows.dispose();
    }
  }
}
