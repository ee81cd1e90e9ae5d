/**
 * A figure's complete Vega-Lite specification: its chart plus the title, subtitle and house style every figure of
 * the reports shares. Browser-safe (no Node built-in), so the playground page draws its charts from the very same
 * specification the reports render to SVG and PNG in render.ts.
 */
import type { Figure } from '../run/types.js';

export const FONT_FAMILY = 'DejaVu Sans';

/** The figure's spec with the definition label and `subtitle` lines under its title. */
export function figureSpec(figure: Figure, subtitle: string[] = []): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    ...figure.spec,
    title: { text: figure.title, subtitle: [...wrap(`definition: ${figure.definition}`, 95), ...subtitle], anchor: 'start', subtitleColor: '#555' },
    config: {
      font: `${FONT_FAMILY}, sans-serif`,
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
      title: { fontSize: 15, subtitleFontSize: 11 },
      ...(figure.spec.config as object | undefined),
    },
  };
}

/** Breaks a long line at spaces so subtitles do not widen the figure. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur && cur.length + 1 + word.length > width) { lines.push(cur); cur = word; } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}
