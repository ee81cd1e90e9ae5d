/**
 * What every kernel shares: the binding layout, the parameter block and the 2-D dispatch grid.
 *
 * Binding layout (explicit, one bind group): @binding(0) the parameter block (uniform), then the inputs as read-only
 * storage, then the outputs as read-write storage. Shapes and strides travel in the parameter block rather than being
 * baked into the source: one cached pipeline then serves every shape (SwiftShader compiles a kernel in 10–30 ms, which
 * per-shape specialisation would pay on every new shape the tests and experiments use). Kernels specialise on what
 * changes the code path (dtype, op, whether an input is contiguous), which is few variants.
 *
 * Grids larger than 65 535 workgroups spill into y: the linear invocation index is
 * `gid.y * (num_workgroups.x * WG) + gid.x`.
 */
export type WgslType = 'f32' | 'i32';

export interface KernelSpec {
  /** unique per generated source: the pipeline cache key */
  key: string;
  /** number of read-only storage inputs and read-write outputs, in binding order after the parameter block */
  inputs: number;
  outputs: number;
  source: string;
}

export const PARAM_WORDS = 64; // 256 bytes, the uniform offset alignment

/** The parameter block: 64 32-bit words read by index; floats are bit-cast. */
export const paramsWgsl = /* wgsl */ `
struct Params { v: array<vec4<u32>, ${PARAM_WORDS / 4}> };
@group(0) @binding(0) var<uniform> params: Params;
fn P(i: u32) -> u32 { return params.v[i >> 2u][i & 3u]; }
fn Pi(i: u32) -> i32 { return bitcast<i32>(P(i)); }
fn Pf(i: u32) -> f32 { return bitcast<f32>(P(i)); }
// Infinity and NaN cannot be written as WGSL constants (const-evaluation rejects them): build them at run time.
fn f32_inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn f32_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
// x != x is folded away by some compilers (fast math); test the bits instead.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;

export function bindings(inputs: { name: string; type: string }[], outputs: { name: string; type: string }[]): string {
  let b = 1;
  const lines: string[] = [];
  for (const x of inputs) lines.push(`@group(0) @binding(${b++}) var<storage, read> ${x.name}: array<${x.type}>;`);
  for (const x of outputs) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${x.name}: array<${x.type}>;`);
  return lines.join('\n');
}

/** The entry point signature for a 1-D problem laid on the 2-D grid; declares `idx` (the linear invocation index). */
export function main1d(wg: number): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.y * (nwg.x * ${wg}u) + gid.x;`;
}

/**
 * The entry point for an elementwise kernel: each invocation handles `per` elements, `wg` apart, so neighbouring
 * invocations touch neighbouring elements (coalesced on GPUs, SIMD-friendly on SwiftShader) and the grid needs `per`×
 * fewer workgroups — which is what an elementwise op costs on SwiftShader (~1.3 µs per workgroup). Declares `idx`
 * inside the loop; the body must not `return` early except through the bound check below. Element count: P(0).
 */
export const ELEMS_PER_THREAD = 8;
export function mainElementwise(wg: number, body: string, per = ELEMS_PER_THREAD): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = P(0u);
  let base = (wid.y * nwg.x + wid.x) * ${wg * per}u + lid;
  for (var e = 0u; e < ${per}u; e++) {
    let idx = base + e * ${wg}u;
    if (idx >= n) { return; }
${body}
  }
}`;
}

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

/** WGSL for a strided read index: `off + sum(coord[d] * stride[d])` from a linear index over `shape`. */
export const MAX_RANK = 6;

/**
 * Strided access for elementwise kernels. Parameter words: 0 = element count, 1 = rank, 2..7 = the output shape,
 * then for input j: word 8 + 7j = offset, 9 + 7j .. 14 + 7j = strides. Words from 29 on are the kernel's own.
 * Each input has a mode, chosen on the host after collapsing dimensions:
 *  'c' contiguous (offset + i), 's' a single broadcast element (offset), 'gR' general strides over rank R.
 * The general mode is specialised on the rank: the output coordinates are computed once per element, unrolled, with
 * constant parameter indices, and shared by every strided input (SwiftShader pays dearly for integer division and
 * for dynamically indexed uniforms: the generic loop made a broadcast bias-add 10× slower than a contiguous add).
 */
export type AccessMode = 'c' | 's' | `g${number}`;
export const EXTRA_PARAM = 29;

/** WGSL declaring c0..c(R-1), the coordinates of output element `idx`, when some input is strided. */
export function stridedCoords(modes: readonly AccessMode[]): string {
  const g = modes.find((m) => m[0] === 'g');
  if (!g) return '';
  const rank = Number(g.slice(1));
  const lines = ['    var rem = idx;'];
  for (let d = rank - 1; d >= 1; d--) lines.push(`    let c${d} = rem % P(${2 + d}u); rem = rem / P(${2 + d}u);`);
  lines.push('    let c0 = rem;');
  return lines.join('\n') + '\n';
}

/** WGSL expression for the element index of input `j` at linear output index `i` (coordinates from stridedCoords). */
export function accessExpr(mode: AccessMode, j: number, i = 'idx'): string {
  const base = 8 + 7 * j;
  if (mode === 'c') return `(P(${base}u) + ${i})`;
  if (mode === 's') return `P(${base}u)`;
  const rank = Number(mode.slice(1));
  const terms = Array.from({ length: rank }, (_, d) => `c${d} * P(${base + 1 + d}u)`);
  return `(P(${base}u) + ${terms.join(' + ')})`;
}

/** Memoises a kernel generator on its arguments, so a hot loop does not rebuild WGSL strings per dispatch. */
export function memoKernel<A extends (string | number | boolean)[]>(gen: (...args: A) => KernelSpec): (...args: A) => KernelSpec {
  const cache = new Map<string, KernelSpec>();
  return (...args: A) => {
    const k = args.join('|');
    let s = cache.get(k);
    if (!s) cache.set(k, (s = gen(...args)));
    return s;
  };
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
 * The parameter block has the same layout as the scalar kernels, in these units (word 0: the number of vectors).
 */
export type Vec4Mode = 'c' | 's' | `g${number}` | `b${number}`;
/** vec4s per invocation (64 invocations per workgroup): 64 × 8 × 4 = 2048 elements per workgroup. 8 measured best of
 * 2, 4, 8, 16 on SwiftShader (bench/elementwise.ts; 16 was no better, 2 and 4 slower). */
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

const contiguousStrides = (shape: readonly number[]) => {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
};

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
  const base = 8 + 7 * j;
  if (mode === 'c' || mode[0] === 'g') return `    let ${name} = ${buf}[${accessExpr(mode as AccessMode, j)}];\n`;
  let e = `P(${base}u)`;
  if (mode[0] === 'b') {
    const rank = Number(mode.slice(1));
    e = `(${[e, ...Array.from({ length: rank - 1 }, (_, d) => `c${d} * P(${base + 1 + d}u)`)].join(' + ')})`;
  }
  return `    let e${j} = ${e};\n    let ${name} = vec4<${t}>(${buf}[e${j} >> 2u][e${j} & 3u]);\n`;
}

/** `vec4<T>(f(x), f(y), f(z), f(w))`: a per-lane expression applied to each component, unrolled. */
export function lanes(t: WgslType, f: (lane: string) => string): string {
  return `vec4<${t}>(${['x', 'y', 'z', 'w'].map(f).join(', ')})`;
}
