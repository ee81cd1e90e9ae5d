/** Elementwise unary ops (and the dtype-converting copy, op `identity` with another output type). */
import type { UnaryOp } from '../backend.js';
import {
  type AccessMode, type Vec4Mode, VEC4_PER_THREAD, accessExpr, elementwiseProgram, lanes, stridedCoords, vec4Coords, vec4Load,
} from './common.js';
import { type KernelProgram, type WgslType, memoKernel } from './program.js';

/** WGSL for each op on a value `x` of type T. Written to keep NaN where PyTorch keeps it. */
const floatOps: Record<UnaryOp, string> = {
  neg: '-x',
  abs: 'abs(x)',
  sign: 'select(select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0), x, is_nan(x))',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  sin: 'sin(x)',
  cos: 'cos(x)',
  tanh: 'tanh_safe(x)',
  sigmoid: 'sigmoid_safe(x)',
  relu: 'select(x, 0.0, x <= 0.0)',
  step: 'select(0.0, 1.0, x > 0.0)',
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
  return select(sign(x) * (1.0 - e) / (1.0 + e), x, is_nan(x));
}
fn sigmoid_safe(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
`;

export function supportsUnary(op: UnaryOp, t: WgslType): boolean {
  return t === 'f32' || op in intOps;
}

/** `inType` → `outType`: a conversion when they differ (only with op identity). */
function unaryKernelSource(op: UnaryOp, inType: WgslType, outType: WgslType, mode: AccessMode): KernelProgram {
  const expr = (inType === 'f32' ? floatOps : intOps)[op]!;
  const convert = inType === outType ? expr : `${outType}(${expr})`;
  return elementwiseProgram({
    key: `unary:${op}:${inType}:${outType}:${mode}`,
    inputs: [{ name: 'a', type: inType }], outputs: [{ name: 'out', type: outType }], operands: 1, helpers,
    body: `${stridedCoords([mode])}    let x = a[${accessExpr(mode, 0)}];
    out[idx] = ${convert};`,
  });
}

export const unaryKernel = memoKernel(unaryKernelSource);

/** The vec4 variant (see Vec4Mode in common.ts): the same expression as `op`, applied to each lane. */
function unaryVec4KernelSource(op: UnaryOp, inType: WgslType, outType: WgslType, mode: Vec4Mode): KernelProgram {
  const expr = (inType === 'f32' ? floatOps : intOps)[op]!;
  const convert = inType === outType ? expr : `${outType}(${expr})`;
  return elementwiseProgram({
    key: `unary:vec4:${op}:${inType}:${outType}:${mode}`,
    inputs: [{ name: 'a', type: `vec4<${inType}>` }], outputs: [{ name: 'out', type: `vec4<${outType}>` }], operands: 1,
    helpers: `${helpers}\nfn op(x: ${inType}) -> ${outType} { return ${convert}; }`,
    body: `${vec4Coords([mode])}${vec4Load(mode, 0, 'a', inType, 'x')}    out[idx] = ${lanes(outType, (l) => `op(x.${l})`)};`,
    perInvocation: VEC4_PER_THREAD,
  });
}

export const unaryVec4Kernel = memoKernel(unaryVec4KernelSource);
