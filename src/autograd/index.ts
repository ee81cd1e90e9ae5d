/**
 * Autograd: reverse-mode differentiation over a graph recorded during the forward pass, with gradients of any order.
 *
 * - graph.ts      what gets recorded (Node), grad mode (noGrad), the topological order
 * - backward.ts   the backward walk and `.grad` accumulation
 * - rules/        the rule table: one backward rule per op, built from differentiable ops
 * - functional.ts grad, hvp, hessian
 * - gradcheck.ts  finite-difference checks of first and second derivatives
 * - dot.ts        the graph printer (DOT text); svg.ts lays it out as SVG with Graphviz in wasm
 *
 * Importing this module plugs the engine into the tensor floor (src/tensor/autograd-seam.ts).
 */
import { registerAutograd } from '../tensor/autograd-seam.js';
import { backward } from './backward.js';
import { recordOp } from './graph.js';
import './rules/index.js';

registerAutograd({ record: recordOp, backward });

export { Node, noGrad, enableGrad, isGradEnabled, topologicalOrder } from './graph.js';
export { backward, type BackwardOptions } from './backward.js';
export { grad, hvp, hessian, type GradOptions } from './functional.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './gradcheck.js';
export { toDot, type DotOptions } from './dot.js';
export { toSvg, dotToSvg } from './svg.js';
export { defineRule, getRule, definedRules, type BackwardRule, type RuleContext } from './rules/index.js';
