/** Helpers shared by the op files: argument checks, scalar operands, dtype promotion, device checks, broadcast views. */
import type { DType, View } from '../../kernels/backend.js';
// cast is the recorded one: a float32 operand promoted to float64 keeps its gradient
import { check, fmtShape } from '../../core/errors.js';
import { broadcastStrides } from '../../core/shape.js';
import { constant } from '../creation.js';
import { Tensor } from '../tensor.js';
import { cast } from './views.js';

export type TensorLike = Tensor | number;

export function assertTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  check(x instanceof Tensor, op, () => `${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
}

export function assertFloat(op: string, t: Tensor, what: string): void {
  assertTensor(op, t, what);
  check(t.dtype !== 'int32', op, () => `${what} must be floating point, got int32 ${fmtShape(t.shape)}; use .cast('float32')`);
}

/** A kernel op's operands must share a device, and a float dtype (int32 operands are indices or labels). */
export function sameDevice(op: string, ...ts: Tensor[]): void {
  for (const t of ts.slice(1)) {
    check(t.device === ts[0].device, op,
      () => `tensors are on different devices (${ts[0].device} ${fmtShape(ts[0].shape)} and ${t.device} ${fmtShape(t.shape)}); move one with .to()`);
    check(t.dtype === ts[0].dtype || t.dtype === 'int32' || ts[0].dtype === 'int32', op,
      () => `dtypes differ (${ts[0].dtype} and ${t.dtype}); cast one`);
  }
}

/**
 * Runs `f` on copies of `ts` that are contiguous from their storage's first element (what the vision kernels read;
 * a tensor already so is passed as it is), disposing the copies it made.
 */
export function withContiguous<R>(ts: Tensor[], f: (...c: Tensor[]) => R): R {
  const c = ts.map((t) => (t.isContiguous && t.offset === 0 ? t : Tensor.fromStorage(t.storage.backend.copy(t.kernelView()), t.shape)));
  try { return f(...c); } finally { c.forEach((x, i) => { if (x !== ts[i]) x.dispose(); }); }
}

export type Pair = number | readonly [number, number];

/** A size, stride, padding or dilation given as one number or an (H, W) pair, checked: integers ≥ min. */
export function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  check(p.length === 2 && p.every((x) => Number.isInteger(x) && x >= min), op,
    () => `${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

/** PyTorch's output size: floor((in + 2·pad − dilation·(k − 1) − 1) / stride) + 1. */
export const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;


/** Float dtypes win over int32; float64 wins over float32. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  return 'float32';
}

/** Brings two operands (tensors or numbers) to one device and dtype. Numbers become cached constants. */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const ta = a instanceof Tensor ? a : null, tb = b instanceof Tensor ? b : null;
  check(ta || tb, op, 'at least one operand must be a Tensor');
  for (const [x, name] of [[a, 'first'], [b, 'second']] as const) {
    check(x instanceof Tensor || typeof x === 'number', op, `the ${name} operand must be a Tensor or a number, got ${typeof x}`);
  }
  if (ta && tb) {
    check(ta.device === tb.device, op,
      () => `tensors are on different devices (${ta.device} ${fmtShape(ta.shape)} and ${tb.device} ${fmtShape(tb.shape)}); move one with await t.to('${ta.device}')`);
    const dt = promote(ta.dtype, tb.dtype);
    return [ta.dtype === dt ? ta : cast(ta, dt), tb.dtype === dt ? tb : cast(tb, dt)];
  }
  const t = (ta ?? tb)!;
  const v = (ta ? b : a) as number;
  const dt = t.dtype === 'int32' && !Number.isInteger(v) ? 'float32' : t.dtype;
  const tt = t.dtype === dt ? t : cast(t, dt);
  const c = constant(v, dt, t.device);
  return ta ? [tt, c] : [c, tt];
}

/** The backend view of `t` read as `shape` (broadcast dimensions get stride 0). */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  return { storage: t.storage, shape, strides: broadcastStrides(t.shape, t.strides, shape), offset: t.offset };
}

/**
 * Disposes the intermediates `ts` of a composite op that returned `out`, except those its recorded graph holds: an
 * input (or saved tensor) of a node between them and `out`, which backward will read — those the caller's scope frees,
 * after backward. Only nodes made since the oldest intermediate are walked: nothing older can have used one of them.
 */
export function releaseIntermediates(out: Tensor, ...ts: Tensor[]): void {
  const candidates = ts.filter((t) => t !== out && !t.isDisposed);
  if (candidates.length === 0) return;
  const since = Math.min(...candidates.map((t) => t.id));
  const held = new Set<Tensor>();
  const todo = [out];
  while (todo.length > 0) {
    const node = todo.pop()!.gradFn;
    if (!node) continue;
    const saved = Object.values(node.saved ?? {}).filter((v): v is Tensor => v instanceof Tensor);
    for (const t of [...node.inputs, ...saved]) {
      if (held.has(t) || t.id < since) continue;
      held.add(t);
      todo.push(t);
    }
  }
  for (const t of candidates) if (!held.has(t)) t.dispose();
}
