/**
 * The graph as a picture: `await toSvg(loss, { values: true, grads: true })` lays out toDot's text with Graphviz
 * compiled to WebAssembly (@viz-js/viz), the same in Node and in a browser — no Graphviz to install. The wasm build
 * is ~1.2 MB of JavaScript, so it is imported on the first call only: importing gpugrad never loads it.
 *
 * Why @viz-js/viz rather than @hpcc-js/wasm-graphviz (both ship Graphviz 16 as wasm inlined in one ES module): MIT
 * like gpugrad, 470 KB gzipped against 630 KB (the page downloads it), and its `render` returns Graphviz's errors as
 * data instead of printing them, so a bad graph becomes a GpugradError that says what Graphviz said.
 */
import { GpugradError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type DotOptions, toDot } from './dot.js';

interface Viz {
  render(dot: string, options: { format: string }): { status: string; output?: string; errors: { message: string }[] };
}

let viz: Promise<Viz> | undefined;

function graphviz(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then((m) => m.instance() as Promise<Viz>, (e: Error) => {
    viz = undefined;
    throw new GpugradError(`toSvg: could not load Graphviz (the @viz-js/viz package): ${e.message}; install it with ` +
      '`npm install @viz-js/viz`, or use toDot and render the text with `dot -Tsvg`');
  });
  return viz;
}

/** DOT text → SVG text (the SVG document, without the XML prolog, ready to write to a file or put in a page). */
export async function dotToSvg(dot: string): Promise<string> {
  const r = (await graphviz()).render(dot, { format: 'svg' });
  if (r.status !== 'success' || r.output === undefined) {
    throw new GpugradError(`toSvg: Graphviz could not lay out the graph: ${r.errors.map((e) => e.message.trim()).join('; ')}`);
  }
  // the prolog and doctype are for standalone files from the dot command; an <svg> element is valid on its own
  return r.output.replace(/^<\?xml[^>]*>\s*<!DOCTYPE[^>]*>\s*(<!--[\s\S]*?-->\s*)*/, '');
}

/** The graph that computed `root` as SVG text (see DotOptions for what each box shows). */
export async function toSvg(root: Tensor, options: DotOptions = {}): Promise<string> {
  return dotToSvg(await toDot(root, options));
}
