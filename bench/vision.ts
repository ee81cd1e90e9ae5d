/**
 * The vision kernels' cases: conv2d forward, backward-input and backward-weight on every conv layer of the seed's
 * models, maxPool2d forward and backward, and crossEntropy forward + backward.
 *
 * gpugrad works in NCHW (as PyTorch); TF.js runs in NHWC, its own default layout and the one its tf.layers use. The
 * same numbers go to both (transposed on the host), and outputs are transposed back before they are compared.
 * When gpugrad does not (yet) export an op, its cases are skipped with a note.
 */
import { type BenchCase, type Gg, type Side, type Tier, ggSide, randomData, randomLabels, tfSide } from './cases.js';

/** Host transpose of a 4-D array: out[i[perm[0]], …] layout. */
export function permute4(data: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const st = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const os = perm.map((p) => shape[p]);
  let o = 0;
  for (let a = 0; a < os[0]; a++) for (let b = 0; b < os[1]; b++) for (let c = 0; c < os[2]; c++) for (let d = 0; d < os[3]; d++) {
    const idx = [0, 0, 0, 0];
    idx[perm[0]] = a; idx[perm[1]] = b; idx[perm[2]] = c; idx[perm[3]] = d;
    out[o++] = data[idx[0] * st[0] + idx[1] * st[1] + idx[2] * st[2] + idx[3] * st[3]];
  }
  return out;
}
const NCHW_TO_NHWC = [0, 2, 3, 1];
const OIHW_TO_HWIO = [2, 3, 1, 0];

/** A side whose output is transposed on the host before comparison. */
function transposedOutput(side: Side, shape: readonly number[], perm: readonly number[]): Side {
  const out = side.output!;
  return { ...side, output: async () => permute4(await out(), shape, perm) };
}

type AnyFn = (...args: unknown[]) => unknown;
/** The gpugrad op `name`, or null when the library does not export it yet. */
function op(gg: Gg, name: string): AnyFn | null {
  const f = (gg as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as AnyFn) : null;
}
const missing = (...names: string[]) => `gpugrad does not export ${names.join('/')} yet`;

interface ConvLayer { model: string; c: number; o: number; k: number; pad: number; hw: number; batch: number; tier: Tier }

/**
 * Every conv layer of the homework's models (docs/protocol.md), at the batch the experiments train with. On SwiftShader TF.js
 * needs 3-40 s per run of most of them, so only CNN-A's run by default; --full runs them all (a real GPU always does).
 */
export const CONV_LAYERS: ConvLayer[] = [
  { model: 'CNN-A conv1', c: 1, o: 10, k: 3, pad: 0, hw: 28, batch: 64, tier: 'default' },
  { model: 'CNN-A conv2', c: 10, o: 16, k: 3, pad: 0, hw: 13, batch: 64, tier: 'quick' },
  { model: 'CNN-B conv1', c: 1, o: 32, k: 5, pad: 0, hw: 28, batch: 64, tier: 'full' },
  { model: 'CNN-B conv2', c: 32, o: 32, k: 5, pad: 0, hw: 24, batch: 64, tier: 'full' },
  { model: 'CNN-B conv3', c: 32, o: 64, k: 5, pad: 0, hw: 10, batch: 64, tier: 'full' },
  { model: 'CNN-1 conv1', c: 3, o: 32, k: 3, pad: 1, hw: 32, batch: 64, tier: 'full' },
  { model: 'CNN-1 conv2', c: 32, o: 32, k: 3, pad: 1, hw: 32, batch: 64, tier: 'full' },
  { model: 'CNN-2 conv1', c: 3, o: 96, k: 3, pad: 1, hw: 32, batch: 64, tier: 'full' },
  { model: 'CNN-2 conv2', c: 96, o: 80, k: 3, pad: 1, hw: 16, batch: 64, tier: 'full' },
  { model: 'CNN-2 conv3', c: 80, o: 96, k: 3, pad: 1, hw: 8, batch: 64, tier: 'full' },
  { model: 'CNN-2 conv4', c: 96, o: 64, k: 3, pad: 1, hw: 8, batch: 64, tier: 'full' },
  { model: 'CNN-A conv2', c: 10, o: 16, k: 3, pad: 0, hw: 13, batch: 1024, tier: 'full' },
];

type Dir = 'forward' | 'backward-input' | 'backward-weight';

