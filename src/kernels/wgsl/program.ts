/**
 * A kernel program: everything the runtime needs to compile, bind, fill and dispatch one WGSL kernel, declared in one
 * place (after tfjs-backend-webgpu's `WebGPUProgram`). A kernel file states its bindings, its NAMED uniforms, its
 * workgroup size and the shape of its entry point; `kernelProgram` writes the uniform struct, the bindings and `main`,
 * and derives from the entry point the dispatch rule (how many workgroups a problem of `units` needs). Host code
 * then fills uniforms by name and passes the problem size — it never repeats a workgroup size or a word index.
 *
 * Binding layout (one bind group): @binding(0) the uniforms, then the inputs as read-only storage, then the outputs
 * as read-write storage. Uniforms are a struct of 32-bit scalars, each at the word of its position in the
 * declaration; every dispatch gets its own 256-byte slot of one uniform buffer, bound at a dynamic offset, so one
 * cached pipeline serves every shape (see ../webgpu/runtime.ts).
 */
import { GpugradError } from '../../core/errors.js';

export type WgslType = 'f32' | 'i32';
export type UniformType = 'u32' | 'i32' | 'f32';
/** A uniform: a scalar, or `[type, n]` for n consecutive scalars (WGSL fields `name_0` … `name_{n-1}`). */
export type UniformDecl = UniformType | readonly [UniformType, number];
export interface Binding { name: string; type: string }
/** Uniform values by name; an array fills an `[type, n]` uniform from its first word (missing words are 0). */
export type UniformValues<U extends string> = { readonly [K in U]: number | readonly number[] };

/** The parameter block's size in 32-bit words: 256 bytes, WebGPU's minimum uniform offset alignment. */
export const PARAM_WORDS = 64;

/** One uniform's place in the parameter block, computed once per program. */
export interface UniformSlot { name: string; word: number; length: number; float: boolean }

/**
 * How many workgroups a dispatch of `units` takes:
 * 'invocation' — one unit per invocation (`perInvocation` units each, `workgroupSize` apart);
 * 'workgroup' — one unit per workgroup; 'single' — one workgroup, whatever `units` is.
 */
export type DispatchRule = 'invocation' | 'workgroup' | 'single';

export interface KernelProgram<U extends string = string> {
  /** unique per generated source: the pipeline cache key */
  readonly key: string;
  /** number of read-only storage inputs and read-write outputs, in binding order after the uniforms */
  readonly inputs: number;
  readonly outputs: number;
  readonly workgroupSize: number;
  readonly dispatch: DispatchRule;
  readonly perInvocation: number;
  readonly uniforms: readonly UniformSlot[];
  readonly uniformNames: readonly U[];
  readonly source: string;
}

/**
 * The entry point, from which the dispatch rule follows:
 * `elementwise` — a body run once per element index `idx` < `u.n`, `perInvocation` indices per invocation (see
 *   mainElementwise); the uniforms must include `n`;
 * `linear` — a body run by every invocation with its linear index `idx` on the 2-D grid (the body checks bounds);
 * `custom` — the whole `main` (given the workgroup size), dispatched per workgroup or as a single workgroup.
 */
export type Entry =
  | { elementwise: string; perInvocation?: number }
  | { linear: string }
  | { custom: (wg: number) => string; dispatch: 'workgroup' | 'single' };

export interface ProgramDef<U extends string> {
  key: string;
  inputs: readonly Binding[];
  outputs: readonly Binding[];
  uniforms: { readonly [K in U]: UniformDecl };
  /** invocations per workgroup; 64 unless the kernel says otherwise */
  workgroupSize?: number;
  /** WGSL between the bindings and `main`: helper functions, workgroup variables */
  helpers?: string;
  entry: Entry;
}

