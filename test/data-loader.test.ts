/** The DataLoader: every sample once per epoch, seeded shuffles that change by epoch, partial and dropped last
 * batches, batch assembly on WebGPU equal to the CPU path (bytes → [0, 1] exactly as ToTensor), and no host uploads
 * per step. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataLoader, ImageDataset, PIXEL_TABLE, loadMNIST } from '../src/data/index.js';
import { gatherBytes } from '../src/kernels/cpu/gather.js';
import { allDevices, g, throwsGpugrad, webgpuAvailable } from './helpers.js';

/** `n` samples of `c×h×w` bytes: byte 0 and 1 of sample i encode i, the rest is a pattern; label i % 10. */
function indexedDataset(n: number, shape: [number, number, number]): ImageDataset {
  const per = shape[0] * shape[1] * shape[2];
  const images = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) {
    images[i * per] = i & 255;
    images[i * per + 1] = i >> 8;
    for (let j = 2; j < per; j++) images[i * per + j] = (i * 31 + j * 7) % 256;
  }
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return new ImageDataset({ name: 'indexed', images, labels, imageShape: shape, classes: 'abcdefghij'.split('') });
}

/** One epoch read back: the sample index of every row, batch sizes, and x/y of every batch. */
async function readEpoch(loader: DataLoader) {
  const order: number[] = [], sizes: number[] = [], xs: Float32Array[] = [], ys: Int32Array[] = [];
  const per = loader.dataset.imageSize;
  for (const batch of loader) {
    const x = (await batch.x.data()) as Float32Array, y = (await batch.y.data()) as Int32Array;
    assert.equal([...batch.x.shape], [y.length, ...loader.dataset.imageShape]);
    assert.is(batch.x.dtype, 'float32');
    assert.is(batch.y.dtype, 'int32');
    batch.dispose();
    for (let b = 0; b < y.length; b++) {
      const i = Math.round(x[b * per] * 255) + 256 * Math.round(x[b * per + 1] * 255);
      order.push(i);
      assert.is(y[b], i % 10, `label of sample ${i}`);
    }
    sizes.push(y.length);
    xs.push(x);
    ys.push(y);
  }
  return { order, sizes, xs, ys };
}

/** Exact equality of two arrays; reports the first difference (uvu's diff of long arrays takes minutes). */
function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

const devices = (): g.DeviceName[] => allDevices();

test('every sample exactly once per epoch; the last batch is partial, or dropped with dropLast', async () => {
  const ds = indexedDataset(300, [1, 3, 5]);
  for (const device of devices()) {
    const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, seed: 1, device });
    assert.is(loader.length, 5);
    const { order, sizes } = await readEpoch(loader);
    assert.equal(sizes, [64, 64, 64, 64, 44]);
    assertSame([...order].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i), `${device}: a permutation`);
    const dropped = new DataLoader(ds, { batchSize: 64, shuffle: true, seed: 1, dropLast: true, device });
    assert.is(dropped.length, 4);
    const d = await readEpoch(dropped);
    assert.equal(d.sizes, [64, 64, 64, 64]);
    assertSame(d.order, order.slice(0, 256), 'dropLast keeps the same order and drops the tail');
    const plain = await readEpoch(new DataLoader(ds, { batchSize: 100, device }));
    assertSame(plain.order, Array.from({ length: 300 }, (_, i) => i), 'no shuffle: dataset order');
  }
});

test('shuffles differ from epoch to epoch and repeat with the seed', async () => {
  const ds = indexedDataset(50, [1, 2, 2]);
  const a = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 42, device: 'cpu' });
  const b = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 42, device: 'cpu' });
  const c = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 43, device: 'cpu' });
  const a1 = (await readEpoch(a)).order, a2 = (await readEpoch(a)).order;
  const b1 = (await readEpoch(b)).order, b2 = (await readEpoch(b)).order;
  const c1 = (await readEpoch(c)).order;
  assert.not.equal(a1, a2, 'a new order each epoch');
  assertSame(a1, b1, 'same seed, same first epoch');
  assertSame(a2, b2, 'same seed, same second epoch');
  assert.not.equal(a1, c1, 'another seed, another order');
  assert.is(a.epoch, 2);
  // the global generator (manualSeed) when no seed is given
  g.manualSeed(5);
  const m1 = (await readEpoch(new DataLoader(ds, { batchSize: 50, shuffle: true, device: 'cpu' }))).order;
  g.manualSeed(5);
  const m2 = (await readEpoch(new DataLoader(ds, { batchSize: 50, shuffle: true, device: 'cpu' }))).order;
  assertSame(m1, m2, 'manualSeed');
});

