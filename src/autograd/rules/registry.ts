/**
 * The rule table: one entry per differentiable op, keyed by the name the tensor op passes to `record(...)`.
 * A rule maps the gradient of the output to one gradient per input (null where an input gets none), and is written
 * with the same differentiable tensor ops users call — so backward can itself be recorded, which is what makes
 * gradients of gradients (and Hessian-vector products) work.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { check } from '../../core/errors.js';

export interface RuleContext {
  /** the op's inputs, as recorded */
  readonly inputs: readonly Tensor[];
  /** the op's output */
  readonly output: Tensor;
  /** whatever else the op saved (axes, stride, a mask, ...) */
  readonly saved: Readonly<Record<string, unknown>>;
  /** which inputs need a gradient: a rule may skip the others */
  readonly needsGrad: readonly boolean[];
}

export type BackwardRule = (gradOutput: Tensor, ctx: RuleContext) => (Tensor | null)[];

const rules = new Map<string, BackwardRule>();

export function defineRule(op: string, rule: BackwardRule): void {
  check(typeof op === 'string' && typeof rule === 'function', 'defineRule', 'needs an op name and a rule function (ctx, gradOut) => gradients');
  if (rules.has(op)) throw new Error(`internal: a backward rule for '${op}' is defined twice`);
  rules.set(op, rule);
}

export function getRule(op: string): BackwardRule | undefined {
  return rules.get(op);
}

export function definedRules(): string[] {
  return [...rules.keys()].sort();
}
