/**
 * The wasm device's SIMD128 kernels, generated with ./emit.ts when the backend starts:
 *
 * - `gemm_f32` / `gemm_f64`: the matmul micro-kernel. It multiplies `mPanels` packed A panels (MR rows each, stored
 *   [k][MR], `aStride` bytes apart) by `nPanels` packed B panels (NR columns each, stored [k][NR], `bStride` bytes
 *   apart) into MR × NR tiles of C, keeping the whole tile in registers (MR × NR/lanes v128 accumulators) so each k
 *   step does MR splat-loads, NR/lanes vector loads and MR × NR/lanes multiply-adds with no store. The caller
 *   (./gemm.ts) blocks k and n so the B block stays in L2 while the A panels stream past it. `acc` = 1 adds to C
 *   (k blocks after the first). Only C's valid m × n part is written, with the epilogue (bias per column or per row, ReLU)
 *   fused, so C can be the output itself. With relaxed SIMD (`fma`) each multiply-add is one `relaxed_madd`: an FMA
 *   on x86-64 and ARM64, which SIMD128 lacks — its separate multiply and add cap the kernel at about half the FMA rate.
 * - `adam_f32` / `adam_f64`: the in-place Adam update, whole vectors (storages are padded to 16 bytes, see ./heap.ts).
 * - packing, im2col and col2im: ./pack-kernels.ts; max-pool and its backward: ./pool-kernels.ts.
 * The tile (MR rows × VN vectors) is in ./tile.ts.
 */
import type { BinaryOp } from '../backend.js';
import { Fn, type Float, floatBytes, laneCount, moduleBytes } from './emit.js';
import { binaryKernel, SIMD_BINARY, SIMD_UNARY, unaryKernel, whereKernel } from './elementwise-kernels.js';
import { col2im, im2col, packA, packB } from './pack-kernels.js';
import { maxPool, maxPoolBackward } from './pool-kernels.js';
import { MR, nr, VN } from './tile.js';

export { MR, nr } from './tile.js';

