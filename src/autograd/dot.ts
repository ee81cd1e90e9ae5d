/**
 * The graph printer, for teaching: `await toDot(loss)` gives Graphviz DOT text (`toSvg` in svg.ts lays it out as a
 * picture). Tensors are boxes (name, shape, dtype, optionally values and gradients); ops are ellipses between their
 * inputs and output. Ops recorded by a backward pass that was itself recording (`createGraph`: the graph of a
 * gradient, which a second backward differentiates for H·v) are drawn in orange, so first and second order can be
 * told apart at a glance.
 *
 * Every node carries an SVG id (`t<tensor id>`, `op<node id>`) and classes (`tensor`, `leaf`, `root`, `op`,
 * `order1`, …), so a page can find a tensor's box in the rendered picture and animate it.
 */
import { check } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { type Node, nodeOf, topologicalOrder } from './graph.js';

export interface DotOptions {
  /** show the (first few) values of each tensor (reads them back from the device) */
  values?: boolean;
  /** show the (first few) elements of each tensor's `.grad` (leaves, and tensors that called `retainGrad()`) */
  grads?: boolean;
  /** how many elements to show per tensor (default 4) */
  maxElements?: number;
  /** a title drawn above the graph */
  title?: string;
  /** left to right (default: reads like the code) or top to bottom (fits a narrow window) */
  direction?: 'LR' | 'TB';
  /**
   * number boxes and ops by their place in this graph instead of by the tensors' ids, and leave the ids out of the
   * labels: the same computation then gives the same text in any process, whatever the library made before it
   * (for committed figures)
   */
  stableIds?: boolean;
}

/** Colours: leaves that learn in blue, the result in green, higher-order (createGraph) ops and tensors in orange. */
const FILL = { leaf: '#dbeafe', root: '#dcfce7', plain: '#ffffff', op: '#f1f5f9', higher: '#fed7aa' };

const escapeRecord = (s: string) => s.replace(/([{}|<>"\\])/g, '\\$1');
const escapeString = (s: string) => s.replace(/(["\\])/g, '\\$1');
/** A record's fields stack along the rank direction's cross axis: braces turn them back into a column for TB. */
const record = (fields: string, tb: boolean) => (tb ? `{${fields}}` : fields);

async function preview(t: Tensor, n: number): Promise<string> {
  if (t.isDisposed) return '(disposed)';
  const v = Array.from(await t.data()).slice(0, n).map((x) => Number(x.toPrecision(4)));
  return `[${v.join(', ')}${t.size > n ? ', …' : ''}]`;
}

/** The derivative order of the op that made `t` (0 for leaves and the forward pass). */
const orderOf = (t: Tensor) => nodeOf(t)?.order ?? 0;

/** Graphviz DOT text for the graph that computed `root`. */
export async function toDot(root: Tensor, options: DotOptions = {}): Promise<string> {
  check(root instanceof Tensor, 'toDot', () => `needs a Tensor, got ${root === null ? 'null' : typeof root}`);
  const n = options.maxElements ?? 4;
  const order = topologicalOrder([root]);
  const tensors = new Set<Tensor>();
  for (const t of order) { for (const i of nodeOf(t)!.inputs) tensors.add(i); tensors.add(t); }
  tensors.add(root);
  const higher = order.some((t) => orderOf(t) > 0);

  const tb = options.direction === 'TB';
  const lines = ['digraph autograd {', `  rankdir=${tb ? 'TB' : 'LR'}; bgcolor="transparent"; nodesep=0.25; ranksep=0.35;`,
    '  node [fontname="Helvetica", fontsize=10, penwidth=1.2, color="#475569"];', '  edge [color="#64748b", arrowsize=0.7];'];
  const caption = [options.title, higher ? 'orange: recorded by a backward pass with createGraph (a gradient\'s own graph)' : undefined]
    .filter((c): c is string => !!c).map((c) => `${escapeString(c)}\\l`).join(''); // \l ends a left-aligned line
  if (caption) lines.push(`  labelloc=t; labeljust=l; fontname="Helvetica"; fontsize=11; label="${caption}";`);
  const tensorKey = new Map([...tensors].map((t, i) => [t, options.stableIds ? i + 1 : t.id]));
  const opKey = new Map(order.map((t, i) => [nodeOf(t)!, options.stableIds ? i + 1 : nodeOf(t)!.id]));
  for (const t of tensors) {
    const node = nodeOf(t);
    const name = `${t.name ?? (node ? node.op : t.requiresGrad ? 'leaf' : 'const')}${options.stableIds ? '' : ` #${t.id}`}`;
    const fields = [name, `[${t.shape.join(',')}] ${t.dtype}`];
    if (options.values) fields.push(`data ${await preview(t, n)}`);
    if (options.grads && t.grad) fields.push(`grad ${await preview(t.grad, n)}`);
    const kind = t === root ? 'root' : !node ? (t.requiresGrad ? 'leaf' : 'const') : 'inner';
    const fill = orderOf(t) > 0 ? FILL.higher : kind === 'root' ? FILL.root : kind === 'leaf' ? FILL.leaf : FILL.plain;
    const style = t.requiresGrad ? 'filled' : 'filled,dashed';
    const id = `t${tensorKey.get(t)}`;
    lines.push(`  ${id} [id="${id}", class="tensor ${kind} order${orderOf(t)}", shape=record, style="${style}", ` +
      `fillcolor="${fill}"${t === root ? ', penwidth=2' : ''}, label="${record(fields.map(escapeRecord).join('|'), tb)}"];`);
  }
  for (const t of order) {
    const node: Node = nodeOf(t)!;
    const fill = node.order > 0 ? FILL.higher : FILL.op;
    const op = `op${opKey.get(node)}`;
    lines.push(`  ${op} [id="${op}", class="op order${node.order}", shape=ellipse, style=filled, ` +
      `fillcolor="${fill}", label="${escapeString(node.op)}"];`);
    node.inputs.forEach((input) => lines.push(`  t${tensorKey.get(input)} -> ${op};`));
    lines.push(`  ${op} -> t${tensorKey.get(t)};`);
  }
  lines.push('}');
  return lines.join('\n');
}
