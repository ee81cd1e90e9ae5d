/**
 * Worker threads for the wasm device: each instantiates the same kernel module over the same shared memory, then
 * sleeps on a futex word of a small control block. To run a job the main thread writes it into the control block,
 * bumps the sequence word and wakes them (`Atomics.notify`), does its own share, and waits until every worker has
 * marked the job finished — about 10–30 µs per job instead of a postMessage round trip (~100 µs), which matters for
 * the many small matmuls of a training step. Only jobs big enough to pay for it go to the threads (./backend.ts
 * decides). A supervisor thread (./supervisor.ts) starts the workers and watches them: a worker that dies mid-job is
 * marked gone, and the job fails with an error instead of leaving the main thread waiting for it forever.
 *
 * The supervisor comes from the platform (core/platform.ts: Node's worker_threads), so the browser graph has no Node
 * built-in; where the platform has none, or there is no SharedArrayBuffer (a page that is not cross-origin isolated),
 * the device runs single-threaded.
 */
import { GpugradError } from '../../core/errors.js';
import type { Platform, WorkerHandle } from '../../core/platform.js';
import { CALL_WORDS, type CallJob, callItems, decodeCall, encodeCall } from './batched.js';
import { decodeGemm, encodeGemm, GEMM_WORDS, type GemmJob, gemmItems, share } from './gemm.js';
import type { Kernels } from './kernels.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';

// control block words; then, per worker i (1-based): the last job it finished, and whether it has exited
const SEQ = 0, DONE = 1, FAILED = 2, KIND = 3, ITEMS = 4, PARTS = 5, GONE_ANY = 6, JOB = 8;
const FINISHED = JOB + Math.max(GEMM_WORDS, CALL_WORDS);
export const KIND_STOP = 0, KIND_GEMM = 1, KIND_CALL = 2;
const workerCount = (ctl: Int32Array) => (ctl.length - FINISHED) / 2;
const finishedAt = (i: number) => FINISHED + i - 1;
const goneAt = (ctl: Int32Array, i: number) => FINISHED + workerCount(ctl) + i - 1;

/** The supervisor's report (./supervisor.ts): worker `i` has exited; wakes a main thread waiting for a job. */
export function markGone(ctl: Int32Array, i: number): void {
  Atomics.store(ctl, goneAt(ctl, i), 1);
  Atomics.store(ctl, GONE_ANY, i);
  Atomics.add(ctl, DONE, 1);
  Atomics.notify(ctl, DONE);
}
/** Whether the device is shutting the workers down. */
export const stopping = (ctl: Int32Array) => Atomics.load(ctl, KIND) === KIND_STOP && Atomics.load(ctl, SEQ) !== 0;
/** Blocks until the main thread posts its next job (a test's way to kill a worker mid-job). */
export function waitForNextJob(ctl: Int32Array): void { Atomics.wait(ctl, SEQ, Atomics.load(ctl, SEQ)); }

export class Threads {
  private seq = 0;
  private closed = false;
  /** a worker exited: jobs stay on the main thread */
  private broken = false;
  /** parts a job is split into (≤ workers + 1); the other workers wake, find no share, and report done */
  private active: number;
  private exits: ((i: number) => void)[] = [];

  private constructor(private supervisor: WorkerHandle, private count: number, private ctl: Int32Array) {
    this.active = count + 1;
    supervisor.on('message', (m) => { const i = (m as { exited?: number }).exited; if (i) for (const f of this.exits.splice(0)) f(i); });
    // without its supervisor a dying worker would go unseen: stop using the workers (a job in flight then is not caught)
    supervisor.once('exit', () => {
      if (!this.closed && !this.broken) { this.broken = true; this.warn('the wasm worker threads\' supervisor exited'); }
    });
  }

  /**
   * Starts `n` workers under a supervisor thread (./supervisor.ts; the main thread is one more part); null when
   * worker threads are unavailable.
   */
  static async start(module: WasmModule, memory: WasmMemory, n: number,
    startWorker: Platform['startWorker']): Promise<Threads | null> {
    if (n < 1 || typeof SharedArrayBuffer === 'undefined' || !startWorker) return null;
    const ctl = new Int32Array(new SharedArrayBuffer((FINISHED + 2 * n) * 4));
    const supervisor = startWorker(new URL('./supervisor.js', import.meta.url), { module, memory, ctl, count: n });
    try {
      await new Promise((ok, fail) => {
        supervisor.once('message', ok);
        supervisor.once('error', fail);
        supervisor.once('exit', () => fail(new Error('the supervisor thread exited')));
      });
    } catch (e) {
      void supervisor.terminate();
      console.warn(`gpugrad: wasm worker threads could not start (${(e as Error).message}); running single-threaded`);
      return null;
    }
    const threads = new Threads(supervisor, n, ctl);
    supervisor.unref(); // after the listeners: adding a 'message' listener refs the worker's port again
    return threads;
  }

