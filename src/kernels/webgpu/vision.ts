/**
 * The WebGPU side of the vision ops: picks each kernel's variant from the shape and the adapter, fills its uniforms,
 * and dispatches. WebGPUBackend's vision methods delegate here (kept apart so backend.ts stays short).
 *
 * Variants can be forced for tests and benchmarks with `forceVariant(kernel, name)`: every variant must pass the same
 * tests, whatever the heuristics would pick for the shapes at hand.
 */
import type { Conv2dGeom, Pool2dGeom, Storage } from '../backend.js';
import { GpugradError } from '../../core/errors.js';
import { dropoutThreshold } from '../cpu/vision.js';
import { type Conv2dVariant, conv2dKernel, conv2dTile } from '../wgsl/conv2d.js';
import { type Conv2dBackwardInputVariant, backwardInputTile, conv2dBackwardInputKernel } from '../wgsl/conv2d-backward-input.js';
import { conv2dBackwardWeightKernel } from '../wgsl/conv2d-backward-weight.js';
import { countCorrectKernel } from '../wgsl/count-correct.js';
import { crossEntropyKernel } from '../wgsl/cross-entropy.js';
import { crossEntropyBackwardKernel } from '../wgsl/cross-entropy-backward.js';
import { dropoutKernel } from '../wgsl/dropout.js';
import { maxPool2dKernel } from '../wgsl/maxpool2d.js';
import { maxPool2dBackwardKernel } from '../wgsl/maxpool2d-backward.js';
import { maxPool2dBackwardWindowKernel } from '../wgsl/maxpool2d-backward-window.js';
import { poolGatherKernel } from '../wgsl/pool-gather.js';
import { type DispatchHost, type GpuStorage, gpuBuffer as buf } from './host.js';
import type { PooledBuffer } from './pool.js';
import { forcedVariant } from './variants.js';

export { forceVariant, kernelVariants, type VariantKernel } from './variants.js';

/** The kernels that check labels, by the code they write to status[3] (label_ok in wgsl/cross-entropy.ts). */
const LABEL_OPS: readonly (readonly [string, string])[] = [
  ['crossEntropy', 'the loss and its gradient are NaN'],
  ['countCorrect', 'that row was not counted'],
];

/** The conv kernels' geometry uniforms (wgsl/conv2d.ts's `convUniforms`). */
function convGeometry(g: Conv2dGeom) {
  return {
    N: g.batch, C: g.inC, H: g.inH, W: g.inW, O: g.outC, kH: g.kH, kW: g.kW, OH: g.outH, OW: g.outW, strideH: g.strideH,
    strideW: g.strideW, padH: g.padH, padW: g.padW, dilationH: g.dilationH, dilationW: g.dilationW, groups: g.groups,
    Cg: g.inC / g.groups, Og: g.outC / g.groups,
  };
}

/** The forward conv's tile: 8 channels per invocation for wide layers, 8 pixels unless rows are very short. */
function pickConv2d(outChannelsPerGroup: number, outW: number): Conv2dVariant {
  const o8 = outChannelsPerGroup >= 16 || outChannelsPerGroup === 8;
  return `o${o8 ? 8 : 4}p${outW >= 6 ? 8 : 4}` as Conv2dVariant;
}

/** The input gradient's tile: one channel for 1–3-channel inputs, 8 for wide ones; 8 pixels when rows allow. */
function pickBackwardInput(inChannelsPerGroup: number, inW: number): Conv2dBackwardInputVariant {
  if (inChannelsPerGroup <= 3) return 'c1p8';
  if (inChannelsPerGroup >= 16) return inW >= 6 ? 'c8p8' : 'c8p4';
  return inW >= 6 ? 'c4p8' : 'c4p4';
}

/** The max-pool kernels' uniforms (wgsl/maxpool2d.ts's `poolUniforms`) for a kernel run over `n` elements. */
const poolGeometry = (g: Pool2dGeom, n: number) => ({
  n, H: g.inH, W: g.inW, OH: g.outH, OW: g.outW, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW,
});

