/**
 * The graph printer, for teaching: `await toDot(loss)` gives Graphviz DOT text (render with `dot -Tsvg`). Tensors are
 * boxes (name, shape, dtype, optionally values and gradients); ops are ellipses between their inputs and output.
 */
import { check } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { type Node, nodeOf, topologicalOrder } from './graph.js';

export interface DotOptions {
  /** show the (first few) values of each tensor (reads them back from the device) */
  values?: boolean;
  /** show the (first few) elements of each tensor's `.grad` */
  grads?: boolean;
  /** how many elements to show per tensor (default 4) */
  maxElements?: number;
}

const escape = (s: string) => s.replace(/([{}|<>"\\])/g, '\\$1');

async function preview(t: Tensor, n: number): Promise<string> {
  if (t.isDisposed) return '(disposed)';
  const v = Array.from(await t.data()).slice(0, n).map((x) => Number(x.toPrecision(4)));
  return `[${v.join(', ')}${t.size > n ? ', …' : ''}]`;
}

/** Graphviz DOT text for the graph that computed `root`. */
export async function toDot(root: Tensor, options: DotOptions = {}): Promise<string> {
  check(root instanceof Tensor, 'toDot', () => `needs a Tensor, got ${root === null ? 'null' : typeof root}`);
  const n = options.maxElements ?? 4;
  const order = topologicalOrder([root]);
  const tensors = new Set<Tensor>();
  for (const t of order) { for (const i of nodeOf(t)!.inputs) tensors.add(i); tensors.add(t); }
  tensors.add(root);

  const lines = ['digraph autograd {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const t of tensors) {
    const fields = [`${t.name ?? (t.isLeaf ? (t.requiresGrad ? 'leaf' : 'const') : nodeOf(t)!.op)} #${t.id}`,
      `[${t.shape.join(',')}] ${t.dtype}`];
    if (options.values) fields.push(`data ${await preview(t, n)}`);
    if (options.grads && t.grad) fields.push(`grad ${await preview(t.grad, n)}`);
    const style = t.requiresGrad ? '' : ', style=dashed';
    lines.push(`  t${t.id} [shape=record, label="{${fields.map(escape).join('|')}}"${style}];`);
  }
  for (const t of order) {
    const node: Node = nodeOf(t)!;
    lines.push(`  op${node.id} [shape=ellipse, label="${escape(node.op)}"];`);
    node.inputs.forEach((input) => lines.push(`  t${input.id} -> op${node.id};`));
    lines.push(`  op${node.id} -> t${t.id};`);
  }
  lines.push('}');
  return lines.join('\n');
}
