/**
 * A small WebAssembly binary emitter: just enough of the format (types, one imported memory, functions, exports) and
 * of the instruction set (i32 control flow, f32/f64 scalar and SIMD128 arithmetic) to write the wasm device's kernels
 * in TypeScript. Kernels are generated when the backend starts, specialised on what changes their code (dtype, tile
 * shape), so there is no build-time tool and no binary blob in the repository: ./kernels.ts reads as the kernels.
 *
 * Opcodes are those of the WebAssembly core specification 2.0 (SIMD128 included); compiling the module validates it,
 * so a wrong byte fails loudly when the device starts, never silently at run time.
 */
import { wasmApi } from './wasm-api.js';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(out: number[], n: number): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(out: number[], n: number): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  out.push(...bytes);
}

/** Scalar ops by lane type, so one generator writes both the float32 and the float64 kernel. */
const F = {
  f32: { load: 0x2a, store: 0x38, add: 0x92, sub: 0x93, mul: 0x94, div: 0x95, min: 0x96, max: 0x97, sqrt: 0x91, gt: 0x5e, eq: 0x5b, ne: 0x5c, size: 4 },
  f64: { load: 0x2b, store: 0x39, add: 0xa0, sub: 0xa1, mul: 0xa2, div: 0xa3, min: 0xa4, max: 0xa5, sqrt: 0x9f, gt: 0x64, eq: 0x61, ne: 0x62, size: 8 },
} as const;

/** SIMD128 ops (0xfd-prefixed) by lane type: f32x4 / f64x2. */
const V = {
  f32: {
    splat: 0x13, loadSplat: 0x09, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, sqrt: 0xe3, max: 0xe9, min: 0xe8, neg: 0xe1,
    abs: 0xe0, ne: 0x42, gt: 0x44, lanes: 4,
  },
  f64: {
    splat: 0x14, loadSplat: 0x0a, add: 0xf0, sub: 0xf1, mul: 0xf2, div: 0xf3, sqrt: 0xef, max: 0xf5, min: 0xf4, neg: 0xed,
    abs: 0xec, ne: 0x48, gt: 0x4a, lanes: 2,
  },
} as const;

export type Float = 'f32' | 'f64';
/** lanewise ops; ne/gt give all-ones lanes where true */
export type VecOp = 'add' | 'sub' | 'mul' | 'div' | 'sqrt' | 'max' | 'min' | 'neg' | 'abs' | 'ne' | 'gt';
export const laneCount = (t: Float) => V[t].lanes;
export const floatBytes = (t: Float) => F[t].size;

/** One function body: locals by name, and instruction helpers that append bytes. */
export class Fn {
  readonly code: number[] = [];
  private locals = new Map<string, number>();
  private localTypes: ValType[] = [];
  private depth = 0;

  constructor(readonly name: string, readonly params: [string, ValType][], readonly results: ValType[] = []) {
    params.forEach(([n], i) => this.locals.set(n, i));
  }

  /** Declares a local (or several) of one type; returns nothing, locals are used by name. */
  local(type: ValType, ...names: string[]): this {
    for (const n of names) {
      this.locals.set(n, this.params.length + this.localTypes.length);
      this.localTypes.push(type);
    }
    return this;
  }

  private idx(n: string): number {
    const i = this.locals.get(n);
    if (i === undefined) throw new Error(`wasm emitter: ${this.name} has no local '${n}'`);
    return i;
  }

  private op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  private simd(opcode: number, ...rest: number[]): this { this.code.push(0xfd); uleb(this.code, opcode); this.code.push(...rest); return this; }
  private memarg(align: number, offset: number): this { uleb(this.code, align); uleb(this.code, offset); return this; }

