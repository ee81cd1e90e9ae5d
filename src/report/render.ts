/**
 * Figures, headless: a Vega-Lite spec is compiled to Vega, rendered by a Vega View with no renderer to SVG text, and
 * rasterised to PNG by resvg (Rust, shipped in npm). resvg draws text only with fonts it has: we hand it DejaVu Sans
 * when the system has it (Debian's fonts-dejavu-core), else the system's fonts, and say so once if none are found.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Figure } from '../run/types.js';

const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/TTF', '/usr/share/fonts/dejavu', '/Library/Fonts', 'C:\\Windows\\Fonts'];
const FONT_FAMILY = 'DejaVu Sans';

/** The font files resvg gets: DejaVu Sans (regular and bold) where it exists. */
export function fontFiles(): string[] {
  for (const dir of FONT_DIRS) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir).filter((f) => /^DejaVuSans(-Bold)?\.ttf$/.test(f)).map((f) => join(dir, f));
    if (files.length) return files;
  }
  return [];
}

let warned = false;

/** Vega-Lite → SVG text. The definition label and the preset go into the subtitle. */
export async function toSvg(figure: Figure, subtitle: string[] = []): Promise<string> {
  const spec = {
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
  } as unknown as TopLevelSpec;
  // Vega-Lite's warnings (e.g. a scale merged across panels) go to stderr only when debugging.
  const logger = vega.logger(process.env.GPUGRAD_DEBUG ? vega.Warn : vega.Error);
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
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

/** SVG text → PNG bytes at `scale`× the SVG's size, white background. */
export function toPng(svg: string, scale = 2): Uint8Array {
  const files = fontFiles();
  if (!files.length && !warned) {
    warned = true;
    process.stderr.write('gpugrad: no DejaVu Sans font found; PNG text uses the system fonts (install fonts-dejavu-core if text is missing)\n');
  }
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: files.length
      ? { loadSystemFonts: false, fontFiles: files, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY }
      : { loadSystemFonts: true },
  });
  return r.render().asPng();
}
