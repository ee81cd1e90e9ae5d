/**
 * A worker thread of `HessianPool` (./hessian-spectrum.ts): computes the float64 Hessian spectra of the groups of
 * networks it is sent, on the CPU device (its environment sets GPUGRAD_DEVICE=cpu: no WebGPU in workers).
 */
import { parentPort } from 'node:worker_threads';
import * as g from '../index.js';
import { type HessianJob, type HessianReply, hessianSpectra } from './hessian-spectrum.js';

parentPort!.on('message', async (job: HessianJob) => {
  let reply: HessianReply;
  const x = g.tensor(job.x, { shape: job.xShape, device: 'cpu', dtype: 'float64' });
  const y = g.tensor(job.y, { shape: job.yShape, device: 'cpu', dtype: 'float64' });
  try {
    reply = { id: job.id, spectra: await hessianSpectra(job.params, x, y, job.tauRel) };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).stack ?? String(e) };
  } finally {
    x.dispose();
    y.dispose();
  }
  parentPort!.postMessage(reply!);
});
