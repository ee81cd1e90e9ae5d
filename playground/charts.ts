/**
 * Draws a report figure in the page: the same complete Vega-Lite specification the reports render to SVG
 * (src/report/figure-spec.ts), compiled and rendered here by Vega into an <svg>.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Figure } from '../src/run/types.js';
import { figureSpec } from '../src/report/figure-spec.js';

const views = new WeakMap<HTMLElement, vega.View>();

/** Replaces what `el` shows with `figure`. */
export async function drawFigure(el: HTMLElement, figure: Figure, subtitle: string[] = []): Promise<void> {
  const spec = figureSpec(figure, subtitle) as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'svg', container: el, hover: false, logLevel: vega.Error });
  views.get(el)?.finalize();
  views.set(el, view);
  await view.runAsync();
}
