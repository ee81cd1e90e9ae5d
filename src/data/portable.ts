/** The part of the data floor that runs anywhere, a browser page included: in-memory image datasets, the
 * device-side DataLoader, the function datasets and random labels. The readers of files on disk and the download
 * cache (MNIST, CIFAR-10) are Node-only: index.ts adds them. */
export { ImageDataset, type ImageDatasetInit, type DatasetSplits, randomLabels } from './dataset.js';
export { DataLoader, type DataLoaderOptions, type Batch } from './loader.js';
export { ResidentDataset, PIXEL_TABLE } from './resident.js';
export { f1, f2, functionDataset, type FunctionData } from './functions.js';
