/**
 * Choosing and dispatching a matmul kernel (../wgsl/matmul.ts). The choice:
 * - family: on SwiftShader, register tiles ('reg'); on a GPU, workgroup-memory tiles ('wg') once both sides of C reach
 *   64 (below that a 64×64 block would be mostly idle);
 * - load modes ('reg'): per operand, vec4 loads along whichever axis is contiguous and 16-byte aligned, else scalar;
 * - split-K: when C has too few 4×4 tiles to keep the device busy and K is long, K is split and the partials summed.
 *   (Not with an epilogue: bias and ReLU must see the whole sum.)
 */
import type { MatmulEpilogue, Storage, View } from '../backend.js';
import { type ModeA, type ModeB, type RegTile, matmulRegKernel, matmulWgKernel, regTileSize } from '../wgsl/matmul.js';
import { type DispatchHost, gpuBuffer as buf } from './host.js';
import { forcedVariant } from './variants.js';

const aligned = (...xs: number[]) => xs.every((x) => x % 4 === 0);

function modeA(a: View, m: number, k: number, tile: RegTile): ModeA {
  const [sb, sm, sk] = a.strides;
  // rows as vec4 along k pay off for 4×4 tiles; 8×8 tiles run faster on scalar A reads (measured)
  if (tile === '4x4' && sk === 1 && k % 4 === 0 && aligned(a.offset, sb, sm)) return 'k4';
  if (sm === 1 && m % 4 === 0 && aligned(a.offset, sb, sk)) return 'm4';
  return 's';
}

function modeB(b: View, k: number, n: number): ModeB {
  const [sb, sk, sn] = b.strides;
  if (sn === 1 && n % 4 === 0 && aligned(b.offset, sb, sk)) return 'n4';
  if (sk === 1 && k % 4 === 0 && aligned(b.offset, sb, sn)) return 'k4';
  return 's';
}

/** The tile shape each forced register variant stands for. */
const forcedTile: Partial<Record<string, RegTile>> = { reg4: '4x4', reg8: '8x8', reg12: '8x12', reg4x8: '4x8', reg4x12: '4x12' };

export function dispatchMatmul(host: DispatchHost, a: View, b: View, batch: number, m: number, k: number, n: number,
  epi: MatmulEpilogue = {}): Storage {
  const rt = host.runtime;
  const outputs = batch * m * n;
  if (outputs === 0) return host.out(0, 'float32');
  const swift = rt.isSwiftShader;
  const variant = forcedVariant('matmul') ?? (!swift && m >= 64 && n >= 64 ? 'wg' : 'reg');
  const wg = variant === 'wg';
  // 8-row register tiles unless they would leave too few invocations (fewer than 8 workgroups) to spread; columns per
  // tile: 8, or for a narrow C (n ≤ 12: the small layers of an ensemble) the fewest of 4/8/12 that cover n, so a tile
  // does not compute columns that do not exist (n = 10: 8×12 tiles beat 8×8 on SwiftShader, bench/RESULTS.md)
  const big = batch * Math.ceil(m / 8) * Math.ceil(n / 8) >= 512;
  const width = n <= 4 ? 4 : n <= 8 ? 8 : n <= 12 ? 12 : 8;
  const auto: RegTile = big ? (width === 4 ? '8x4' : width === 8 ? '8x8' : '8x12') : (width === 12 ? '4x12' : width === 8 ? '4x8' : '4x4');
  const reg: RegTile = forcedTile[variant] ?? (variant === 'reg' ? auto : '4x4');
  const { RM, CQ } = regTileSize(reg);
  const tm = Math.ceil(m / (wg ? 64 : RM)), tn = Math.ceil(n / (wg ? 64 : 4 * CQ));
  const hasEpi = Boolean(epi.bias) || Boolean(epi.relu);

  // split-K: enough invocations to fill the device, at least 64 k per split (forced: up to 4 splits)
  let splits = 1;
  if (!hasEpi) {
    const threads = batch * tm * tn * (wg ? 256 : 1);
    const busy = swift ? 1024 : 32768;
    if (variant === 'splitk') splits = Math.min(4, Math.ceil(k / 4));
    else if (threads < busy / 2 && k >= 256) splits = Math.min(Math.ceil(busy / threads), Math.floor(k / 64), 64);
  }
  const chunk = Math.ceil(k / Math.max(splits, 1) / 4) * 4 || 4;
  splits = Math.max(1, Math.ceil(k / chunk));

  const target = splits > 1 ? host.out(splits * outputs, 'float32') : host.out(outputs, 'float32');
  const [aBatch, aM, aK] = a.strides, [bBatch, bK, bN] = b.strides;
  const uniforms = {
    batch, M: m, K: k, N: n, aOffset: a.offset, aBatch, aM, aK, bOffset: b.offset, bBatch, bK, bN,
    tilesN: tn, tilesM: tm, chunk, splits, biasBatch: epi.biasBatchStride ?? 0,
  };
  const bias = splits === 1 && epi.bias ? epi.bias : null;
  const relu = splits === 1 && Boolean(epi.relu);
  const spec = wg ? matmulWgKernel(bias !== null, relu)
    : variant === 'regs' ? matmulRegKernel('4x4', 's', 's', bias !== null, relu)
      : matmulRegKernel(reg, modeA(a, m, k, reg), modeB(b, k, n), bias !== null, relu);
  const bufs = [buf(a.storage), buf(b.storage), ...(bias ? [buf(bias)] : []), target.buf];
  rt.dispatch(spec, bufs, uniforms, batch * tm * tn * splits); // tiles: one per invocation ('reg') or workgroup ('wg')
  if (splits === 1) return target;
  const sum = host.reduce('sum', target, 1, splits, outputs);
  host.release(target);
  return sum;
}
