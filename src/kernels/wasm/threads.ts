/**
 * Worker threads for the wasm device: each instantiates the same kernel module over the same shared memory, then
 * sleeps on a futex word of a small control block. To run a job the main thread writes it into the control block,
 * bumps the sequence word and wakes them (`Atomics.notify`), does its own share, and waits for the done count — about
 * 10–30 µs per job instead of a postMessage round trip (~100 µs), which matters for the many small matmuls of a
 * training step. Only jobs big enough to pay for it go to the threads (./backend.ts decides).
 *
 * Workers come from the platform (core/platform.ts: Node's worker_threads), so the browser graph has no Node built-in;
 * where the platform has none, or there is no SharedArrayBuffer (a page that is not cross-origin isolated), the device
 * runs single-threaded.
 */
import { GpugradError } from '../../core/errors.js';
import type { Platform, WorkerHandle } from '../../core/platform.js';
import { decodeGemm, encodeGemm, GEMM_WORDS, type GemmJob, gemmItems, share } from './gemm.js';
import type { Kernels } from './kernels.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';

// control block words
const SEQ = 0, DONE = 1, FAILED = 2, KIND = 3, ITEMS = 4, PARTS = 5, JOB = 8;
export const KIND_STOP = 0, KIND_GEMM = 1;
export const CONTROL_WORDS = JOB + GEMM_WORDS;


export class Threads {
  private seq = 0;
  private closed = false;
  /** a worker exited: jobs stay on the main thread */
  private broken = false;
  /** parts a job is split into (≤ workers + 1); the other workers wake, find no share, and report done */
  private active: number;

  private constructor(private workers: WorkerHandle[], private ctl: Int32Array) { this.active = workers.length + 1; }

  /** Starts `n` workers (the main thread is one more part); null when worker threads are unavailable. */
  static async start(module: WasmModule, memory: WasmMemory, n: number,
    startWorker: Platform['startWorker']): Promise<Threads | null> {
    if (n < 1 || typeof SharedArrayBuffer === 'undefined' || !startWorker) return null;
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    const url = new URL('./worker.js', import.meta.url);
    const workers = Array.from({ length: n }, (_, i) => startWorker(url, { module, memory, ctl, index: i + 1 }));
    try {
      await Promise.all(workers.map((w) => new Promise((ok, fail) => {
        w.once('message', ok);
        w.once('error', fail);
      })));
    } catch (e) {
      for (const w of workers) void w.terminate();
      console.warn(`gpugrad: wasm worker threads could not start (${(e as Error).message}); running single-threaded`);
      return null;
    }
    for (const w of workers) w.unref();
    const threads = new Threads(workers, ctl);
    // a worker that has exited (killed, out of memory) would never report done: later jobs run on the main thread.
    // (Its exit is seen between jobs, when the event loop runs; one dying during a job is not caught.)
    for (const w of workers) {
      w.once('exit', () => {
        if (threads.closed || threads.broken) return;
        threads.broken = true;
        console.warn('gpugrad: a wasm worker thread exited; the wasm device runs single-threaded from now on');
      });
    }
    return threads;
  }

  /** Parts a job is split into: the (active) workers and the main thread. */
  get parts(): number { return this.active; }
  /** Uses `n` threads (the main one included) from now on, at most those started; 1 runs jobs on the main thread. */
  use(n: number): void { this.active = Math.max(1, Math.min(n, this.workers.length + 1)); }

  /** Runs a gemm over `items` work items, the main thread taking part 0. */
  gemm(kern: Kernels, job: GemmJob, items: number): void {
    if (this.closed || this.broken || this.active === 1) { gemmItems(kern, job, 0, items); return; }
    const c = this.ctl;
    c[KIND] = KIND_GEMM;
    c[ITEMS] = items;
    c[PARTS] = this.active;
    encodeGemm(job, c, JOB);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, FAILED, 0);
    Atomics.store(c, SEQ, ++this.seq);
    Atomics.notify(c, SEQ);
    const [from, to] = share(items, this.parts, 0);
    gemmItems(kern, job, from, to);
    const want = this.workers.length;
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(c, DONE);
      if (done >= want) break;
      // spin briefly (the workers finish about when we do), then sleep on the done word
      if (spins > 2000) Atomics.wait(c, DONE, done, 5);
    }
    if (Atomics.load(c, FAILED) !== 0) throw new GpugradError('wasm: a worker thread failed while running a matmul');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctl[KIND] = KIND_STOP;
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    for (const w of this.workers) void w.terminate();
  }
}

/** The worker's side (./worker.ts): waits for jobs and runs its share of each until told to stop. */
export function serve(kern: Kernels, ctl: Int32Array, index: number): void {
  let seq = 0;
  for (;;) {
    Atomics.wait(ctl, SEQ, seq);
    seq = Atomics.load(ctl, SEQ);
    if (ctl[KIND] === KIND_STOP) return;
    try {
      if (index < ctl[PARTS]) {
        const [from, to] = share(ctl[ITEMS], ctl[PARTS], index);
        gemmItems(kern, decodeGemm(ctl, JOB), from, to);
      }
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
