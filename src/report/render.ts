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
import { FONT_FAMILY, figureSpec } from './figure-spec.js';

const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/TTF', '/usr/share/fonts/dejavu', '/Library/Fonts', 'C:\\Windows\\Fonts'];

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
  const spec = figureSpec(figure, subtitle) as unknown as TopLevelSpec;
  // Vega-Lite's warnings (e.g. a scale merged across panels) go to stderr only when debugging.
  const logger = vega.logger(process.env.GPUGRAD_DEBUG ? vega.Warn : vega.Error);
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
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
