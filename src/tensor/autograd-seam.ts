/**
 * The one seam between tensors and autograd. Tensor ops call `record(...)` after computing their output; the autograd
 * floor registers the engine that builds the graph (tensor code never imports autograd). Without an engine, or with
 * no input requiring a gradient, recording is a no-op.
 */
import type { Tensor } from './tensor.js';

/**
 * What a tensor knows of the node that produced it (`Tensor.gradFn`): the op and its inputs, enough to walk and print
 * the graph. The engine's node (src/autograd/graph.ts) implements it with what backward needs besides.
 */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  /** what the op's backward rule needs besides inputs and output (tensors among them are read by backward) */
  readonly saved?: Readonly<Record<string, unknown>>;
}

export interface AutogradEngine {
  /** Called by every differentiable op. `saved` holds whatever the op's backward rule needs besides inputs/output. */
  record(op: string, inputs: readonly Tensor[], output: Tensor, saved?: Record<string, unknown>): void;
  backward(root: Tensor, grad?: Tensor, options?: { retainGraph?: boolean; createGraph?: boolean }): void;
}

let engine: AutogradEngine | null = null;

export function registerAutograd(e: AutogradEngine): void { engine = e; }

export function record(op: string, inputs: readonly Tensor[], output: Tensor, saved?: Record<string, unknown>): Tensor {
  if (engine && inputs.some((t) => t.requiresGrad)) engine.record(op, inputs, output, saved);
  return output;
}

export function autogradEngine(): AutogradEngine | null { return engine; }
