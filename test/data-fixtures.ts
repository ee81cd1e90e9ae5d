/** Small synthetic dataset files for the data tests (written to temp folders). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_CLASSES } from '../src/data/index.js';

/**
 * A CIFAR-10 batches folder with `per` records per file; record r of file f has label (r + f) % 10 and pixel j
 * (f * 50 + r * 3 + j) % 256, or random bytes with `noise` (so that an archive of it does not compress away).
 */
export function writeCifarFolder(root: string, per: number, noise = false): string {
  const dir = join(root, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  names.forEach((name, f) => {
    const bytes = new Uint8Array(per * 3073);
    for (let r = 0; r < per; r++) {
      bytes[r * 3073] = (r + f) % 10;
      for (let j = 0; j < 3072; j++) bytes[r * 3073 + 1 + j] = noise ? Math.floor(Math.random() * 256) : (f * 50 + r * 3 + j) % 256;
    }
    writeFileSync(join(dir, name), bytes);
  });
  writeFileSync(join(dir, 'batches.meta.txt'), `${CIFAR10_CLASSES.join('\n')}\n\n`);
  return dir;
}

