/** Helpers shared by the op files: scalar operands, dtype promotion, device checks, broadcast views. */
import type { DType, View } from '../../kernels/backend.js';
// cast is the recorded one: a float32 operand promoted to float64 keeps its gradient
import { check, fmtShape } from '../../kernels/errors.js';
import { broadcastStrides } from '../../kernels/shape.js';
import { constant } from '../creation.js';
import { Tensor } from '../tensor.js';
import { cast } from './views.js';

export type TensorLike = Tensor | number;

export function assertTensor(op: string, x: unknown, what = 'input'): asserts x is Tensor {
  check(x instanceof Tensor, op, () => `${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
}

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
 * Disposes intermediates of a composite op, except those the autograd graph holds (they require grad and are freed
 * with the user's scope, after backward has used them).
 */
export function releaseIntermediates(...ts: Tensor[]): void {
  for (const t of ts) if (!t.requiresGrad) t.dispose();
}