function gemmKernel(t: Float, fma: boolean): Fn {
  const size = floatBytes(t), NR = nr(t), lanes = laneCount(t);
  const f = new Fn(`gemm_${t}`, [['a', 'i32'], ['b', 'i32'], ['c', 'i32'], ['k', 'i32'], ['ldc', 'i32'],
    ['nPanels', 'i32'], ['bStride', 'i32'], ['acc', 'i32'], ['mPanels', 'i32'], ['aStride', 'i32'], ['m', 'i32'], ['n', 'i32'],
    ['bias', 'i32'], ['relu', 'i32'], ['biasRows', 'i32']]);
  const accs: string[] = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < VN; v++) accs.push(`c${r}_${v}`);
  const bs = Array.from({ length: VN }, (_, v) => `b${v}`);
  f.local('v128', ...accs, ...bs, 'ar').local('i32', 'i', 'j', 'p', 'pa', 'pb', 'crow', 'ci', 'cj', 'rows', 'cols');
  const eachAcc = (fn: (r: number, v: number, name: string) => void) => {
    for (let r = 0; r < MR; r++) for (let v = 0; v < VN; v++) fn(r, v, `c${r}_${v}`);
  };
  /** runs `body` for row r only when r < rows (the last A panel may be partial) */
  const ifRow = (r: number, body: () => void) => { f.i32(r).get('rows').ltS().if(); body(); f.end(); };
  f.for('i', 0, 'mPanels', 1, () => {
    f.get('m').get('i').i32(MR).mul().sub().set('rows');
    f.get('c').get('i').i32(MR).mul().get('ldc').mul().add().set('ci');
    f.for('j', 0, 'nPanels', 1, () => {
      f.get('n').get('j').i32(NR).mul().sub().set('cols');
      f.get('ci').get('j').i32(NR * size).mul().add().set('cj');
      // the accumulators start at zero, or at C's tile when accumulating (k blocks after the first)
      eachAcc((_r, _v, c) => { f.vzero().set(c); });
      f.get('acc').if();
      for (let r = 0; r < MR; r++) {
        ifRow(r, () => { for (let v = 0; v < VN; v++) f.get('cj').get('ldc').i32(r).mul().add().vload(v * 16).set(`c${r}_${v}`); });
      }
      f.end();
      f.get('a').get('i').get('aStride').mul().add().set('pa');
      f.get('b').get('j').get('bStride').mul().add().set('pb');
      f.for('p', 0, 'k', 1, () => {
        for (let v = 0; v < VN; v++) f.get('pb').vload(v * 16).set(`b${v}`);
        for (let r = 0; r < MR; r++) {
          f.get('pa').vloadSplat(t, r * size).set('ar');
          for (let v = 0; v < VN; v++) {
            if (fma) f.get('ar').get(`b${v}`).get(`c${r}_${v}`).vmadd(t).set(`c${r}_${v}`);
            else f.get(`c${r}_${v}`).get('ar').get(`b${v}`).vop(t, 'mul').vop(t, 'add').set(`c${r}_${v}`);
          }
        }
        f.inc('pa', MR * size).inc('pb', NR * size);
      });
      // the epilogue (given only with the last k block): + bias per column (per row: conv's per-channel bias), then ReLU
      f.get('bias').if();
      f.get('biasRows').if();
      for (let r = 0; r < MR; r++) {
        f.get('bias').get('i').i32(MR * size).mul().add().vloadSplat(t, r * size).set('ar');
        for (let v = 0; v < VN; v++) f.get(`c${r}_${v}`).get('ar').vop(t, 'add').set(`c${r}_${v}`);
      }
      f.else();
      for (let v = 0; v < VN; v++) {
        f.get('bias').get('j').i32(NR * size).mul().add().vload(v * 16).set(`b${v}`);
        for (let r = 0; r < MR; r++) f.get(`c${r}_${v}`).get(`b${v}`).vop(t, 'add').set(`c${r}_${v}`);
      }
      f.end();
      f.end();
      f.get('relu').if();
      eachAcc((_r, _v, c) => { f.get(c).vzero().vop(t, 'max').set(c); });
      f.end();
      // store the valid part: whole vectors when the panel is whole in n, else lane by lane
      f.get('cols').i32(NR).geS().if();
      for (let r = 0; r < MR; r++) {
        ifRow(r, () => {
          f.get('cj').get('ldc').i32(r).mul().add().set('crow');
          for (let v = 0; v < VN; v++) f.get('crow').get(`c${r}_${v}`).vstore(v * 16);
        });
      }
      f.else();
      for (let r = 0; r < MR; r++) {
        ifRow(r, () => {
          f.get('cj').get('ldc').i32(r).mul().add().set('crow');
          for (let l = 0; l < NR; l++) {
            f.i32(l).get('cols').ltS().if();
            f.get('crow').get(`c${r}_${Math.floor(l / lanes)}`).vextract(t, l % lanes).fstore(t, l * size);
            f.end();
          }
        });
      }
      f.end();
    });
  });
  return f;
}

/** Adam on `n` elements (rounded up to whole vectors); hyper-parameters as f64, folded as the CPU reference does. */
function adam(t: Float): Fn {
  const lanes = laneCount(t);
  const f = new Fn(`adam_${t}`, [['p', 'i32'], ['g', 'i32'], ['m', 'i32'], ['v', 'i32'], ['n', 'i32'],
    ['lr', 'f64'], ['beta1', 'f64'], ['beta2', 'f64'], ['eps', 'f64'], ['wd', 'f64'], ['bc1', 'f64'], ['bc2', 'f64']]);
  f.local('v128', 'vb1', 'vb1c', 'vb2', 'vb2c', 'vlr', 'veps', 'vwd', 'vbc1', 'vbc2', 'gi', 'mm', 'vv', 'pp')
    .local('i32', 'i', 'off');
  const splat = (from: () => void, to: string) => { from(); f.fromF64(t).vsplat(t).set(to); };
  splat(() => f.get('beta1'), 'vb1');
  splat(() => f.f64const(1).get('beta1').fop('f64', 'sub'), 'vb1c');
  splat(() => f.get('beta2'), 'vb2');
  splat(() => f.f64const(1).get('beta2').fop('f64', 'sub'), 'vb2c');
  splat(() => f.get('lr'), 'vlr');
  splat(() => f.get('eps'), 'veps');
  splat(() => f.get('wd'), 'vwd');
  splat(() => f.get('bc1'), 'vbc1');
  splat(() => f.get('bc2'), 'vbc2');
  f.for('i', 0, 'n', lanes, () => {
    f.get('i').i32(floatBytes(t)).mul().set('off');
    const at = (base: string) => f.get(base).get('off').add();
    at('p').vload().set('pp');
    // gi = g + wd·p
    at('g').vload().get('vwd').get('pp').vop(t, 'mul').vop(t, 'add').set('gi');
    // m = β1·m + (1 − β1)·gi ; v = β2·v + (1 − β2)·gi²
    at('m').vload().get('vb1').vop(t, 'mul').get('vb1c').get('gi').vop(t, 'mul').vop(t, 'add').set('mm');
    at('v').vload().get('vb2').vop(t, 'mul').get('vb2c').get('gi').vop(t, 'mul').get('gi').vop(t, 'mul').vop(t, 'add').set('vv');
    at('m').get('mm').vstore();
    at('v').get('vv').vstore();
    // p −= lr·(m / bc1) / (sqrt(v / bc2) + eps)
    at('p');
    f.get('pp').get('vlr').get('mm').get('vbc1').vop(t, 'div').vop(t, 'mul');
    f.get('vv').get('vbc2').vop(t, 'div').vop(t, 'sqrt').get('veps').vop(t, 'add').vop(t, 'div');
    f.vop(t, 'sub').vstore();
  });
  return f;
}

