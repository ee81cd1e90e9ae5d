/** The scalar definitions of every elementwise op: the reference the WGSL kernels are checked against. */
import type { BinaryOp, UnaryOp } from '../backend.js';

export const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : NaN),
  step: (x) => (x > 0 ? 1 : x <= 0 ? 0 : NaN),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  floor: Math.floor,
  identity: (x) => x,
};

/**
 * float → int32, as every conversion in the library does it (cast, tensor(..., {dtype: 'int32'}), uploads): toward zero,
 * saturating at the int32 range, NaN → 0 (Rust's `as`; WGSL's i32() saturates too but leaves NaN open). Plain JS
 * (Int32Array stores) would wrap 3e9 to −1294967296 and send ±∞ to 0.
 */
export function toInt32(x: number): number {
  if (Number.isNaN(x)) return 0;
  return x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x);
}

/**
 * pow is C's powf (IEEE 754 pow, as PyTorch): Math.pow except that pow(1, y) = 1 for every y (NaN too) and
 * pow(−1, ±∞) = 1, where Math.pow gives NaN. A negative base needs an integer exponent (NaN otherwise).
 */
export function pow(a: number, b: number): number {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}

export const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
};