  /** Parts a job is split into: the (active) workers and the main thread. */
  get parts(): number { return this.active; }
  /** Uses `n` threads (the main one included) from now on, at most those started; 1 runs jobs on the main thread. */
  use(n: number): void { this.active = Math.max(1, Math.min(n, this.count + 1)); }

  /** Tests: kills worker `i` (1-based) now, or once the next job has started; resolves when its exit is seen. */
  terminateWorker(i: number, duringNextJob = false): Promise<number> {
    const seen = new Promise<number>((ok) => this.exits.push(ok));
    this.supervisor.ref(); // the process waits for the answer
    this.supervisor.postMessage({ terminate: i, duringNextJob });
    return seen.finally(() => this.supervisor.unref());
  }

  private warn(why: string): void {
    console.warn(`gpugrad: ${why}; the wasm device runs single-threaded from now on`);
  }

  /** Whether a worker has exited (seen synchronously, from the control block): then jobs stay on the main thread. */
  private isBroken(): boolean {
    if (!this.broken && Atomics.load(this.ctl, GONE_ANY) !== 0) {
      this.broken = true;
      this.warn(`wasm worker thread ${Atomics.load(this.ctl, GONE_ANY)} exited`);
    }
    return this.broken;
  }

  /** Runs a gemm over `items` work items, the main thread taking part 0; `what` names the op in errors. */
  gemm(kern: Kernels, job: GemmJob, items: number, what = 'matmul'): void {
    this.run(KIND_GEMM, items, (c) => encodeGemm(job, c, JOB), (from, to) => gemmItems(kern, job, from, to),
      `wasm ${what}`, `the job (${job.m}×${job.n}, k = ${job.k})`);
  }

  /** Runs a batched kernel call (./batched.ts) over `count` entries, split like a gemm's items. */
  call(kern: Kernels, job: CallJob, count: number, what: string): void {
    this.run(KIND_CALL, count, (c) => encodeCall(job, c, JOB), (from, to) => callItems(kern, job, from, to),
      `wasm ${what}`, `${job.fn} over ${count} images`);
  }

  private run(kind: number, items: number, encode: (c: Int32Array) => void, mine: (from: number, to: number) => void,
    what: string, job: string): void {
    if (this.closed || this.active === 1 || this.isBroken()) { mine(0, items); return; }
    const c = this.ctl, seq = ++this.seq;
    c[KIND] = kind;
    c[ITEMS] = items;
    c[PARTS] = this.active;
    encode(c);
    Atomics.store(c, FAILED, 0);
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
    const [from, to] = share(items, this.parts, 0);
    mine(from, to);
    // every worker reports (those without a share too), or the supervisor reports it gone
    const lost: number[] = [];
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(c, DONE);
      let pending = 0;
      lost.length = 0;
      for (let i = 1; i <= this.count; i++) {
        if (Atomics.load(c, finishedAt(i)) === seq) continue;
        if (Atomics.load(c, goneAt(c, i)) === 1) lost.push(i); else pending++;
      }
      if (pending === 0) break;
      // spin briefly (the workers finish about when we do), then sleep on the done word
      if (spins > 2000) Atomics.wait(c, DONE, done, 5);
    }
    if (lost.length) {
      this.isBroken();
      throw new GpugradError(`${what}: worker thread ${lost.join(', ')} exited while running its share of ${job}, so the ` +
        'result is incomplete and the op failed; ' +
        'the wasm device runs on the main thread from now on: run the step again (restart the process to get the threads back)');
    }
    if (Atomics.load(c, FAILED) !== 0) throw new GpugradError(`${what}: a worker thread failed while running its share of ${job}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctl[KIND] = KIND_STOP;
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    void this.supervisor.terminate();
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
        if (ctl[KIND] === KIND_GEMM) gemmItems(kern, decodeGemm(ctl, JOB), from, to);
        else callItems(kern, decodeCall(ctl, JOB), from, to);
      }
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.store(ctl, finishedAt(index), seq);
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