function convCase(L: ConvLayer, dir: Dir): BenchCase {
  const { c, o, k, pad, hw, batch: n } = L;
  const out = hw + 2 * pad - k + 1;
  const xShape = [n, c, hw, hw], wShape = [o, c, k, k], yShape = [n, o, out, out];
  const X = randomData(n * c * hw * hw, 11), W = randomData(o * c * k * k, 12, -0.3, 0.3), B = randomData(o, 13);
  const DY = randomData(n * o * out * out, 14);
  const flops = 2 * n * o * out * out * c * k * k;
  const nhwc = (s: readonly number[]) => [s[0], s[2], s[3], s[1]] as [number, number, number, number];
  const short = dir === 'forward' ? 'fwd' : dir === 'backward-input' ? 'bwd-in' : 'bwd-w';
  return {
    group: `conv2d ${short}`,
    name: `conv2d ${short} ${L.model} ${c}→${o} k${k}${pad ? ' p' + pad : ''} ${hw}² b${n}`,
    tier: L.tier,
    flops,
    tol: 1e-3,
    note: 'conv2d: gpugrad NCHW, TF.js NHWC (its default); both forwards add the bias (TF.js: tf.fused.conv2d)',
    gpugrad({ gg }) {
      const x = gg.tensor(X, { shape: xShape }), w = gg.tensor(W, { shape: wShape });
      if (dir === 'forward') {
        const conv2d = op(gg, 'conv2d');
        if (!conv2d) return missing('conv2d');
        const b = gg.tensor(B, { shape: [o] });
        return ggSide([x, w, b], () => conv2d(x, w, b, { padding: pad }) as ReturnType<Gg['matmul']>);
      }
      const geometry = op(gg, 'conv2dGeometry');
      const bwd = op(gg, dir === 'backward-input' ? 'conv2dBackwardInput' : 'conv2dBackwardWeight');
      if (!geometry || !bwd) return missing('conv2dGeometry', dir === 'backward-input' ? 'conv2dBackwardInput' : 'conv2dBackwardWeight');
      const geom = geometry(xShape, wShape, { padding: pad });
      const dy = gg.tensor(DY, { shape: yShape });
      const f = dir === 'backward-input' ? () => bwd(dy, w, geom) : () => bwd(x, dy, geom);
      return ggSide([x, w, dy], f as () => ReturnType<Gg['matmul']>);
    },
    tfjs({ tf }) {
      const x = tf.tensor4d(permute4(X, xShape, NCHW_TO_NHWC), nhwc(xShape));
      const w = tf.tensor4d(permute4(W, wShape, OIHW_TO_HWIO), [k, k, c, o]);
      const dy = tf.tensor4d(permute4(DY, yShape, NCHW_TO_NHWC), nhwc(yShape));
      const attrs = { strides: [1, 1], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, dilations: [1, 1] } as const;
      let side: Side;
      if (dir === 'forward') {
        const b = tf.tensor1d(B);
        side = tfSide(tf, [x, w, dy, b], () => tf.fused.conv2d({ x, filter: w, strides: 1, pad, bias: b }));
        return transposedOutput(side, nhwc(yShape), [0, 3, 1, 2]);
      }
      if (dir === 'backward-input') {
        side = tfSide(tf, [x, w, dy], () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
          { ...attrs, inputShape: nhwc(xShape) } as never) as import('@tensorflow/tfjs').Tensor);
        return transposedOutput(side, nhwc(xShape), [0, 3, 1, 2]);
      }
      side = tfSide(tf, [x, w, dy], () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { ...attrs, filterShape: [k, k, c, o] } as never) as import('@tensorflow/tfjs').Tensor);
      return transposedOutput(side, [k, k, c, o], [3, 2, 0, 1]);
    },
  };
}

export function convCases(): BenchCase[] {
  const dirs: Dir[] = ['forward', 'backward-input', 'backward-weight'];
  return CONV_LAYERS.flatMap((L) => dirs.map((d) => convCase(L, d)));
}

// ---- max pooling ----------------------------------------------------------------------------------------------------

interface PoolLayer { model: string; c: number; hw: number; batch: number; tier: Tier }
const POOL_LAYERS: PoolLayer[] = [
  { model: 'CNN-A pool1', c: 10, hw: 26, batch: 64, tier: 'quick' },
  { model: 'CNN-A pool2', c: 16, hw: 11, batch: 64, tier: 'default' },
  { model: 'CNN-2 pool1', c: 96, hw: 32, batch: 64, tier: 'full' },
  { model: 'CNN-2 pool2', c: 80, hw: 16, batch: 64, tier: 'full' },
];

