/**
 * CIFAR-10 from the official binary version (https://www.cs.toronto.edu/~kriz/cifar.html): the folder
 * cifar-10-batches-bin/ holds data_batch_1.bin … data_batch_5.bin (training) and test_batch.bin, each a run of
 * 3073-byte records — 1 label byte, then 1024 red, 1024 green and 1024 blue bytes of a 32×32 image (so [3, 32, 32],
 * the layout PyTorch uses) — and batches.meta.txt with the class names.
 *
 * Where the folder comes from, in order: `dataDir` when given (a folder holding cifar-10-batches-bin/, or the
 * folder itself; never downloaded into); else the cache ($XDG_CACHE_HOME/gpugrad or ~/.cache/gpugrad): the folder if
 * complete, else the archive cifar-10-binary.tar.gz if present, else the archive downloaded from `url`. The archive's
 * MD5 is checked before it is extracted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GpugradError } from '../core/errors.js';
import { type DatasetSplits, ImageDataset } from './dataset.js';
import { DownloadError, defaultCacheDir, download, extractFolder, md5File } from './download.js';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

const IMAGE_BYTES = 3 * 32 * 32;
const RECORD_BYTES = 1 + IMAGE_BYTES;

export interface Cifar10Options {
  /** a local folder holding cifar-10-batches-bin/ (or that folder itself); no download then */
  dataDir?: string;
  /** where downloads and the extracted folder go (default: $XDG_CACHE_HOME/gpugrad or ~/.cache/gpugrad) */
  cacheDir?: string;
  /** download the archive when the cache lacks it (default true) */
  download?: boolean;
  /** the archive's address (default: the official one) and MD5 (default: the official archive's) */
  url?: string;
  md5?: string;
  /** a progress bar on stderr when it is a terminal (default true) */
  progress?: boolean;
}

/** The number of records in a binary batch file's bytes; throws, naming the file, unless it is a whole number. */
export function cifarRecordCount(bytes: Uint8Array, file: string): number {
  if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / RECORD_BYTES);
    throw new GpugradError(`cifar10: ${file} has ${bytes.length} bytes, not a whole number of ${RECORD_BYTES}-byte records ` +
      `(1 label byte + 3072 pixel bytes; ${whole} whole records and ${bytes.length - whole * RECORD_BYTES} bytes more): ` +
      'it is truncated or not a CIFAR-10 binary batch. Copy or download it again.');
  }
  return bytes.length / RECORD_BYTES;
}

/** Splits the records of a batch file into `images` (from image `at` on) and `labels`, checking every label. */
function decodeRecords(bytes: Uint8Array, file: string, images: Uint8Array, labels: Uint8Array, at: number): void {
  const count = cifarRecordCount(bytes, file);
  for (let r = 0; r < count; r++) {
    const label = bytes[r * RECORD_BYTES];
    if (label > 9) {
      throw new GpugradError(`cifar10: ${file}: record ${r} has label ${label}, not a class 0..9: the file is corrupt ` +
        '(or it is CIFAR-100, whose records differ)');
    }
    labels[at + r] = label;
    images.set(bytes.subarray(r * RECORD_BYTES + 1, (r + 1) * RECORD_BYTES), (at + r) * IMAGE_BYTES);
  }
}

/** The records of one binary batch file: images [count, 3, 32, 32] and labels [count]. */
export function parseCifarBatch(bytes: Uint8Array, file: string): { images: Uint8Array; labels: Uint8Array } {
  const count = cifarRecordCount(bytes, file);
  const images = new Uint8Array(count * IMAGE_BYTES), labels = new Uint8Array(count);
  decodeRecords(bytes, file, images, labels, 0);
  return { images, labels };
}