/** WGSL every kernel may use. */
export const commonWgsl = /* wgsl */ `
// Infinity and NaN cannot be written as WGSL constants (const-evaluation rejects them): build them at run time.
fn f32_inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn f32_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
// x != x is folded away by some compilers (fast math); test the bits instead.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;

/**
 * Elements per invocation of the elementwise entry point: each invocation handles `per` elements, `wg` apart, so
 * neighbouring invocations touch neighbouring elements (coalesced on GPUs, SIMD-friendly on SwiftShader) and the grid
 * needs `per`× fewer workgroups — which is what an elementwise op costs on SwiftShader (per workgroup).
 */
export const ELEMS_PER_THREAD = 8;

/** `[0, 1, …, n-1]`: for unrolling loops in generated WGSL. */
export const range = (n: number): number[] => [...Array(n).keys()];
/** vec4 component names, by index. */
export const lane = ['x', 'y', 'z', 'w'] as const;

function uniformLayout(key: string, decls: Record<string, UniformDecl>): UniformSlot[] {
  const slots: UniformSlot[] = [];
  let word = 0;
  for (const [name, d] of Object.entries(decls)) {
    const [type, length] = typeof d === 'string' ? [d, 1] : d;
    slots.push({ name, word, length, float: type === 'f32' });
    word += length;
  }
  if (word === 0 || word > PARAM_WORDS) {
    throw new GpugradError(`internal: kernel ${key} declares ${word} uniform words (1 to ${PARAM_WORDS} fit a parameter block)`);
  }
  return slots;
}

function uniformStruct(decls: Record<string, UniformDecl>): string {
  const fields: string[] = [];
  for (const [name, d] of Object.entries(decls)) {
    if (typeof d === 'string') fields.push(`${name}: ${d}`);
    else for (let i = 0; i < d[1]; i++) fields.push(`${name}_${i}: ${d[0]}`);
  }
  return `struct Uniforms { ${fields.join(', ')} };\n@group(0) @binding(0) var<uniform> u: Uniforms;`;
}

function bindingsWgsl(inputs: readonly Binding[], outputs: readonly Binding[]): string {
  let b = 1;
  const lines: string[] = [];
  for (const x of inputs) lines.push(`@group(0) @binding(${b++}) var<storage, read> ${x.name}: array<${x.type}>;`);
  for (const x of outputs) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${x.name}: array<${x.type}>;`);
  return lines.join('\n');
}

/** The entry point for a 1-D problem laid on the 2-D grid (beyond 65 535 workgroups the grid spills into y). */
function mainLinear(wg: number, body: string): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.y * (nwg.x * ${wg}u) + gid.x;
${body}
}`;
}

/** The elementwise entry point: `per` indices per invocation, `wg` apart; the body must not `return`. */
function mainElementwise(wg: number, per: number, body: string): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = u.n;
  let base = (wid.y * nwg.x + wid.x) * ${wg * per}u + lid;
  for (var e = 0u; e < ${per}u; e++) {
    let idx = base + e * ${wg}u;
    if (idx >= n) { return; }
${body}
  }
}`;
}

export function kernelProgram<U extends string>(def: ProgramDef<U>): KernelProgram<U> {
  const wg = def.workgroupSize ?? 64;
  const e = def.entry;
  let main: string, dispatch: DispatchRule, perInvocation = 1;
  if ('elementwise' in e) {
    if (!('n' in def.uniforms)) throw new GpugradError(`internal: elementwise kernel ${def.key} needs a uniform 'n'`);
    perInvocation = e.perInvocation ?? ELEMS_PER_THREAD;
    main = mainElementwise(wg, perInvocation, e.elementwise);
    dispatch = 'invocation';
  } else if ('linear' in e) {
    main = mainLinear(wg, e.linear);
    dispatch = 'invocation';
  } else {
    main = e.custom(wg);
    dispatch = e.dispatch;
  }
  const uniforms = uniformLayout(def.key, def.uniforms);
  return {
    key: def.key,
    inputs: def.inputs.length,
    outputs: def.outputs.length,
    workgroupSize: wg,
    dispatch,
    perInvocation,
    uniforms,
    uniformNames: uniforms.map((s) => s.name as U),
    source: `${uniformStruct(def.uniforms)}\n${commonWgsl}\n${bindingsWgsl(def.inputs, def.outputs)}\n${def.helpers ?? ''}\n${main}\n`,
  };
}

/** Workgroups for `units` of work under the program's dispatch rule. */
export function workgroupsFor(p: KernelProgram, units: number): number {
  if (p.dispatch === 'single') return 1;
  if (p.dispatch === 'workgroup') return units;
  return Math.ceil(units / (p.workgroupSize * p.perInvocation));
}

/** Memoises a program generator on its arguments, so a hot loop does not rebuild WGSL strings per dispatch. */
export function memoKernel<A extends (string | number | boolean)[], U extends string>(
  gen: (...args: A) => KernelProgram<U>): (...args: A) => KernelProgram<U> {
  const cache = new Map<string, KernelProgram<U>>();
  return (...args: A) => {
    const k = args.join('|');
    let s = cache.get(k);
    if (!s) cache.set(k, (s = gen(...args)));
    return s;
  };
}
