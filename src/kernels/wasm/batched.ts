/**
 * A batched kernel call, the threads' second kind of job (./threads.ts): one wasm kernel run once per batch entry p,
 * with its first two arguments (byte addresses) advanced by p times a stride each — conv's im2col into each image's
 * packed panels, and col2im of each image's gradient, which are independent per image. Split over the threads by
 * entries, this moves conv's data movement off the main thread (CNN-B's 5×5 convs spent ~40 % of a step in it).
 */
import type { Kernels } from './kernels.js';

/** The kernels a batched call may run, by index in the control block. */
const CALLABLE = ['im2col_f32', 'im2col_f64', 'col2im_f32', 'col2im_f64'] as const;
export type Callable = typeof CALLABLE[number];
const MAX_ARGS = 24;
export const CALL_WORDS = 4 + MAX_ARGS;

export interface CallJob {
  fn: Callable;
  /** the kernel's arguments for entry 0; entry p gets args[0] + p·strides[0] and args[1] + p·strides[1] */
  args: readonly number[];
  strides: readonly [number, number];
}

export function encodeCall(j: CallJob, out: Int32Array, at: number): void {
  if (j.args.length > MAX_ARGS) throw new Error(`internal: a batched call takes at most ${MAX_ARGS} arguments`);
  out[at] = CALLABLE.indexOf(j.fn);
  out[at + 1] = j.strides[0];
  out[at + 2] = j.strides[1];
  out[at + 3] = j.args.length;
  out.set(j.args, at + 4);
}
export function decodeCall(w: Int32Array, at: number): CallJob {
  return { fn: CALLABLE[w[at]], strides: [w[at + 1], w[at + 2]], args: Array.from(w.subarray(at + 4, at + 4 + w[at + 3])) };
}

/** Runs entries [from, to) of a batched call. */
export function callItems(kern: Kernels, j: CallJob, from: number, to: number): void {
  const fn = kern[j.fn] as (...args: number[]) => void;
  const args = [...j.args];
  for (let p = from; p < to; p++) {
    args[0] = j.args[0] + p * j.strides[0];
    args[1] = j.args[1] + p * j.strides[1];
    fn(...args);
  }
}
