/**
 * The wasm device's supervisor thread (started by ./threads.ts): it starts the kernel workers (./worker.ts) and
 * watches them, so that a worker that exits during a job is seen at once. The main thread cannot see it itself: it is
 * blocked in Atomics.wait until the job's parts report done, and a Worker's 'exit' event reaches only the thread that
 * created it, on that thread's event loop. This thread runs no kernel and its event loop stays free: on an exit it
 * marks the worker gone in the control block and wakes the main thread, which then fails the job with a clear error
 * instead of waiting forever (./threads.ts).
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { markGone, stopping, waitForNextJob } from './threads.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';

const { module, memory, ctl, count } = workerData as { module: WasmModule; memory: WasmMemory; ctl: Int32Array; count: number };
const workers = Array.from({ length: count }, (_, i) =>
  new Worker(new URL('./worker.js', import.meta.url), { workerData: { module, memory, ctl, index: i + 1 }, execArgv: [] }));

try {
  await Promise.all(workers.map((w) => new Promise((ok, fail) => { w.once('message', ok); w.once('error', fail); })));
} catch (e) {
  for (const w of workers) void w.terminate();
  throw e; // this thread's 'error' event: the main thread runs single-threaded
}
workers.forEach((w, i) => w.once('exit', () => {
  if (stopping(ctl)) return; // the device shut down: workers leave by design
  markGone(ctl, i + 1);
  parentPort!.postMessage({ exited: i + 1 });
}));
// A test's way to kill a worker (./threads.ts terminateWorker): now, or once the next job has started.
parentPort!.on('message', (m: { terminate: number; duringNextJob: boolean }) => {
  if (m.duringNextJob) waitForNextJob(ctl);
  void workers[m.terminate - 1].terminate();
});
parentPort!.postMessage('ready');