export class VisionKernels {
  /** Where the cross-entropy and countCorrect kernels report a bad label; checked at the next read-back (see `checkStatus`). */
  private status: GpuStorage | null = null;
  private statusPending = false;
  private statusClasses = 0;

  constructor(private host: DispatchHost) {}

  private get rt() { return this.host.runtime; }

  /** How many invocations keep this adapter busy: SwiftShader splits a dispatch into 16 tasks; GPUs want far more. */
  private get busyThreads(): number { return this.rt.isSwiftShader ? 2048 : 65536; }

  conv2d(x: Storage, w: Storage, bias: Storage | null, g: Conv2dGeom): Storage {
    const out = this.host.out(g.batch * g.outC * g.outH * g.outW, 'float32');
    if (out.length === 0) return out;
    const og = g.outC / g.groups;
    const variant = forcedVariant('conv2d') ?? pickConv2d(og, g.outW);
    const { TO, TP } = conv2dTile(variant);
    const tilesO = Math.ceil(og / TO), perRow = Math.ceil(g.outW / TP), tilesP = g.batch * g.outH * perRow;
    const padded = g.padH > 0 || g.padW > 0;
    const bufs = [buf(x), buf(w), ...(bias ? [buf(bias)] : []), out.buf];
    this.rt.dispatch(conv2dKernel(variant, padded, bias !== null, g.inC === g.groups), bufs,
      { ...convGeometry(g), tilesO, tilesP, perRow }, g.groups * tilesO * tilesP);
    return out;
  }

  conv2dBackwardInput(gy: Storage, w: Storage, g: Conv2dGeom): Storage {
    const dx = this.host.out(g.batch * g.inC * g.inH * g.inW, 'float32');
    if (dx.length === 0) return dx;
    const cg = g.inC / g.groups;
    const variant = forcedVariant('conv2dBackwardInput') ?? pickBackwardInput(cg, g.inW);
    const { TC, TP } = backwardInputTile(variant);
    const tilesC = Math.ceil(cg / TC), perRow = Math.ceil(g.inW / TP), tilesP = g.batch * g.inH * perRow;
    this.rt.dispatch(conv2dBackwardInputKernel(variant), [buf(gy), buf(w), dx.buf], { ...convGeometry(g), tilesC, tilesP, perRow },
      g.groups * tilesC * tilesP);
    return dx;
  }

  conv2dBackwardWeight(x: Storage, gy: Storage, g: Conv2dGeom): Storage {
    const og = g.outC / g.groups, ckk = (g.inC / g.groups) * g.kH * g.kW;
    const weights = g.outC * ckk;
    const pixels = g.batch * g.outH * g.outW;
    if (pixels === 0) return this.host.fill(weights, 0, 'float32'); // an empty batch: no gradient
    const tilesO = Math.ceil(og / 4), tilesC = Math.ceil(ckk / 4);
    const tiles = g.groups * tilesO * tilesC;
    // Split K (the pixels) into S chunks: enough invocations to fill the device, chunks of at least 32 pixels.
    const S = Math.max(1, Math.min(Math.ceil(this.busyThreads / tiles), Math.ceil(pixels / 32)));
    const chunk = Math.ceil(pixels / S);
    const splits = Math.ceil(pixels / chunk);
    const partial = this.host.out(splits * weights, 'float32');
    if (weights === 0) return partial;
    this.rt.dispatch(conv2dBackwardWeightKernel(g.padH > 0 || g.padW > 0), [buf(x), buf(gy), partial.buf],
      { ...convGeometry(g), tilesO, tilesC, pixels, chunk, splits, weights }, splits * tiles);
    if (splits === 1) return partial;
    const dw = this.host.reduce('sum', partial, 1, splits, weights);
    this.host.release(partial);
    return dw;
  }

  maxPool2d(x: Storage, g: Pool2dGeom): { out: Storage; indices: Storage } {
    const n = g.batch * g.channels * g.outH * g.outW;
    const out = this.host.out(n, 'float32'), indices = this.host.out(n, 'int32');
    if (n > 0) this.rt.dispatch(maxPool2dKernel(), [buf(x), out.buf, indices.buf], poolGeometry(g, n), n);
    return { out, indices };
  }