/**
 * Every kernel of the device, as one module over a memory of `maxPages` 64 KiB pages. `fma`: the gemm's multiply-adds
 * are relaxed SIMD's madd (the engine must support it: ./emit.ts's relaxedSimdSupported); the rest is SIMD128.
 */
export function kernelModule(shared: boolean, maxPages: number, fma = false): Uint8Array<ArrayBuffer> {
  const each = (make: (t: Float) => Fn) => [make('f32'), make('f64')];
  const gemm = (t: Float) => gemmKernel(t, fma);
  const elementwise = (t: Float) => [whereKernel(t), ...Object.keys(SIMD_BINARY).map((op) => binaryKernel(t, op as BinaryOp)),
    ...SIMD_UNARY.map((op) => unaryKernel(t, op))];
  return moduleBytes([gemm, adam, packA, packB, im2col, col2im, maxPool, maxPoolBackward].flatMap(each).concat(elementwise('f32'), elementwise('f64')),
    { shared, minPages: 1, maxPages });
}

type Gemm = (a: number, b: number, c: number, k: number, ldc: number, nPanels: number, bStride: number, acc: number,
  mPanels: number, aStride: number, m: number, n: number, bias: number, relu: number, biasRows: number) => void;
type Pack = (src: number, dst: number, s1: number, s2: number, rows: number, cols: number, panelStride: number) => void;
type ColWalk = (x: number, col: number, qWidth: number, qPanel: number, qStep: number, pWidth: number, pPanel: number,
  pStep: number, C: number, H: number, W: number, kH: number, kW: number, outH: number,
  outW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number) => void;

type MaxPool = (x: number, out: number, ind: number, planes: number, H: number, W: number, outH: number, outW: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number) => void;
type MaxPoolBack = (g: number, ind: number, dx: number, planes: number, outPlane: number, plane: number) => void;

/** Elementwise kernels, by name `${op}_${f32|f64}` (./elementwise-kernels.ts). */
export type Binary = (a: number, b: number, out: number, n: number, aScalar: number, bScalar: number) => void;
export type Where = (cond: number, a: number, b: number, out: number, n: number, aScalar: number, bScalar: number) => void;
export type Unary = (x: number, out: number, n: number) => void;

export interface Kernels {
  [elementwise: string]: unknown;
  packA_f32: Pack; packA_f64: Pack; packB_f32: Pack; packB_f64: Pack;
  im2col_f32: ColWalk; im2col_f64: ColWalk; col2im_f32: ColWalk; col2im_f64: ColWalk;
  gemm_f32: Gemm; gemm_f64: Gemm;
  maxpool_f32: MaxPool; maxpool_f64: MaxPool; maxpoolBack_f32: MaxPoolBack; maxpoolBack_f64: MaxPoolBack;
  adam_f32(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number,
    wd: number, bc1: number, bc2: number): void;
  adam_f64(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number,
    wd: number, bc1: number, bc2: number): void;
}