test('pixels are byte / 255 in float32 (ToTensor), labels int32; the CPU reference gathers by row', () => {
  assert.is(PIXEL_TABLE[255], 1);
  assert.is(PIXEL_TABLE[0], 0);
  assert.is(PIXEL_TABLE[51], Math.fround(51 / 255));
  // a 3-byte row straddles word boundaries
  const table = new Int32Array(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).buffer);
  const rows = Int32Array.from([3, 0, 2]);
  assert.equal(Array.from(gatherBytes(table, rows, 1, 2, 3, null)), [1, 2, 3, 7, 8, 9]);
  assert.equal(Array.from(gatherBytes(table, rows, 0, 1, 3, PIXEL_TABLE)), [10, 11, 12].map((b) => Math.fround(b / 255)));
  throwsGpugrad(() => gatherBytes(table, Int32Array.from([4]), 0, 1, 3, null), /row index 4 .* outside the table's 4 rows/);
});

test('WebGPU batch assembly equals the CPU path, bit for bit, on odd row sizes and batch sizes (both kernel variants)', async () => {
  if (!webgpuAvailable()) return;
  // rows of 7, 45 and 2 bytes take the kernel's byte variant; rows of 4 and 12 bytes its word variant
  const cases = [[37, [1, 1, 7], 5], [130, [3, 5, 3], 64], [9, [1, 1, 2], 9], [1, [2, 1, 1], 4], [23, [3, 2, 2], 6], [70, [1, 2, 2], 64]] as const;
  for (const [n, shape, bs] of cases) {
    const ds = indexedDataset(n, [...shape]);
    const cpu = await readEpoch(new DataLoader(ds, { batchSize: bs, shuffle: true, seed: 7, device: 'cpu' }));
    const gpu = await readEpoch(new DataLoader(ds, { batchSize: bs, shuffle: true, seed: 7, device: 'webgpu' }));
    assertSame(gpu.order, cpu.order, `${n} ${shape}: order`);
    gpu.xs.forEach((x, i) => assertSame(x, cpu.xs[i], `${n} ${shape}: x of batch ${i}`));
    gpu.ys.forEach((y, i) => assertSame(y, cpu.ys[i], `${n} ${shape}: y of batch ${i}`));
    ds.release();
  }
});

test('real MNIST on WebGPU: a batch equals the CPU one, and an epoch makes no per-step host uploads', async () => {
  if (!webgpuAvailable()) return;
  const { test: mnist } = await loadMNIST();
  const rt = g.webgpuRuntime()!;
  const loader = new DataLoader(mnist, { batchSize: 1000, shuffle: true, seed: 3, device: 'webgpu' });
  const cpuLoader = new DataLoader(mnist, { batchSize: 1000, shuffle: true, seed: 3, device: 'cpu' });
  // the first epoch uploads the dataset (pixels, labels, pixel table) once, and the epoch's order
  let writes = 0;
  const write = rt.write.bind(rt);
  rt.write = (...args: Parameters<typeof rt.write>) => { writes++; return write(...args); };
  try {
    const cpuIt = cpuLoader[Symbol.iterator]();
    let steps = 0;
    for (const batch of loader) {
      const ref = cpuIt.next().value!;
      if (steps === 0) {
        assertSame(await batch.y.data(), await ref.y.data(), 'labels of batch 0');
        assertSame(await batch.x.data(), await ref.x.data(), 'pixels of batch 0');
      }
      batch.dispose();
      ref.dispose();
      steps++;
    }
    assert.is(steps, 10);
    assert.is(writes, 4, 'first epoch: pixels + labels + pixel table + order');
    writes = 0;
    const dispatches = rt.stats.dispatches;
    for (const batch of loader) batch.dispose();
    assert.is(writes, 1, 'later epochs: only the order, once');
    assert.is(rt.stats.dispatches - dispatches, 20, 'two gathers per batch');
  } finally {
    rt.write = write;
    mnist.release();
  }
});

test('loader errors name the problem', () => {
  const ds = indexedDataset(4, [1, 1, 1]);
  throwsGpugrad(() => new DataLoader(ds, { batchSize: 0 }), /DataLoader: batchSize must be a positive integer, got 0/);
  throwsGpugrad(() => new DataLoader(ds, { batchSize: 2.5 }), /batchSize must be a positive integer/);
  throwsGpugrad(() => new DataLoader(ds, { batchSize: 2, seed: 1, generator: new g.Generator(1) }), /seed or generator, not both/);
  throwsGpugrad(() => new ImageDataset({ name: 'x', images: new Uint8Array(5), labels: new Uint8Array(2), imageShape: [1, 1, 2], classes: [] }),
    /x: 5 image bytes do not make 2 images of 1×1×2/);
});

test.run();
