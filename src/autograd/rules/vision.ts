/**
 * Backward rules of the vision ops. Each is written with recorded tensor ops, so they can be differentiated again:
 * conv2d's two backward ops are bilinear and their rules are the other two conv ops (any order works); the pooling
 * pair maxPool2dBackward/poolGather are each other's adjoint; dropout's rule is dropout with the same seed.
 */
import type { Conv2dGeom, Pool2dGeom } from '../../kernels/backend.js';
import { full } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { mul, sub, div } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import { softmax } from '../../tensor/ops/activation.js';
import {
  conv2dBackwardBias, conv2dBackwardInput, conv2dBackwardWeight, conv2dWithGeometry, crossEntropyBackward,
  dropoutWithSeed, fusedLinearBackward, maxPool2dBackward, poolGather,
} from '../../tensor/ops/vision.js';
import { defineRule } from './registry.js';

const geomOf = (saved: Readonly<Record<string, unknown>>) => saved.geom as Conv2dGeom;
const poolOf = (saved: Readonly<Record<string, unknown>>) => [saved.geom as Pool2dGeom, saved.indices as Tensor] as const;

// y = conv(x, w) + b
defineRule('conv2d', (g, { inputs: [x, w, b], saved, needsGrad }) => [
  needsGrad[0] ? conv2dBackwardInput(g, w, geomOf(saved)) : null,
  needsGrad[1] ? conv2dBackwardWeight(x, g, geomOf(saved)) : null,
  ...(b ? [needsGrad[2] ? conv2dBackwardBias(g) : null] : []),
]);

// dx = BI(gy, w): <gz, BI(gy, w)> = <conv(gz, w), gy> = <BW(gz, gy), w>
defineRule('conv2dBackwardInput', (gz, { inputs: [gy, w], saved, needsGrad }) => [
  needsGrad[0] ? conv2dWithGeometry(gz, w, null, geomOf(saved)) : null,
  needsGrad[1] ? conv2dBackwardWeight(gz, gy, geomOf(saved)) : null,
]);

// dw = BW(x, gy): <gz, BW(x, gy)> = <BI(gy, gz), x> = <conv(x, gz), gy>
defineRule('conv2dBackwardWeight', (gz, { inputs: [x, gy], saved, needsGrad }) => [
  needsGrad[0] ? conv2dBackwardInput(gy, gz, geomOf(saved)) : null,
  needsGrad[1] ? conv2dWithGeometry(x, gz, null, geomOf(saved)) : null,
]);

defineRule('maxPool2d', (g, { saved }) => [maxPool2dBackward(g, poolOf(saved)[1], poolOf(saved)[0])]);
defineRule('maxPool2dBackward', (g, { saved }) => [poolGather(g, poolOf(saved)[1], poolOf(saved)[0])]);
defineRule('poolGather', (g, { saved }) => [maxPool2dBackward(g, poolOf(saved)[1], poolOf(saved)[0])]);

defineRule('dropout', (g, { saved }) => [dropoutWithSeed(g, saved.p as number, saved.seed as [number, number])]);

defineRule('crossEntropy', (g, { inputs: [logits], saved }) => [crossEntropyBackward(logits, saved.labels as Tensor, g)]);

// z = g0 · (softmax(l) − onehot) / B. dz/dg0 is (softmax − onehot)/B itself; dz/dl is g0/B times softmax's Jacobian.
defineRule('crossEntropyBackward', (gz, { inputs: [logits, g0], saved, needsGrad }) => {
  const labels = saved.labels as Tensor;
  let dLogits: Tensor | null = null, dG0: Tensor | null = null;
  if (needsGrad[0]) {
    const s = softmax(logits, -1);
    const sg = mul(s, gz);
    const jvp = sub(sg, mul(s, sum(sg, -1, true)));
    dLogits = mul(jvp, div(g0, logits.shape[0]));
  }
  if (needsGrad[1]) {
    const one = full([], 1, { dtype: logits.dtype, device: logits.device });
    dG0 = sum(mul(gz, crossEntropyBackward(logits, labels, one)));
  }
  return [dLogits, dG0];
});

defineRule('fusedLinear', (g, { inputs: [x, w], output, saved, needsGrad }) =>
  fusedLinearBackward(g, x, w, output, saved.relu as boolean, needsGrad).slice(0, needsGrad.length));
