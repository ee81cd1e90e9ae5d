/**
 * Small expressions in gpugrad's own API (`x.mul(y).relu().sum()`), evaluated on named tensors, for the pictures of
 * autograd: `gpugrad graph`, the playground page's first tab and the figures of docs/autograd.md all come through here.
 * Browser-safe (no Node built-ins): it only uses the public API.
 *
 * An expression is JavaScript, evaluated like `node -e` or a browser console does: it is the reader's own code on the
 * reader's own machine. Its free names are the variables (each a leaf tensor that requires a gradient) and `gg`, the
 * library.
 */
import * as gg from '../index.js';
import type { Tensor } from '../index.js';
import type { VariablesText } from './examples.js';

const NAME = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(['gg', 'this', 'new', 'return', 'var', 'let', 'const', 'function', 'class']);

function fail(what: string): never {
  throw new gg.GpugradError(`expression: ${what}`);
}

/** Like tidy, and on an error it also disposes what `fn` made before failing (tidy leaves that to the caller). */
function scoped<T>(fn: () => T): T {
  const scope = gg.startScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    gg.endScope(scope); // a failed expression leaves no tensor behind
    throw e;
  }
  gg.endScope(scope, result);
  return result;
}

/** Parses `VariablesText` into names and nested number arrays (or numbers, for scalars). */
export function parseVariables(text: VariablesText): Map<string, gg.NestedArray | number> {
  const out = new Map<string, gg.NestedArray | number>();
  for (const raw of text.split(/[\n;]/)) {
    const line = raw.trim();
    if (!line || line.startsWith('//')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) fail(`'${line}' is not a variable: write name = [numbers], e.g. x = [1, -2, 3]`);
    const name = line.slice(0, eq).trim();
    if (!NAME.test(name) || RESERVED.has(name)) fail(`'${name}' cannot name a variable: use letters, digits and _ (not gg)`);
    let value: unknown;
    try {
      value = JSON.parse(line.slice(eq + 1).trim());
    } catch {
      fail(`the value of ${name} is not a number or a nested array of numbers: '${line.slice(eq + 1).trim()}'`);
    }
    const numeric = (v: unknown): boolean => typeof v === 'number' || (Array.isArray(v) && v.length > 0 && v.every(numeric));
    if (!numeric(value)) fail(`the value of ${name} must be a number or a nested array of numbers, got '${line.slice(eq + 1).trim()}'`);
    out.set(name, value as gg.NestedArray | number);
  }
  return out;
}

/** What one evaluation made: the result, its leaves by name, and every tensor to dispose with it. */
export interface Evaluated {
  root: Tensor;
  inputs: Map<string, Tensor>;
  /** the non-leaf tensors, in the order backward visits them (the result first) */
  backwardOrder: Tensor[];
  /** every tensor of the graph, the leaves included */
  tensors: ReadonlySet<Tensor>;
  dispose(): void;
}

/**
 * Evaluates `expression` on leaf tensors made from `variables` (float32, requiring gradients, named after their
 * variable). Errors — a syntax error, an unknown name, a shape mismatch — come back as a GpugradError that quotes the
 * expression.
 */
export function evaluate(expression: string, variables: VariablesText, device?: gg.DeviceName): Evaluated {
  const values = parseVariables(variables);
  const names = [...values.keys()];
  let fn: (...args: unknown[]) => unknown;
  try {
    // the reader's own expression, run as their browser console or `node -e` would run it
    fn = new Function('gg', ...names, `"use strict"; return (${expression});`) as typeof fn;
  } catch (e) {
    fail(`'${expression}' is not valid JavaScript: ${(e as Error).message}`);
  }
  const made = scoped(() => {
    const inputs = new Map<string, Tensor>();
    for (const [name, v] of values) {
      const t = gg.tensor(v as gg.NestedArray, { requiresGrad: true, ...(device ? { device } : {}) });
      t.name = name;
      inputs.set(name, t);
    }
    let root: unknown;
    try {
      root = fn(gg, ...inputs.values());
    } catch (e) {
      const msg = (e as Error).message;
      fail(e instanceof ReferenceError ? `${msg} in '${expression}'; the variables are ${names.join(', ') || '(none)'} and gg` : `${msg} (in '${expression}')`);
    }
    if (!(root instanceof gg.Tensor)) fail(`'${expression}' gives ${typeof root}, not a tensor`);
    if (!root.requiresGrad) fail(`'${expression}' does not depend on any variable, so it has no graph`);
    // everything the picture reads must outlive the scope, the constants an op made (x.mul(3)'s 3) included
    return { root, inputs, order: gg.topologicalOrder([root]), graph: [...graphTensors(root)] };
  });
  const tensors = new Set<Tensor>([...made.graph, ...made.inputs.values()]);
  return {
    root: made.root,
    inputs: made.inputs,
    backwardOrder: made.order.reverse(),
    tensors,
    dispose() { for (const t of tensors) { t.grad?.dispose(); t.dispose(); } },
  };
}

/** Checks that `root` is one number, which `backward()` needs; the message says how to get one. */
export function checkScalar(root: Tensor, expression: string): void {
  if (root.size !== 1) fail(`'${expression}' gives shape [${root.shape.join(', ')}]; backward needs one number: end it with .sum() or .mean()`);
}

/** Runs backward from the result, keeping the gradient of every intermediate (so the picture can show each one). */
export function backwardAll(e: Evaluated, expression: string): void {
  checkScalar(e.root, expression);
  for (const t of e.backwardOrder) t.retainGrad();
  e.root.backward(undefined, { retainGraph: true });
}

/** H·v's graph: ∇L with a graph of its own (createGraph), dotted with v; differentiating it once more gives H·v. */
export interface HvpGraph {
  /** ∇L·v, a scalar whose graph holds the forward graph and the recorded backward (drawn in orange) */
  dot: Tensor;
  /** H·v per variable */
  hv: Map<string, Tensor>;
  dispose(): void;
}

/** H·v with v = 1 in every variable (the vector of the docs' example; a reader checks it by hand). */
export function hvpGraph(e: Evaluated, expression: string): HvpGraph {
  checkScalar(e.root, expression);
  const params = [...e.inputs.values()];
  const made = scoped(() => {
    const g = gg.grad(e.root, params, { createGraph: true, allowUnused: true }); // retains the forward graph
    const dot = g.map((gi, i) => {
      const v = gg.onesLike(params[i]);
      v.name = 'v';
      return gi.mul(v).sum();
    }).reduce((a, b) => a.add(b));
    dot.name = '∇L·v';
    const hv = gg.grad(dot, params, { allowUnused: true, retainGraph: true });
    return { dot, hv, graph: [...graphTensors(dot)] };
  });
  const mine = [...made.graph, ...made.hv].filter((t) => !e.tensors.has(t));
  return {
    dot: made.dot,
    hv: new Map([...e.inputs.keys()].map((k, i) => [k, made.hv[i]])),
    dispose() { for (const t of mine) t.dispose(); },
  };
}

/** Every tensor of the graph that computed `root`: its ops' outputs and all their inputs. */
function graphTensors(root: Tensor): Set<Tensor> {
  const all = new Set<Tensor>([root]);
  for (const t of gg.topologicalOrder([root])) { all.add(t); for (const i of t.gradFn!.inputs) all.add(i); }
  return all;
}
