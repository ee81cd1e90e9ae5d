/**
 * One picture of an expression's graph, start to finish: evaluate, optionally run backward or build H·v's graph,
 * render, release every tensor. `gpugrad graph` and scripts/docs-figures.mjs both draw through it.
 */
import { type DeviceName, GpugradError, toDot, toSvg } from '../index.js';
import { backwardAll, evaluate, hvpGraph } from './expression.js';
import type { VariablesText } from './examples.js';

export interface DrawOptions {
  /** the forward graph with values; after backward with every gradient; or the graph of ∇L·v (H·v) */
  mode?: 'forward' | 'backward' | 'hvp';
  format?: 'svg' | 'dot';
  device?: DeviceName;
  title?: string;
  /** see DotOptions.stableIds: for figures that are committed */
  stableIds?: boolean;
}

/** The graph of `expression` on `variables` as SVG (or DOT) text. */
export async function drawExpression(expression: string, variables: VariablesText, o: DrawOptions = {}): Promise<string> {
  const e = evaluate(expression, variables, o.device);
  let hvp: ReturnType<typeof hvpGraph> | undefined;
  try {
    if (o.mode === 'backward') backwardAll(e, expression);
    if (o.mode === 'hvp') hvp = hvpGraph(e, expression);
    const root = hvp?.dot ?? e.root;
    const options = { values: true, grads: o.mode === 'backward', title: o.title, stableIds: o.stableIds };
    return o.format === 'dot' ? await toDot(root, options) : await toSvg(root, options);
  } catch (err) {
    if (err instanceof GpugradError) throw err;
    throw new GpugradError(`graph: ${(err as Error).message}`);
  } finally {
    hvp?.dispose();
    e.dispose();
  }
}