function poolCase(L: PoolLayer, backward: boolean): BenchCase {
  const { c, hw, batch: n } = L;
  const out = Math.floor(hw / 2);
  const xShape = [n, c, hw, hw], yShape = [n, c, out, out];
  const X = randomData(n * c * hw * hw, 21), DY = randomData(n * c * out * out, 22);
  const nhwc = (s: readonly number[]) => [s[0], s[2], s[3], s[1]] as [number, number, number, number];
  const inBytes = 4 * n * c * hw * hw, outBytes = 4 * n * c * out * out;
  return {
    group: backward ? 'maxPool2d bwd' : 'maxPool2d fwd',
    name: `maxPool2d ${backward ? 'bwd' : 'fwd'} ${L.model} ${c}×${hw}² b${n}`,
    tier: L.tier,
    bytes: inBytes + outBytes,
    tol: 0,
    note: 'maxPool2d: gpugrad forward also writes the argmax indices its backward reads; TF.js MaxPoolGrad re-reads the input',
    gpugrad({ gg }) {
      const maxPool2d = op(gg, 'maxPool2d');
      if (!maxPool2d) return missing('maxPool2d');
      const x = gg.tensor(X, { shape: xShape });
      if (!backward) return ggSide([x], () => maxPool2d(x, 2) as ReturnType<Gg['matmul']>);
      const geometry = op(gg, 'pool2dGeometry'), bwd = op(gg, 'maxPool2dBackward');
      if (!geometry || !bwd) return missing('pool2dGeometry', 'maxPool2dBackward');
      const geom = geometry(xShape, 2) as Parameters<typeof x.storage.backend.maxPool2d>[1];
      const r = x.storage.backend.maxPool2d(x.storage, geom);
      const pooled = gg.Tensor.fromStorage(r.out, yShape), indices = gg.Tensor.fromStorage(r.indices, yShape);
      const dy = gg.tensor(DY, { shape: yShape });
      return ggSide([x, pooled, indices, dy], () => bwd(dy, indices, geom) as ReturnType<Gg['matmul']>);
    },
    tfjs({ tf }) {
      const x = tf.tensor4d(permute4(X, xShape, NCHW_TO_NHWC), nhwc(xShape));
      if (!backward) return transposedOutput(tfSide(tf, [x], () => tf.maxPool(x, 2, 2, 'valid')), nhwc(yShape), [0, 3, 1, 2]);
      const y = tf.maxPool(x, 2, 2, 'valid');
      const dy = tf.tensor4d(permute4(DY, yShape, NCHW_TO_NHWC), nhwc(yShape));
      const side = tfSide(tf, [x, y, dy], () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y },
        { filterSize: 2, strides: 2, pad: 'valid' } as never) as import('@tensorflow/tfjs').Tensor);
      return transposedOutput(side, nhwc(xShape), [0, 3, 1, 2]);
    },
  };
}

export function poolCases(): BenchCase[] {
  return POOL_LAYERS.flatMap((L) => [poolCase(L, false), poolCase(L, true)]);
}

// ---- cross-entropy --------------------------------------------------------------------------------------------------

function crossEntropyCase(batch: number, classes: number, tier: Tier): BenchCase {
  const L = randomData(batch * classes, 31, -3, 3), Y = randomLabels(batch, classes, 32);
  return {
    group: 'crossEntropy',
    name: `crossEntropy fwd+bwd ${batch}×${classes}`,
    tier,
    // read the logits and labels, write the loss and the gradient
    bytes: 4 * (2 * batch * classes + batch + 1),
    tol: 1e-4,
    note: 'crossEntropy: gpugrad runs its two fused kernels; TF.js runs tf.grad of tf.losses.softmaxCrossEntropy on one-hot labels',
    gpugrad({ gg }) {
      const ce = op(gg, 'crossEntropy'), ceb = op(gg, 'crossEntropyBackward');
      if (!ce || !ceb) return missing('crossEntropy', 'crossEntropyBackward');
      const logits = gg.tensor(L, { shape: [batch, classes] }), labels = gg.tensor(Y, { shape: [batch] });
      const one = gg.ones([]);
      type T = ReturnType<Gg['matmul']>;
      // gradient first, so output() compares the gradient
      return ggSide([logits, labels, one], () => [ceb(logits, labels, one) as T, ce(logits, labels) as T]);
    },
    tfjs({ tf }) {
      const logits = tf.tensor2d(L, [batch, classes]), onehot = tf.oneHot(tf.tensor1d(Y, 'int32'), classes);
      const g = tf.valueAndGrad((l: import('@tensorflow/tfjs').Tensor) => tf.losses.softmaxCrossEntropy(onehot, l) as import('@tensorflow/tfjs').Scalar);
      return tfSide(tf, [logits, onehot], () => { const r = g(logits); return [r.grad, r.value]; });
    },
  };
}

export function lossCases(): BenchCase[] {
  return [crossEntropyCase(64, 10, 'quick'), crossEntropyCase(1024, 10, 'default')];
}

export function visionCases(): BenchCase[] {
  return [...convCases(), ...poolCases(), ...lossCases()];
}
