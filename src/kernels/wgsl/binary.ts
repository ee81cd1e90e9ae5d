/** Elementwise binary ops with broadcasting (broadcast inputs arrive with stride 0). */
import type { BinaryOp } from '../backend.js';
import {
  type AccessMode, type Vec4Mode, NAN_F32, VEC4_PER_THREAD, accessExpr, elementwiseProgram, ieeeWgsl, lanes, stridedCoords,
  vec4Coords, vec4Load } from './common.js';
import { type KernelProgram, type WgslType, memoKernel } from './program.js';

const floatOps: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  pow: 'pow_ieee(x, y)',
  maximum: 'select(max(x, y), x + y, is_nan(x) || is_nan(y))', // NaN wins, as PyTorch
  minimum: 'select(min(x, y), x + y, is_nan(x) || is_nan(y))',
  eq: 'select(0.0, 1.0, x == y)',
  ne: 'select(0.0, 1.0, x != y || is_nan(x) || is_nan(y))', // SwiftShader's != is false for NaN, against the spec
  lt: 'select(0.0, 1.0, x < y)',
  le: 'select(0.0, 1.0, x <= y)',
  gt: 'select(0.0, 1.0, x > y)',
  ge: 'select(0.0, 1.0, x >= y)',
};

const intOps: Partial<Record<BinaryOp, string>> = {
  add: 'x + y', sub: 'x - y', mul: 'x * y', div: 'select(0, x / y, y != 0)', maximum: 'max(x, y)', minimum: 'min(x, y)',
  eq: 'select(0, 1, x == y)', ne: 'select(0, 1, x != y)', lt: 'select(0, 1, x < y)', le: 'select(0, 1, x <= y)',
  gt: 'select(0, 1, x > y)', ge: 'select(0, 1, x >= y)',
};

/**
 * WGSL's pow is undefined for a negative base (and says nothing of zeros, infinities and NaN); this one is C's powf
 * (IEEE 754 pow), as the CPU reference: pow(x, ±0) = pow(1, y) = 1 even for NaN, a negative base needs an integer
 * exponent, zeros and infinities keep their sign for odd integer exponents. Exact for squares.
 */
const powWgsl = /* wgsl */ `
fn pow_ieee(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return ${NAN_F32}; }
  if (y == 2.0) { return x * x; }
  if (y == 1.0) { return x; }
  let ax = abs(x);
  if (is_inf(y)) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, f32_inf(), (ax > 1.0) == (y > 0.0));
  }
  let odd = abs(y % 2.0) == 1.0;
  let neg = bitcast<u32>(x) >= 0x80000000u;
  if (x == 0.0 || is_inf(x)) {
    let r = select(0.0, f32_inf(), (x == 0.0) == (y < 0.0));
    return select(r, -r, neg && odd);
  }
  if (neg && floor(y) != y) { return ${NAN_F32}; }
  let r = select(exp2(y * log2(ax)), sqrt(ax), y == 0.5);
  return select(r, -r, neg && odd);
}
`;

export function supportsBinary(op: BinaryOp, t: WgslType): boolean {
  return t === 'f32' || op in intOps;
}

function binaryKernelSource(op: BinaryOp, t: WgslType, modeA: AccessMode, modeB: AccessMode): KernelProgram {
  const expr = (t === 'f32' ? floatOps : intOps)[op]!;
  return elementwiseProgram({
    key: `binary:${op}:${t}:${modeA}${modeB}`,
    inputs: [{ name: 'a', type: t }, { name: 'b', type: t }], outputs: [{ name: 'out', type: t }], operands: 2,
    helpers: t === 'f32' ? ieeeWgsl + powWgsl : '',
    body: `${stridedCoords([modeA, modeB])}    let x = a[${accessExpr(modeA, 0)}];
    let y = b[${accessExpr(modeB, 1)}];
    out[idx] = ${expr};`,
  });
}

export const binaryKernel = memoKernel(binaryKernelSource);

/** The vec4 variant (see Vec4Mode in common.ts): the same expression as `op`, applied to each lane. */
function binaryVec4KernelSource(op: BinaryOp, t: WgslType, modeA: Vec4Mode, modeB: Vec4Mode): KernelProgram {
  const expr = (t === 'f32' ? floatOps : intOps)[op]!;
  return elementwiseProgram({
    key: `binary:vec4:${op}:${t}:${modeA},${modeB}`,
    inputs: [{ name: 'a', type: `vec4<${t}>` }, { name: 'b', type: `vec4<${t}>` }], outputs: [{ name: 'out', type: `vec4<${t}>` }],
    operands: 2,
    helpers: `${t === 'f32' ? ieeeWgsl + powWgsl : ''}\nfn op(x: ${t}, y: ${t}) -> ${t} { return ${expr}; }`,
    body: `${vec4Coords([modeA, modeB])}${vec4Load(modeA, 0, 'a', t, 'x')}${vec4Load(modeB, 1, 'b', t, 'y')}\
    out[idx] = ${lanes(t, (l) => `op(x.${l}, y.${l})`)};`,
    perInvocation: VEC4_PER_THREAD,
  });
}

export const binaryVec4Kernel = memoKernel(binaryVec4KernelSource);
