/**
 * How long the datasets take to load, and what the DataLoader costs per epoch on the current device: seconds to read
 * MNIST and CIFAR-10 from their files, the one-time upload, milliseconds per batch, and the host writes (uploads)
 * the runtime saw per epoch — which should be one (the epoch's order), however many batches there are.
 *
 *   node scripts/build.mjs && node scripts/run-with-gpu.mjs dist/bench/data-load.js [--cifar-dir DIR] [--batch 64]
 *
 * CIFAR-10 comes from --cifar-dir (a folder holding cifar-10-batches-bin/) or the cache (downloaded if needed).
 */
import { parseArgs } from 'node:util';
import * as g from '../src/index.js';

const { values } = parseArgs({ options: { 'cifar-dir': { type: 'string' }, batch: { type: 'string' }, epochs: { type: 'string' } } });
const batchSize = Number(values.batch ?? 64);
const epochs = Number(values.epochs ?? 2);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

/** Counts Runtime.write calls (host → device copies) while `fn` runs. */
async function countWrites<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const rt = g.webgpuRuntime();
  if (!rt) return [await fn(), NaN];
  let writes = 0;
  const write = rt.write.bind(rt);
  rt.write = (...args: Parameters<typeof rt.write>) => { writes++; return write(...args); };
  try { return [await fn(), writes]; } finally { rt.write = write; }
}

async function epochCost(name: string, ds: g.ImageDataset): Promise<void> {
  const loader = new g.DataLoader(ds, { batchSize, shuffle: true, seed: 0 });
  for (let e = 0; e < epochs; e++) {
    const [{ seconds, steps }, writes] = await countWrites(async () => {
      const t0 = performance.now();
      let steps = 0;
      for (const batch of loader) { batch.dispose(); steps++; }
      await g.sync();
      return { seconds: (performance.now() - t0) / 1000, steps };
    });
    console.log(`  ${name} epoch ${e + 1} on ${loader.device}: ${steps} batches of ${batchSize} in ${seconds.toFixed(2)} s ` +
      `(${((seconds * 1000) / steps).toFixed(3)} ms/batch${e === 0 ? ', including the one-time upload' : ''}); ` +
      `host writes (uploads): ${writes}`);
  }
  ds.release();
}

console.log(`device: ${g.deviceInfo()}`);
const [mnist, mnistS] = await timed(() => g.loadMNIST());
console.log(`MNIST: ${mnist.train.length} + ${mnist.test.length} images read in ${mnistS.toFixed(2)} s from ${mnist.dir}`);
const [cifar, cifarS] = await timed(() => g.loadCIFAR10({ dataDir: values['cifar-dir'] }));
console.log(`CIFAR-10: ${cifar.train.length} + ${cifar.test.length} images read in ${cifarS.toFixed(2)} s from ${cifar.dir}`);
await epochCost('MNIST train', mnist.train);
await epochCost('CIFAR-10 train', cifar.train);
g.shutdown();
