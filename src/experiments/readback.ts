/**
 * What experiments read back from the device, and how seldom: per-step metrics logged on the device and drained in
 * blocks (one read per block of steps, not per step), running totals over an epoch's batches read once, and
 * parameters flattened into host arrays.
 */
import * as g from '../index.js';
import type { Tensor } from '../index.js';

/**
 * Per-model values produced on the device each step (an [N] loss, or [K, N]: several metrics of N models), read back
 * together every `every` pushes: one read per block of steps instead of a GPU round trip per step.
 */
export class VectorLog {
  private pending: Tensor[] = [];
  /** the last drain's result: a drain resolves only after it, so blocks arrive in the order they were taken */
  private last: Promise<unknown> = Promise.resolve();
  constructor(readonly every = 100) {}
  /** Takes ownership of the tensor; every push must have the same number of elements. */
  push(t: Tensor): void { this.pending.push(g.keep(t)); }
  get full(): boolean { return this.pending.length >= this.every; }
  /**
   * The values pushed since the last drain, in order: one array per push, its elements in row-major order. The block
   * is taken and its read started when drain() is called, so the caller may go on pushing (and stepping) before
   * awaiting it: the device keeps working during the read.
   */
  drain(): Promise<number[][]> {
    const block = this.pending;
    this.pending = [];
    let rows: Promise<number[][]> = Promise.resolve([]);
    if (block.length) {
      const size = block[0].size;
      const all = g.tidy(() => g.stack(block.map((t) => t.reshape([size])), 0));
      for (const t of block) t.dispose();
      rows = all.data().finally(() => all.dispose())
        .then((data) => block.map((_, k) => Array.from(data.subarray(k * size, (k + 1) * size))));
    }
    const previous = this.last;
    const next = rows.then(async (r) => { await previous.catch(() => {}); return r; });
    this.last = next;
    return next;
  }
}

/** Scalars (a loss, a gradient norm) logged as VectorLog does, drained as one number per push. */
export class ScalarLog {
  private readonly log: VectorLog;
  constructor(readonly every = 100) { this.log = new VectorLog(every); }
  /** Takes ownership of a scalar tensor. */
  push(t: Tensor): void { this.log.push(t); }
  get full(): boolean { return this.log.full; }
  /** The values pushed since the last drain, in order (the block is taken at the call, as VectorLog's). */
  async drain(): Promise<number[]> { return (await this.log.drain()).map((row) => row[0]); }
}

/**
 * A running total kept on the device over many batches and read back once (one GPU round trip per epoch, not per
 * batch). add() runs its function in a tidy() scope (gradients recorded as usual: it may train) and adds what it
 * returns to the total without recording; everything else the function made is released at once.
 */
export class DeviceSum {
  private total: Tensor;
  constructor(shape: number[]) { this.total = g.keep(g.zeros(shape)); }
  add(fn: () => Tensor): void {
    const next = g.tidy(() => {
      const value = fn();
      return g.noGrad(() => this.total.add(value));
    });
    this.total.dispose();
    this.total = g.keep(next);
  }
  /** The total, read once; the sum is released (use it no more). */
  async read(): ReturnType<Tensor['data']> {
    try {
      return await this.total.data();
    } finally {
      this.total.dispose();
    }
  }
}

/** All parameters flattened into one host array, in namedParameters() order. */
export async function flatParameters(params: readonly Tensor[]): Promise<Float32Array> {
  const parts = await Promise.all(params.map((p) => p.data()));
  const out = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of parts) { out.set(a, at); at += a.length; }
  return out;
}

/**
 * Each member's parameters flattened, in the order of its own model's parameters() (so member n's vector is what
 * flatParameters gives for that model trained alone), from one read of each stacked parameter [N, ...].
 */
export async function memberFlatParameters(stacked: readonly Tensor[]): Promise<Float32Array[]> {
  const n = stacked[0].shape[0];
  const parts = await Promise.all(stacked.map((p) => p.data()));
  const lengths = stacked.map((p) => p.size / n);
  const total = lengths.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, (_, m) => {
    const out = new Float32Array(total);
    let at = 0;
    parts.forEach((a, i) => { out.set(a.subarray(m * lengths[i], (m + 1) * lengths[i]), at); at += lengths[i]; });
    return out;
  });
}
