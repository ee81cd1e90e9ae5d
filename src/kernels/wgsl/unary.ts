/** Elementwise unary ops (and the dtype-converting copy, op `identity` with another output type). */
import type { UnaryOp } from '../backend.js';
import {
  type AccessMode, type Vec4Mode, VEC4_PER_THREAD, accessExpr, elementwiseProgram, ieeeWgsl, lanes, stridedCoords, vec4Coords,
  vec4Load } from './common.js';
import { type KernelProgram, type WgslType, memoKernel } from './program.js';

/**
 * WGSL for each op on a value `x` of type T. Written to give the CPU reference's (IEEE) special values: NaN where
 * PyTorch keeps it, and the *_ieee helpers (common.ts) where WGSL leaves the result outside the domain undefined.
 */
const floatOps: Record<UnaryOp, string> = {
  neg: '-x',
  abs: 'abs(x)',
  sign: 'select(select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0), x, is_nan(x))',
  exp: 'exp_ieee(x)',
  log: 'log_ieee(x)',
  sqrt: 'sqrt_ieee(x)',
  sin: 'select(select(sin(x), f32_nan(), is_inf(x)), x, x == 0.0)', // sin(±0) = ±0 (SwiftShader: +0)
  cos: 'select(cos(x), f32_nan(), is_inf(x))', // WGSL leaves sin/cos(±∞) undefined
  tanh: 'tanh_safe(x)',
  sigmoid: 'sigmoid_safe(x)',
  relu: 'select(x, 0.0, x <= 0.0)',
  step: 'select(select(0.0, 1.0, x > 0.0), x, is_nan(x))',
  reciprocal: '1.0 / x',
  square: 'x * x',
  floor: 'floor(x)',
  identity: 'x',
};

const intOps: Partial<Record<UnaryOp, string>> = {
  neg: '-x', abs: 'abs(x)', sign: 'sign(x)', relu: 'max(x, 0)', step: 'select(0, 1, x > 0)', square: 'x * x',
  identity: 'x', floor: 'x',
};

const helpers = /* wgsl */ `
fn tanh_safe(x: f32) -> f32 {
  // tanh via exp(-2|x|): no overflow for large |x| (some drivers' tanh returns NaN there)
  let e = exp(-2.0 * abs(x));
  return select(sign(x) * (1.0 - e) / (1.0 + e), x, is_nan(x) || x == 0.0); // tanh(±0) = ±0
}
fn sigmoid_safe(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0), x, is_nan(x));
}
`;

export function supportsUnary(op: UnaryOp, t: WgslType): boolean {
  return t === 'f32' || op in intOps;
}

/**
 * The expression for `op`, converted when `inType` → `outType` differ (only with op identity): float → int32 through
 * to_i32, as the CPU's toInt32.
 */
function converted(op: UnaryOp, inType: WgslType, outType: WgslType): string {
  const expr = (inType === 'f32' ? floatOps : intOps)[op]!;
  return inType === outType ? expr : outType === 'i32' ? `to_i32(${expr})` : `${outType}(${expr})`;
}

function unaryKernelSource(op: UnaryOp, inType: WgslType, outType: WgslType, mode: AccessMode): KernelProgram {
  return elementwiseProgram({
    key: `unary:${op}:${inType}:${outType}:${mode}`,
    inputs: [{ name: 'a', type: inType }], outputs: [{ name: 'out', type: outType }], operands: 1,
    helpers: `${ieeeWgsl}${helpers}`,
    body: `${stridedCoords([mode])}    let x = a[${accessExpr(mode, 0)}];
    out[idx] = ${converted(op, inType, outType)};`,
  });
}

export const unaryKernel = memoKernel(unaryKernelSource);

/** The vec4 variant (see Vec4Mode in common.ts): the same expression as `op`, applied to each lane. */
function unaryVec4KernelSource(op: UnaryOp, inType: WgslType, outType: WgslType, mode: Vec4Mode): KernelProgram {
  return elementwiseProgram({
    key: `unary:vec4:${op}:${inType}:${outType}:${mode}`,
    inputs: [{ name: 'a', type: `vec4<${inType}>` }], outputs: [{ name: 'out', type: `vec4<${outType}>` }], operands: 1,
    helpers: `${ieeeWgsl}${helpers}\nfn op(x: ${inType}) -> ${outType} { return ${converted(op, inType, outType)}; }`,
    body: `${vec4Coords([mode])}${vec4Load(mode, 0, 'a', inType, 'x')}    out[idx] = ${lanes(outType, (l) => `op(x.${l})`)};`,
    perInvocation: VEC4_PER_THREAD,
  });
}

export const unaryVec4Kernel = memoKernel(unaryVec4KernelSource);
