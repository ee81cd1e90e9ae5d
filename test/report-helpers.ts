/** Checks shared by the report and experiment tests: a PNG's header and size, an SVG that parses, and its text. */
import * as assert from 'uvu/assert';
import { Resvg } from '@resvg/resvg-js';

/** Checks the PNG signature and reads the IHDR width and height. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.equal(Array.from(png.subarray(0, 8)), sig, 'PNG signature');
  assert.is(new TextDecoder().decode(png.subarray(12, 16)), 'IHDR');
  const dv = new DataView(png.buffer, png.byteOffset);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** Parses an SVG (resvg rejects malformed XML) and returns the text of its <text> elements. */
export function svgText(svg: string): string {
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(new Resvg(svg).width > 0, 'resvg parses it');
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, ' ')).join(' | ');
}
