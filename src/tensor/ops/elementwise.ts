/** Elementwise ops with NumPy broadcasting: unary math, binary arithmetic, comparisons, where. */
import type { BinaryOp, UnaryOp } from '../../kernels/backend.js';
import { check } from '../../core/errors.js';
import { broadcastShapes } from '../../core/shape.js';
import { record } from '../autograd-seam.js';
import { Tensor } from '../tensor.js';
import { type TensorLike, assertTensor, broadcastView, operands } from './util.js';

const FLOAT_ONLY = new Set<UnaryOp>(['exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal']);
/** ops whose derivative is zero almost everywhere: not recorded */
const NOT_DIFFERENTIABLE = new Set<string>(['sign', 'step', 'floor', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']);

function unary(op: UnaryOp, x: Tensor): Tensor {
  assertTensor(op, x);
  check(!(FLOAT_ONLY.has(op) && x.dtype === 'int32'), op, `needs a floating-point tensor, got int32 ${JSON.stringify(x.shape)}; use .cast('float32')`);
  const out = Tensor.fromStorage(x.storage.backend.unary(op, x.kernelView()), x.shape);
  return NOT_DIFFERENTIABLE.has(op) ? out : record(op, [x], out);
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const out = Tensor.fromStorage(ta.storage.backend.binary(op, broadcastView(ta, shape), broadcastView(tb, shape), shape), shape);
  return NOT_DIFFERENTIABLE.has(op) ? out : record(op, [ta, tb], out);
}

export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const sign = (x: Tensor) => unary('sign', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const relu = (x: Tensor) => unary('relu', x);
/** 1 where x > 0, else 0: relu's derivative. */
export const step = (x: Tensor) => unary('step', x);
export const square = (x: Tensor) => unary('square', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
export const floor = (x: Tensor) => unary('floor', x);

export const add = (a: TensorLike, b: TensorLike) => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike) => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike) => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike) => binary('div', a, b);
export const pow = (a: TensorLike, b: TensorLike) => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike) => binary('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike) => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike) => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike) => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike) => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike) => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike) => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike) => binary('ge', a, b);

/** `a` where `cond` is non-zero, else `b`; all three broadcast together. Gradients flow to a and b. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('where', a, b);
  const tc = cond instanceof Tensor ? cond : operands('where', cond, ta)[0];
  check(tc.device === ta.device, 'where', `the condition is on ${tc.device} but the values are on ${ta.device}`);
  const shape = broadcastShapes('where', broadcastShapes('where', tc.shape, ta.shape), tb.shape);
  const out = Tensor.fromStorage(
    ta.storage.backend.where(broadcastView(tc, shape), broadcastView(ta, shape), broadcastView(tb, shape), shape), shape);
  return record('where', [ta, tb], out, { cond: tc });
}

