/**
 * A worker thread of `HessianPool` (./hessian-pool.ts): computes the Hessian spectra of the groups of networks it is
 * sent, on the CPU device in float64. It installs the Node platform itself, as src/index.ts does; its environment sets
 * GPUGRAD_DEVICE=cpu, so no WebGPU device is opened in a worker.
 */
import { parentPort } from 'node:worker_threads';
import { nodePlatform } from '../core/platform-node.js';
import { tensor } from '../tensor/creation.js';
import { startDevices } from '../tensor/device.js';
import { hessianSpectra } from './hessian-spectrum.js';
import type { HessianJob, HessianReply } from './hessian-pool.js';

await startDevices(nodePlatform);

parentPort!.on('message', async (job: HessianJob) => {
  let reply: HessianReply;
  const x = tensor(job.x, { shape: job.xShape, device: 'cpu', dtype: 'float64' });
  const y = tensor(job.y, { shape: job.yShape, device: 'cpu', dtype: 'float64' });
  try {
    reply = { id: job.id, spectra: await hessianSpectra(job.sizes, job.params, x, y, job.tauRel) };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).stack ?? String(e) };
  } finally {
    x.dispose();
    y.dispose();
  }
  parentPort!.postMessage(reply!);
});
