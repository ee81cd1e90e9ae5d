/**
 * The recorded graph. While grad mode is on, every differentiable op on a tensor that requires a gradient calls
 * `record(...)` (through src/tensor/autograd-seam.ts), which hangs a `Node` on the op's output:
 *
 *     y = x.mul(w)   →   y.gradFn = Node { op: 'mul', inputs: [x, w], output: y, saved: {} }
 *
 * Following `gradFn.inputs` from a result back to the leaves walks the whole computation; `topologicalOrder` lists it so
 * that every tensor comes after everything it was computed from.
 */
import type { GradNode } from '../tensor/autograd-seam.js';
import { Tensor } from '../tensor/tensor.js';
import { GpugradError, check } from '../core/errors.js';

let nextNodeId = 1;
/** The derivative order of what is being recorded now: 0 in the forward pass, k+1 while a recorded backward runs a
 * rule of an order-k node (see `Node.order`). */
let recordingOrder = 0;

/** One recorded op: what it was, what it read, what it produced, and anything else its backward rule needs. */
export class Node implements GradNode {
  readonly id = nextNodeId++;
  /**
   * 0 for an op of the forward pass; 1 for an op recorded by the backward rule of an order-0 op (a gradient computed
   * with createGraph, the graph that a second backward differentiates for H·v), 2 for a rule of those, and so on.
   * The graph printer highlights order ≥ 1.
   */
  readonly order = recordingOrder;
  /** set by a backward() that did not retain the graph: running this node's rule again is an error */
  freed = false;
  constructor(
    readonly op: string,
    readonly inputs: readonly Tensor[],
    readonly output: Tensor,
    public saved: Readonly<Record<string, unknown>>,
  ) {}
}

/** The engine's node behind `t` (every gradFn is one: only recordOp below sets it). */
export const nodeOf = (t: Tensor): Node | null => t.gradFn as Node | null;

// ---- grad mode -----------------------------------------------------------------------------------------------------

let gradEnabled = true;

/** Whether ops are being recorded right now. */
export function isGradEnabled(): boolean { return gradEnabled; }

function withGradMode<T>(enabled: boolean, fn: () => T, what: string): T {
  check(typeof fn === 'function', what, () => `needs a function, got ${typeof fn}`);
  const before = gradEnabled;
  gradEnabled = enabled;
  let result: T;
  try {
    result = fn();
  } finally {
    gradEnabled = before;
  }
  if (result instanceof Promise) {
    throw new GpugradError(`${what}: the function returned a Promise; grad mode is switched synchronously, so await ` +
      'outside it (e.g. `const y = noGrad(() => f(x)); await y.data()`)');
  }
  return result;
}

/** Runs `fn` without recording a graph (like `torch.no_grad()`): inference, parameter updates, metrics. */
export function noGrad<T>(fn: () => T): T { return withGradMode(false, fn, 'noGrad'); }

/** Runs `fn` with recording switched back on (inside a `noGrad`). */
export function enableGrad<T>(fn: () => T): T { return withGradMode(true, fn, 'enableGrad'); }

/** The derivative order ops are recorded at now (see `Node.order`). */
export function recordingOrderNow(): number { return recordingOrder; }

/** Sets the order the next recorded ops get: backward raises it to node.order + 1 around each rule it runs. */
export function setRecordingOrder(order: number): void { recordingOrder = order; }

/** The engine's half of the seam: called by every differentiable op whose inputs include one that requires grad. */
export function recordOp(op: string, inputs: readonly Tensor[], output: Tensor, saved?: Record<string, unknown>): void {
  if (!gradEnabled) return;
  output.requiresGrad = true;
  output.gradFn = new Node(op, inputs.map((t) => own(output, t)), output, ownAll(output, saved ?? {}));
}

/**
 * Cached constants (`x.mul(2)`) belong to the constant cache, which may dispose them before the node's backward runs:
 * the node reads them through aliases its output owns (released with the output), so the graph holds its own
 * reference to every value it will need. Other tensors are the user's (their scopes free them).
 */
function own<T>(output: Tensor, t: T): T {
  return t instanceof Tensor && t.internal ? output.holdAlias(t) as T : t;
}
const ownAll = (output: Tensor, saved: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(saved).map(([k, v]) => [k, own(output, v)]));

// ---- order ---------------------------------------------------------------------------------------------------------

/**
 * The non-leaf tensors reachable from `roots`, each listed after every tensor it was computed from (depth-first
 * post-order). Iterative, with an explicit stack, so a graph thousands of ops deep does not overflow the call stack.
 */
export function topologicalOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // each stack entry: a tensor and the index of the next input of its node to visit
  const stack: { t: Tensor; next: number }[] = [];
  const push = (t: Tensor) => {
    if (nodeOf(t) && !visited.has(t)) { visited.add(t); stack.push({ t, next: 0 }); }
  };
  for (const root of roots) {
    push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = nodeOf(top.t)!.inputs;
      if (top.next < inputs.length) {
        const input = inputs[top.next++];
        if (input.requiresGrad) push(input);
      } else {
        stack.pop();
        order.push(top.t);
      }
    }
  }
  return order;
}
