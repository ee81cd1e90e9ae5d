/**
 * What the elementwise kernels (unary, binary, where, fill, scatter-copy) share: their uniforms (the output shape and
 * each input's offset and strides), the access modes the host picks per input, the vec4 variant, and the IEEE
 * special-value helpers (`ieeeWgsl`, also used by cross-entropy).
 * The program object they are built with — bindings, named uniforms, entry point, dispatch rule — is ./program.ts.
 */
import { contiguousStrides } from '../../core/shape.js';
import { type KernelProgram, type UniformDecl, type WgslType, kernelProgram, lane, range } from './program.js';

/**
 * IEEE special values where WGSL leaves them undefined. WGSL's exp/log/sqrt promise nothing outside their domain, and
 * SwiftShader gives log(0) = −88, log(−1) = 0, log(NaN) = 89.1, exp(NaN) = +∞; these helpers return what the CPU
 * reference (IEEE 754) does. The tests are bit tests, not comparisons, so they hold for NaN under fast-math compilers
 * and for subnormals on devices that flush them to zero (SwiftShader does; a comparison sees such an input as ±0).
 * Guards are select()s over values computed anyway: no branch, a few integer operations per element.
 */
export const ieeeWgsl = /* wgsl */ `
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn exp_ieee(x: f32) -> f32 { return select(exp(x), x, is_nan(x)); }
// log(±0) = −∞, log(x < 0) = NaN, log(+∞) = +∞, NaN stays NaN. A subnormal x (exponent bits 0) is m·2^−149 with m its
// mantissa read as an integer, so log(x) = log(m) − 149·ln 2: exact even where the device flushes x to zero.
fn log_ieee(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let tiny = (b & 0x7f800000u) == 0u;
  var r = log(select(x, f32(b & 0x7fffffu), tiny)) - select(0.0, 103.27892990343185, tiny);
  r = select(r, x, b >= 0x7f800000u);
  r = select(r, f32_nan(), b > 0x80000000u);
  return select(r, -f32_inf(), (b & 0x7fffffffu) == 0u);
}
// float → int32 as the CPU's toInt32: WGSL's i32() saturates (at 2147483520, the largest f32 below 2^31) and leaves NaN open
fn to_i32(x: f32) -> i32 { return select(select(i32(x), 2147483647, x >= 2147483648.0), 0, is_nan(x)); }
// sqrt of any negative number (−0 excepted, subnormals included) is NaN
fn sqrt_ieee(x: f32) -> f32 { return select(sqrt(x), f32_nan(), bitcast<u32>(x) > 0x80000000u); }
`;

export const NAN_F32 = 'f32_nan()';
export const INF_F32 = 'f32_inf()';

/** The highest rank an elementwise kernel reads through strides (after the host merges dimensions). */
export const MAX_RANK = 6;

/**
 * Strided access for elementwise kernels. Uniforms: `n` the element count, `shape` the output shape, then for operand
 * j `off{j}` its offset and `str{j}` its strides (in elements), then the kernel's own (see `elementwiseProgram`).
 * Each operand has a mode, chosen on the host after collapsing dimensions:
 *  'c' contiguous (offset + i), 's' a single broadcast element (offset), 'gR' general strides over rank R.
 * The general mode is specialised on the rank: the output coordinates are computed once per element, unrolled, with
 * constant uniform fields, and shared by every strided operand (SwiftShader pays dearly for integer division and
 * for dynamically indexed uniforms: the generic loop made a broadcast bias-add many times slower than a contiguous
 * add, bench/RESULTS.md, "Measurements behind design choices").
 */
export type AccessMode = 'c' | 's' | `g${number}`;

/** WGSL declaring c0..c(R-1), the coordinates of output element `idx`, when some operand is strided. */
export function stridedCoords(modes: readonly AccessMode[]): string {
  const g = modes.find((m) => m[0] === 'g');
  if (!g) return '';
  const rank = Number(g.slice(1));
  const lines = ['    var rem = idx;'];
  for (let d = rank - 1; d >= 1; d--) lines.push(`    let c${d} = rem % u.shape_${d}; rem = rem / u.shape_${d};`);
  lines.push('    let c0 = rem;');
  return lines.join('\n') + '\n';
}

/** WGSL for `off{j} + Σ_{d<rank} c_d · str{j}_d` (coordinates from stridedCoords). */
const stridedIndex = (j: number, rank: number) => `(${[`u.off${j}`, ...range(rank).map((d) => `c${d} * u.str${j}_${d}`)].join(' + ')})`;

/** WGSL expression for the element index of operand `j` at linear output index `i` (coordinates from stridedCoords). */
export function accessExpr(mode: AccessMode, j: number, i = 'idx'): string {
  if (mode === 'c') return `(u.off${j} + ${i})`;
  if (mode === 's') return `u.off${j}`;
  return stridedIndex(j, Number(mode.slice(1)));
}

/** Uniform names of operand j, so the host does not build strings per dispatch. */
export const offsetUniform = range(4).map((j) => `off${j}`);
export const stridesUniform = range(4).map((j) => `str${j}`);

/**
 * An elementwise program over `operands` strided operands (inputs, and for scatter-copy the destination): the
 * uniforms `n`, `shape`, `off{j}`, `str{j}`, then `extra` (the kernel's own).
 */
