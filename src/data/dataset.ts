/**
 * An image dataset as it sits on the host: every image's bytes in one Uint8Array (N × C × H × W, as stored in the
 * files) and one label byte per image. Pixels stay bytes until a batch is assembled — on the device, by the
 * DataLoader — so a dataset costs its file size once, not four times as float32.
 */
import type { DeviceName } from '../kernels/backend.js';
import { check } from '../core/errors.js';
import { Generator } from '../tensor/random.js';
import { ResidentDataset } from './resident.js';

export interface ImageDatasetInit {
  /** e.g. 'MNIST train' */
  name: string;
  images: Uint8Array;
  labels: Uint8Array;
  /** [channels, height, width] of one image */
  imageShape: readonly [number, number, number];
  classes: readonly string[];
  /** the files the data came from (empty for derived or synthetic data) */
  files?: readonly string[];
}

export class ImageDataset {
  readonly name: string;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly imageShape: readonly [number, number, number];
  readonly classes: readonly string[];
  readonly files: readonly string[];
  private resident = new Map<DeviceName, ResidentDataset>();

  constructor(init: ImageDatasetInit) {
    const [c, h, w] = init.imageShape;
    const per = c * h * w;
    check(per > 0 && init.images.length === init.labels.length * per, 'ImageDataset',
      () => `${init.name}: ${init.images.length} image bytes do not make ${init.labels.length} images of ` +
        `${c}×${h}×${w} (${init.labels.length * per} bytes)`);
    this.name = init.name;
    this.images = init.images;
    this.labels = init.labels;
    this.imageShape = Object.freeze([c, h, w] as const);
    this.classes = Object.freeze([...init.classes]);
    this.files = Object.freeze([...(init.files ?? [])]);
  }

  /** Number of samples. */
  get length(): number { return this.labels.length; }
  /** Bytes per image (C × H × W). */
  get imageSize(): number { return this.imageShape[0] * this.imageShape[1] * this.imageShape[2]; }

  /** The bytes of image `i` (a view, not a copy). */
  image(i: number): Uint8Array {
    check(Number.isInteger(i) && i >= 0 && i < this.length, 'ImageDataset.image', `index ${i} is outside 0..${this.length - 1}`);
    return this.images.subarray(i * this.imageSize, (i + 1) * this.imageSize);
  }

  /** The same images with other labels (a new dataset; the image bytes are shared, not copied). */
  withLabels(labels: Uint8Array, name = this.name): ImageDataset {
    check(labels.length === this.length, 'withLabels', `${labels.length} labels for ${this.length} images`);
    return new ImageDataset({ name, images: this.images, labels, imageShape: this.imageShape, classes: this.classes, files: this.files });
  }

  /**
   * The dataset's copy on `device`, uploaded on first use and kept until `release()`: loaders on the same dataset
   * share it.
   */
  onDevice(device: DeviceName): ResidentDataset {
    let r = this.resident.get(device);
    if (!r || r.isDisposed) this.resident.set(device, (r = ResidentDataset.upload(this, device)));
    return r;
  }

  /** Frees the device copies (the host bytes stay). */
  release(): void {
    for (const r of this.resident.values()) r.dispose();
    this.resident.clear();
  }
}

/** What a loader returns: both splits, the class names and where the files are. */
export interface DatasetSplits {
  train: ImageDataset;
  test: ImageDataset;
  classes: readonly string[];
  /** the folder the files were read from */
  dir: string;
}

/**
 * The random-labels experiment's transform: the same images with labels drawn uniformly from 0..numClasses-1 by a
 * generator seeded with `seed` (the same seed gives the same labels). Apply it to the training split only.
 */
export function randomLabels(dataset: ImageDataset, options: { seed: number; numClasses?: number }): ImageDataset {
  check(dataset instanceof ImageDataset && typeof options === 'object' && options !== null, 'randomLabels',
    'needs an ImageDataset and options {seed, numClasses?}');
  const numClasses = options.numClasses ?? dataset.classes.length;
  check(Number.isInteger(numClasses) && numClasses >= 1 && numClasses <= 256, 'randomLabels',
    `numClasses must be an integer in 1..256 (labels are bytes), got ${numClasses}`);
  check(Number.isFinite(options.seed), 'randomLabels', `seed must be a number, got ${options.seed}`);
  const g = new Generator(options.seed);
  const labels = new Uint8Array(dataset.length);
  for (let i = 0; i < labels.length; i++) labels[i] = g.int(0, numClasses);
  return dataset.withLabels(labels, `${dataset.name} (random labels, seed ${options.seed})`);
}