  maxPool2dBackward(gy: Storage, indices: Storage, g: Pool2dGeom): Storage {
    const n = g.batch * g.channels * g.inH * g.inW;
    const dx = this.host.out(n, 'float32');
    if (n === 0) return dx;
    const tiles = g.strideH === g.kH && g.strideW === g.kW && g.padH === 0 && g.padW === 0;
    const variant = forcedVariant('maxPool2dBackward') ?? (tiles ? 'window' : 'gather');
    if (variant === 'window' && tiles) {
      const outs = g.batch * g.channels * g.outH * g.outW;
      this.rt.dispatch(maxPool2dBackwardWindowKernel(), [buf(gy), buf(indices), dx.buf], poolGeometry(g, outs), outs);
    } else {
      this.rt.dispatch(maxPool2dBackwardKernel(), [buf(gy), buf(indices), dx.buf], poolGeometry(g, n), n);
    }
    return dx;
  }

  poolGather(x: Storage, indices: Storage, g: Pool2dGeom): Storage {
    const n = g.batch * g.channels * g.outH * g.outW;
    const out = this.host.out(n, 'float32');
    if (n > 0) {
      this.rt.dispatch(poolGatherKernel(), [buf(x), buf(indices), out.buf], { n, inPlane: g.inH * g.inW, outPlane: g.outH * g.outW }, n);
    }
    return out;
  }

  dropout(x: Storage, p: number, seed: readonly [number, number]): Storage {
    const n = x.length;
    const out = this.host.out(n, 'float32');
    if (n > 0) {
      this.rt.dispatch(dropoutKernel(), [buf(x), out.buf],
        { n, seed0: seed[0], seed1: seed[1], threshold: dropoutThreshold(p), scale: 1 / (1 - p) }, n);
    }
    return out;
  }

  private statusBuffer(classes: number): PooledBuffer {
    if (!this.status) {
      this.status = this.host.out(4, 'int32');
      this.rt.write(this.status.buf, new Int32Array(4));
    }
    this.statusPending = true;
    this.statusClasses = classes;
    return this.status.buf;
  }

  crossEntropy(logits: Storage, labels: Storage, batch: number, classes: number): Storage {
    const out = this.host.out(1, 'float32');
    this.rt.dispatch(crossEntropyKernel(), [buf(logits), buf(labels), out.buf, this.statusBuffer(classes)], { B: batch, C: classes }, batch);
    return out;
  }

  crossEntropyBackward(logits: Storage, labels: Storage, gradOut: Storage, batch: number, classes: number): Storage {
    const out = this.host.out(batch * classes, 'float32');
    this.rt.dispatch(crossEntropyBackwardKernel(), [buf(logits), buf(labels), buf(gradOut), out.buf, this.statusBuffer(classes)],
      { B: batch, C: classes }, batch);
    return out;
  }

  countCorrect(logits: Storage, labels: Storage, batch: number, classes: number): Storage {
    const out = this.host.out(1, 'int32');
    this.rt.dispatch(countCorrectKernel(), [buf(logits), buf(labels), out.buf, this.statusBuffer(classes)],
      { B: batch, C: classes }, batch);
    return out;
  }

  /**
   * Called by every read-back: when a cross-entropy kernel ran since the last check, reads its status words in the
   * same submit as the data and throws if a label was out of range (then clears the flag).
   */
  async checkStatus(): Promise<void> {
    if (!this.statusPending || !this.status) return;
    this.statusPending = false;
    const words = new Int32Array(await this.rt.read(this.status.buf, 16));
    if (words[0] !== 0) {
      this.rt.write(this.status.buf, new Int32Array(4));
      const [op, consequence] = LABEL_OPS[words[3]] ?? LABEL_OPS[0];
      throw new GpugradError(`${op}: label ${words[1]} of row ${words[2]} is out of range for ` +
        `${this.statusClasses} classes (labels must be class indices in [0, ${this.statusClasses})); ` +
        `found on the GPU, so ${consequence}`);
    }
  }
}
