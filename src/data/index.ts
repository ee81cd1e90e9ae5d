/** The data floor under Node: MNIST and CIFAR-10 readers (with download and cache), and everything portable.ts has
 * (the function datasets, random labels, the device-side DataLoader), which is all a browser page gets. */
import { loadCIFAR10 } from './cifar10.js';
import { loadMNIST } from './mnist.js';

export * from './portable.js';
export { parseIdx, readIdxFile, type IdxArray } from './idx.js';
export { loadMNIST, defaultMnistDir, hasMnistFiles, MNIST_FILES, MNIST_CLASSES, type MnistOptions } from './mnist.js';
export {
  loadCIFAR10, ensureCifar10, readCifar10Folder, parseCifarBatch, cifarRecordCount,
  CIFAR10_URL, CIFAR10_MD5, CIFAR10_ARCHIVE, CIFAR10_FOLDER, CIFAR10_CLASSES, type Cifar10Options,
} from './cifar10.js';
export { defaultCacheDir, download, md5File, extractFolder, redirectTarget, DownloadError, type DownloadOptions } from './download.js';

/** torchvision's names for the loaders. */
export const MNIST = loadMNIST;
export const CIFAR10 = loadCIFAR10;