/** The class names of batches.meta.txt, or the standard ten when the file is absent. */
function readClasses(folder: string): readonly string[] {
  const meta = join(folder, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  if (names.length !== 10) throw new GpugradError(`cifar10: ${meta} names ${names.length} classes; CIFAR-10 has 10`);
  return names;
}

const ALL_FILES = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
const missingIn = (folder: string) => ALL_FILES.filter((f) => !existsSync(join(folder, f)));

/** The batches folder under `root` (root/cifar-10-batches-bin, or root itself), or null. */
function findFolder(root: string): string | null {
  for (const f of [join(root, CIFAR10_FOLDER), root]) if (existsSync(join(f, CIFAR10_TEST_FILE))) return f;
  return null;
}

function whereToPutFiles(cacheDir: string): string {
  return `To use CIFAR-10 without network access, put the official binary version into ${cacheDir}: either the ` +
    `archive ${CIFAR10_ARCHIVE} (MD5 ${CIFAR10_MD5}, from ${CIFAR10_URL}) or its extracted folder ${CIFAR10_FOLDER}/ ` +
    `(${ALL_FILES.join(', ')}); or pass --data-dir DIR (dataDir) naming a folder that holds ${CIFAR10_FOLDER}/.`;
}

/** Finds, or downloads and extracts, the batches folder; returns its path. */
export async function ensureCifar10(options: Cifar10Options = {}): Promise<string> {
  if (options.dataDir) {
    const folder = findFolder(options.dataDir);
    if (!folder) {
      throw new GpugradError(`cifar10: no ${CIFAR10_FOLDER}/${CIFAR10_TEST_FILE} in ${options.dataDir}: the folder must hold ` +
        `${CIFAR10_FOLDER}/ with ${ALL_FILES.join(', ')} (the official binary version, extracted)`);
    }
    const missing = missingIn(folder);
    if (missing.length) throw new GpugradError(`cifar10: ${folder} lacks ${missing.join(', ')}`);
    return folder;
  }
  const cache = options.cacheDir ?? defaultCacheDir();
  const folder = join(cache, CIFAR10_FOLDER);
  if (existsSync(folder)) {
    const missing = missingIn(folder);
    if (missing.length) {
      throw new GpugradError(`cifar10: ${folder} exists but lacks ${missing.join(', ')}; complete it or delete the folder ` +
        'to download CIFAR-10 again');
    }
    return folder;
  }
  const archive = join(cache, CIFAR10_ARCHIVE);
  const md5 = options.md5 ?? CIFAR10_MD5;
  if (existsSync(archive)) {
    const got = await md5File(archive);
    if (got !== md5) {
      throw new GpugradError(`cifar10: ${archive} has MD5 ${got}, expected ${md5}: it is incomplete or not the official ` +
        'archive. Delete it (it will be downloaded again) or replace it.');
    }
  } else {
    if (options.download === false) throw new GpugradError(`cifar10: CIFAR-10 is not in ${cache} and downloading is off. ${whereToPutFiles(cache)}`);
    const url = options.url ?? CIFAR10_URL;
    try {
      await download(url, archive, { md5, progress: options.progress });
    } catch (e) {
      if (!(e instanceof DownloadError)) throw e;
      const what = e.offline ? 'No network?' : 'Nothing was kept (a partial download never counts); run again.';
      throw new GpugradError(`cifar10: downloading ${url} failed: ${e.message}. ${what} ${whereToPutFiles(cache)}`);
    }
  }
  await extractFolder(archive, cache, CIFAR10_FOLDER);
  const missing = missingIn(folder);
  if (missing.length) throw new GpugradError(`cifar10: ${archive} lacks ${missing.join(', ')}; it is not the official archive`);
  return folder;
}

/** Reads the six batch files of a folder into both splits; all files must hold the same number of records. */
export async function readCifar10Folder(folder: string): Promise<DatasetSplits> {
  const files = ALL_FILES.map((name) => join(folder, name));
  const contents = await Promise.all(files.map(async (file) => {
    try {
      return await readFile(file);
    } catch (e) {
      throw new GpugradError(`cifar10: cannot read ${file}: ${(e as Error).message}`);
    }
  }));
  const counts = contents.map((bytes, i) => cifarRecordCount(bytes, files[i]));
  // the official files hold 10 000 records each; one cut at a record boundary shows up as a different count
  const testAt = files.length - 1;
  counts.forEach((c, i) => {
    if (c !== counts[testAt]) {
      throw new GpugradError(`cifar10: ${files[i]} holds ${c} records but ${files[testAt]} holds ${counts[testAt]}; ` +
        'every batch file has the same number (10 000 in the official version): one of them is truncated');
    }
  });
  const per = counts[testAt], trainCount = per * CIFAR10_TRAIN_FILES.length;
  const train = { images: new Uint8Array(trainCount * IMAGE_BYTES), labels: new Uint8Array(trainCount) };
  const test = { images: new Uint8Array(per * IMAGE_BYTES), labels: new Uint8Array(per) };
  contents.forEach((bytes, i) => {
    if (i === testAt) decodeRecords(bytes, files[i], test.images, test.labels, 0);
    else decodeRecords(bytes, files[i], train.images, train.labels, i * per);
  });
  const classes = readClasses(folder);
  const shape = [3, 32, 32] as const;
  return {
    train: new ImageDataset({ name: 'CIFAR10 train', ...train, imageShape: shape, classes, files: files.slice(0, testAt) }),
    test: new ImageDataset({ name: 'CIFAR10 test', ...test, imageShape: shape, classes, files: [files[testAt]] }),
    classes,
    dir: folder,
  };
}

/** Loads both CIFAR-10 splits (50 000 training and 10 000 test images of 3×32×32 bytes), downloading if needed. */
export async function loadCIFAR10(options: Cifar10Options = {}): Promise<DatasetSplits> {
  let folder: string;
  try {
    folder = await ensureCifar10(options);
  } catch (e) {
    // file-system failures (a cache folder that cannot be written, a full disk) carry the path in their message
    if (e instanceof GpugradError || !(e as NodeJS.ErrnoException).code) throw e;
    throw new GpugradError(`cifar10: ${(e as Error).message} (choose another folder with cacheDir / --cache-dir)`);
  }
  return readCifar10Folder(folder);
}