export function elementwiseProgram(def: {
  key: string; inputs: { name: string; type: string }[]; outputs: { name: string; type: string }[]; operands: number;
  extra?: Record<string, UniformDecl>; helpers?: string; body: string; perInvocation?: number;
}): KernelProgram {
  const uniforms: Record<string, UniformDecl> = { n: 'u32', shape: ['u32', MAX_RANK] };
  for (let j = 0; j < def.operands; j++) {
    uniforms[offsetUniform[j]] = 'u32';
    uniforms[stridesUniform[j]] = ['u32', MAX_RANK];
  }
  Object.assign(uniforms, def.extra);
  return kernelProgram({
    key: def.key, inputs: def.inputs, outputs: def.outputs, uniforms, helpers: def.helpers,
    entry: { elementwise: def.body, perInvocation: def.perInvocation },
  });
}

/**
 * The vec4 variant of the elementwise kernels: each invocation reads and writes `vec4`s (four neighbouring elements of
 * the last dimension), so the grid, the index arithmetic and the bound checks are four times smaller, and loads and
 * stores are 16 bytes wide (as TF.js's kernels do). The per-element expression stays the scalar one, wrapped in a WGSL
 * `fn op(...)` applied to .x .y .z .w by hand (SwiftShader is slow at dynamically indexed components), so the two
 * variants give bit-identical results, NaN included.
 *
 * Eligible when the collapsed last dimension is a multiple of 4 and every input is one of (modes over the output's
 * shape with the last dimension divided by 4, "vector index" q):
 *  'c'  contiguous in vectors: element offset and strides divisible by 4, contiguous once divided (offset/4 + q);
 *  'gR' strided in vectors: last stride 1, offset and the other strides divisible by 4 (strides divided by 4);
 *  's'  one broadcast element, splat into all four lanes;
 *  'bR' last stride 0 (a column broadcast): the element at offset + Σ_{d<R-1} c_d·stride_d (element units), splat.
 * The uniforms are the scalar kernels', in these units (`n`: the number of vectors).
 */
export type Vec4Mode = 'c' | 's' | `g${number}` | `b${number}`;
/** vec4s per invocation (64 invocations per workgroup): 64 × 8 × 4 = 2048 elements per workgroup. 8: the best of 2,
 * 4, 8, 16 on SwiftShader (bench/elementwise.ts; bench/RESULTS.md, "Measurements behind design choices"). */
export const VEC4_PER_THREAD = 8;

/** The variant in force: null lets the backend choose (vec4 wherever it is eligible). For tests and benchmarks. */
export type ElementwiseVariant = 'scalar' | 'vec4';
const envVariant = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.GPUGRAD_ELEMENTWISE;
let forcedVariant: ElementwiseVariant | null = envVariant === 'scalar' || envVariant === 'vec4' ? envVariant : null;
/** Forces the elementwise variant ('scalar': never vec4; 'vec4': wherever eligible; null: the default). Env: GPUGRAD_ELEMENTWISE. */
export function forceElementwiseVariant(v: ElementwiseVariant | null): void { forcedVariant = v; }
export function elementwiseVariant(): ElementwiseVariant | null { return forcedVariant; }
/** Dispatch counts per variant, so tests can check that the variant they meant to test really ran. */
export const elementwiseDispatches = { scalar: 0, vec4: 0 };

/**
 * The vec4 plan for a collapsed elementwise problem, or null when it is not eligible: the vector shape, and each
 * input's mode, offset and strides in the units its mode reads them (see Vec4Mode).
 */
export function vec4Plan(shape: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[]):
  { shape: number[]; modes: Vec4Mode[]; strides: number[][]; offsets: number[] } | null {
  const r = shape.length;
  if (r === 0 || shape[r - 1] % 4 !== 0) return null;
  const vshape = [...shape.slice(0, -1), shape[r - 1] / 4];
  const contiguous = contiguousStrides(vshape);
  const modes: Vec4Mode[] = [], vstrides: number[][] = [], voffsets: number[] = [];
  for (const [j, s] of strides.entries()) {
    const o = offsets[j];
    const outer = s.slice(0, -1);
    if (s.every((x) => x === 0)) {
      modes.push('s'); vstrides.push(s.slice()); voffsets.push(o);
    } else if (s[r - 1] === 1 && o % 4 === 0 && outer.every((x) => x % 4 === 0)) {
      const vs = [...outer.map((x) => x / 4), 1];
      modes.push(vs.every((x, d) => x === contiguous[d]) ? 'c' : `g${r}`); vstrides.push(vs); voffsets.push(o / 4);
    } else if (s[r - 1] === 0) {
      modes.push(`b${r}`); vstrides.push(s.slice()); voffsets.push(o);
    } else {
      return null;
    }
  }
  return { shape: vshape, modes, strides: vstrides, offsets: voffsets };
}

/** WGSL declaring c0..c(R-1), the coordinates of output vector `idx`, when some input needs them. */
export function vec4Coords(modes: readonly Vec4Mode[]): string {
  const g = modes.find((m) => m[0] === 'g' || m[0] === 'b');
  return g ? stridedCoords([`g${g.slice(1)}` as AccessMode]) : '';
}

/** WGSL statements declaring `name` (vec4<T>) as input `j`'s value at output vector `idx`, read from buffer `buf`. */
export function vec4Load(mode: Vec4Mode, j: number, buf: string, t: WgslType, name: string): string {
  if (mode === 'c' || mode[0] === 'g') return `    let ${name} = ${buf}[${accessExpr(mode as AccessMode, j)}];\n`;
  const e = mode[0] === 'b' ? stridedIndex(j, Number(mode.slice(1)) - 1) : `u.off${j}`;
  return `    let e${j} = ${e};\n    let ${name} = vec4<${t}>(${buf}[e${j} >> 2u][e${j} & 3u]);\n`;
}

/** `vec4<T>(f(x), f(y), f(z), f(w))`: a per-lane expression applied to each component, unrolled. */
export function lanes(t: WgslType, f: (lane: string) => string): string {
  return `vec4<${t}>(${lane.map(f).join(', ')})`;
}