  get(n: string): this { this.op(0x20); uleb(this.code, this.idx(n)); return this; }
  set(n: string): this { this.op(0x21); uleb(this.code, this.idx(n)); return this; }
  tee(n: string): this { this.op(0x22); uleb(this.code, this.idx(n)); return this; }
  i32(v: number): this { this.op(0x41); sleb(this.code, v | 0); return this; }
  /** i32 load / store (4-byte aligned) */
  iload(offset = 0): this { return this.op(0x28).memarg(2, offset); }
  istore(offset = 0): this { return this.op(0x36).memarg(2, offset); }
  f64const(v: number): this {
    this.op(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    this.code.push(...b);
    return this;
  }

  // i32 arithmetic and comparisons
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  shl(): this { return this.op(0x74); }
  ltS(): this { return this.op(0x48); }
  ltU(): this { return this.op(0x49); }
  eq(): this { return this.op(0x46); }
  divS(): this { return this.op(0x6d); }
  remS(): this { return this.op(0x6f); }
  and(): this { return this.op(0x71); }
  or(): this { return this.op(0x72); }
  /** select(a, b, cond): a where cond ≠ 0, else b. Branch-free (a conditional move) for integers on x86-64 and ARM64;
   * engines may branch for floats, so select float bits as integers (toBits / fromBits). */
  select(): this { return this.op(0x1b); }
  geS(): this { return this.op(0x4e); }
  eqz(): this { return this.op(0x45); }
  /** local n += v (an i32 constant or another local) */
  inc(n: string, by: number | string): this {
    this.get(n);
    if (typeof by === 'number') this.i32(by); else this.get(by);
    return this.add().set(n);
  }

  // control flow: structured, with helpers for the one loop shape the kernels use
  block(): this { this.depth++; return this.op(0x02, 0x40); }
  loop(): this { this.depth++; return this.op(0x03, 0x40); }
  if(): this { this.depth++; return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { this.depth--; return this.op(0x0b); }
  br(label: number): this { this.op(0x0c); uleb(this.code, label); return this; }
  brIf(label: number): this { this.op(0x0d); uleb(this.code, label); return this; }

  /** for (v = from; v < limit; v += step) body — `limit` is a local; the body must leave the stack as it found it. */
  for(v: string, from: number | string, limit: string, step: number | string, body: () => void): this {
    if (typeof from === 'number') this.i32(from); else this.get(from);
    this.set(v);
    this.block();
    this.get(v).get(limit).geS().brIf(0);
    this.loop();
    body();
    this.inc(v, step);
    this.get(v).get(limit).ltS().brIf(0);
    this.end().end();
    return this;
  }

  // scalar floats
  fload(t: Float, offset = 0): this { return this.op(F[t].load).memarg(t === 'f32' ? 2 : 3, offset); }
  fstore(t: Float, offset = 0): this { return this.op(F[t].store).memarg(t === 'f32' ? 2 : 3, offset); }
  /** gt, eq, ne: an i32 (1 true, 0 false); NaN compares false except with ne */
  fop(t: Float, o: 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max' | 'sqrt' | 'gt' | 'eq' | 'ne'): this { return this.op(F[t][o]); }
  fzero(t: Float): this { return t === 'f32' ? this.op(0x43, 0, 0, 0, 0) : this.f64const(0); }
  /** f64 → f32 (demote) or nothing for f64: hyper-parameters arrive as f64 */
  fromF64(t: Float): this { return t === 'f32' ? this.op(0xb6) : this; }
  /** a float's bits as an integer of its width (i32 / i64), and back */
  toBits(t: Float): this { return this.op(t === 'f32' ? 0xbc : 0xbd); }
  fromBits(t: Float): this { return this.op(t === 'f32' ? 0xbe : 0xbf); }

  // SIMD128
  vload(offset = 0): this { return this.simd(0x00).memarg(4, offset); }
  vstore(offset = 0): this { return this.simd(0x0b).memarg(4, offset); }
  vloadSplat(t: Float, offset = 0): this { return this.simd(V[t].loadSplat).memarg(t === 'f32' ? 2 : 3, offset); }
  vsplat(t: Float): this { return this.simd(V[t].splat); }
  /** lanewise; `max` propagates NaN and orders −0 below +0 (so max(x, 0) is the reference's ReLU) */
  vop(t: Float, o: VecOp): this { return this.simd(V[t][o]); }
  /** v128.bitselect(a, b, mask): a where the mask's bits are set, else b */
  vselect(): this { return this.simd(0x52); }
  /** f32x4.extract_lane / f64x2.extract_lane */
  vextract(t: Float, lane: number): this { return this.simd(t === 'f32' ? 0x1f : 0x21, lane); }
  /**
   * Relaxed SIMD's multiply-add (a · b + c, stack a b c): one fused instruction where the CPU has FMA, else a multiply
   * and an add — which of the two is the engine's choice, so results may differ from mul-then-add in the last bit.
   */
  vmadd(t: Float): this { return this.simd(t === 'f32' ? 0x105 : 0x107); }
  vzero(): this { this.simd(0x0c); this.code.push(...new Array<number>(16).fill(0)); return this; }

  /** The function's body bytes (locals declaration + code + end). */
  body(): number[] {
    if (this.depth !== 0) throw new Error(`wasm emitter: ${this.name} has ${this.depth} unclosed blocks`);
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++; else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [n, t] of groups) { uleb(out, n); out.push(VALTYPE[t]); }
    out.push(...this.code, 0x0b);
    return out;
  }
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  out.push(...content);
}

/**
 * A module importing one memory `env.memory` (shared when `shared`) and exporting every function by its name.
 * `maxPages` bounds the memory (required for a shared one).
 */
export function moduleBytes(fns: Fn[], memory: { shared: boolean; minPages: number; maxPages: number }): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // types: one per function (duplicates are harmless)
  const types: number[] = [];
  uleb(types, fns.length);
  for (const f of fns) {
    types.push(0x60);
    uleb(types, f.params.length);
    for (const [, t] of f.params) types.push(VALTYPE[t]);
    uleb(types, f.results.length);
    for (const t of f.results) types.push(VALTYPE[t]);
  }
  section(out, 1, types);
  const imports: number[] = [];
  uleb(imports, 1);
  name(imports, 'env');
  name(imports, 'memory');
  imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(imports, memory.minPages);
  uleb(imports, memory.maxPages);
  section(out, 2, imports);
  const funcs: number[] = [];
  uleb(funcs, fns.length);
  fns.forEach((_, i) => uleb(funcs, i));
  section(out, 3, funcs);
  const exports: number[] = [];
  uleb(exports, fns.length);
  fns.forEach((f, i) => { name(exports, f.name); exports.push(0x00); uleb(exports, i); });
  section(out, 7, exports);
  const code: number[] = [];
  uleb(code, fns.length);
  for (const f of fns) {
    const b = f.body();
    uleb(code, b.length);
    code.push(...b);
  }
  section(out, 10, code);
  return new Uint8Array(out);
}

/**
 * Whether this engine compiles relaxed SIMD (Chrome ≥ 114, Node ≥ 22; Node 20 with
 * `--experimental-wasm-relaxed-simd`): a one-function module using f32x4.relaxed_madd, validated.
 */
export function relaxedSimdSupported(): boolean {
  const f = new Fn('madd', [['a', 'v128'], ['b', 'v128'], ['c', 'v128']], ['v128']);
  f.get('a').get('b').get('c').vmadd('f32');
  try {
    return wasmApi.validate(moduleBytes([f], { shared: false, minPages: 1, maxPages: 1 }));
  } catch {
    return false;
  }
}
