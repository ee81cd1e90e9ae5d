/**
 * SIMD elementwise kernels for the wasm device's hot contiguous cases (a training step's ReLU and its backward
 * `where`, gradient sums, the ensembles' bias adds): binary ops, `where` with a float condition, and the unary ops
 * whose SIMD form is exactly the reference's (`max(x, 0)` is its ReLU, −0 and NaN included; +, −, ×, ÷, sqrt of
 * float32 round as the reference's double-then-float32 does). Operands are contiguous or a broadcast scalar
 * (`aScalar`/`bScalar` = 1: read one element); whole vectors are written (storages are padded to 16 bytes).
 * Everything else stays on the CPU backend's loops (./backend.ts decides).
 */
import { Fn, type Float, floatBytes, laneCount, type VecOp } from './emit.js';
import type { BinaryOp, UnaryOp } from '../backend.js';

export const SIMD_BINARY: Partial<Record<BinaryOp, VecOp>> = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', maximum: 'max', minimum: 'min' };
export const SIMD_UNARY: readonly UnaryOp[] = ['relu', 'step', 'neg', 'abs', 'sqrt', 'square'];

/** Loads operand `p` (a vector at byte offset `off`, or its one element splat when `scalar`) into local `into`. */
function operand(f: Fn, t: Float, p: string, scalar: string, into: string): void {
  f.get(scalar).if().get(p).vloadSplat(t).set(into).else().get(p).get('off').add().vload().set(into).end();
}

function loop(f: Fn, t: Float, body: () => void): void {
  f.local('i32', 'i', 'off');
  f.for('i', 0, 'n', laneCount(t), () => { f.get('i').i32(floatBytes(t)).mul().set('off'); body(); });
}

export function binaryKernel(t: Float, op: BinaryOp): Fn {
  const f = new Fn(`${op}_${t}`, [['a', 'i32'], ['b', 'i32'], ['out', 'i32'], ['n', 'i32'], ['aScalar', 'i32'], ['bScalar', 'i32']]);
  f.local('v128', 'va', 'vb');
  loop(f, t, () => {
    operand(f, t, 'a', 'aScalar', 'va');
    operand(f, t, 'b', 'bScalar', 'vb');
    f.get('out').get('off').add().get('va').get('vb').vop(t, SIMD_BINARY[op]!).vstore();
  });
  return f;
}

/** where(cond, a, b): a where cond ≠ 0 (NaN counts as true, as in the reference), else b. */
export function whereKernel(t: Float): Fn {
  const f = new Fn(`where_${t}`, [['cond', 'i32'], ['a', 'i32'], ['b', 'i32'], ['out', 'i32'], ['n', 'i32'], ['aScalar', 'i32'],
    ['bScalar', 'i32']]);
  f.local('v128', 'va', 'vb');
  loop(f, t, () => {
    operand(f, t, 'a', 'aScalar', 'va');
    operand(f, t, 'b', 'bScalar', 'vb');
    f.get('out').get('off').add().get('va').get('vb');
    f.get('cond').get('off').add().vload().vzero().vop(t, 'ne').vselect().vstore();
  });
  return f;
}

export function unaryKernel(t: Float, op: UnaryOp): Fn {
  const f = new Fn(`${op}_${t}`, [['x', 'i32'], ['out', 'i32'], ['n', 'i32']]);
  f.local('v128', 'v', 'one');
  f.f64const(1).fromF64(t).vsplat(t).set('one');
  loop(f, t, () => {
    f.get('out').get('off').add();
    f.get('x').get('off').add().vload().set('v');
    switch (op) {
      case 'relu': f.get('v').vzero().vop(t, 'max'); break;
      case 'square': f.get('v').get('v').vop(t, 'mul'); break;
      case 'neg': case 'abs': case 'sqrt': f.get('v').vop(t, op); break;
      // x > 0 ? 1 : 0, and NaN stays NaN
      case 'step': f.get('v').get('one').vzero().get('v').vzero().vop(t, 'gt').vselect().get('v').get('v').vop(t, 'ne').vselect(); break;
      default: throw new Error(`wasm: no SIMD kernel for unary ${op}`);
    }
    f.vstore();
  });
  return f;
}
