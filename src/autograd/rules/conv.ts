/**
 * conv2d's rules. Its two backward ops are bilinear and their rules are the other two conv ops (any order works), so
 * gradients of any order stay three kernels.
 */
import type { Conv2dGeom } from '../../kernels/backend.js';
import { conv2dBackwardBias, conv2dBackwardInput, conv2dBackwardWeight, conv2dWithGeometry } from '../../tensor/ops/conv.js';
import { defineRule } from './registry.js';

const geomOf = (saved: Readonly<Record<string, unknown>>) => saved.geom as Conv2dGeom;

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
