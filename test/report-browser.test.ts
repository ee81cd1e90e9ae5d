/**
 * The reports in a real browser: a fit-functions and a mnist-cnns run (test preset, CPU device: the page is what is
 * checked, not the numbers) are written, their text checked for what made the old pages hard to read (exponent
 * notation, numbers that can break across lines, "seed report" jargon, a path outside the repository, contradicting
 * rankings), then laid out by headless Chromium (the browser harness of browser.ts) at 1280 px: no number is broken
 * across lines, figures are drawn at a readable width, and a full-page screenshot is taken. Without Chromium the
 * browser half skips (fails in CI, see chromiumOrSkip). The screenshots stay in $GPUGRAD_SCREENSHOTS when set.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/cli/run.js';
import { loadExperiment } from '../src/experiments/index.js';
import { writeRunReport } from '../src/report/run-report.js';
import { chromiumOrSkip, openPage } from './browser.js';
import { pngSize } from './report-helpers.js';

const chromium = chromiumOrSkip();
const root = mkdtempSync(join(tmpdir(), 'gpugrad-browser-'));

/** The page's visible text (tags dropped, entities for the characters we use decoded). */
const visible = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

for (const name of ['fit-functions', 'mnist-cnns']) {
  test(`${name}: the report renders in Chromium at 1280 px and reads without jargon or breakable numbers`, async () => {
    const out = join(root, name);
    process.env.GPUGRAD_DEVICE = 'cpu';
    const e = await loadExperiment(name as 'fit-functions');
    await runExperiment(e, { seed: 0, runsDir: root, out, resume: false, preset: 'test' }, 'CPU (test)');
    await writeRunReport(out, e);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const text = visible(html);
    assert.not.match(text, /\d\.\d+e[+-]\d/, 'no exponent notation');
    assert.not.match(text, /seed report|seed variant|\.\.\/shared|PROTOCOL\.md/, 'no insider words or paths outside the repo');
    assert.match(text, /docs\/protocol\.md/);
    assert.is(text.match(/“The original homework report” is/g)?.length, 1, 'the original report explained once');
    // every number with an exponent, a digit group or a percent sign sits in a no-wrap span
    const outside = html.replace(/<span class="n">[^<]*<\/span>/g, ' ');
    assert.ok(outside.length < html.length, 'some numbers are wrapped');
    for (const m of outside.matchAll(/>([^<]*)</g)) {
      assert.not.match(m[1], /\d\u00a0×\u00a010|\d\u202f\d|\d\u00a0%|\d ×/, `unwrapped number in "${m[1]}"`);
    }
    assert.match(html, /\.n\{white-space:nowrap\}/);
    if (name === 'fit-functions') {
      // what the run showed comes from the run; the original's ranking is labelled as the original's
      assert.match(text, /What this run showed \(test preset\)/);
      assert.match(text, /by its own final losses its ranking was f1: deep < medium < shallow/);
      assert.not.match(text, /By loss the ranking is/);
    }
    if (!chromium) { console.log(`  (no Chromium: ${name}'s page not laid out)`); return; }
    const s = await openPage(chromium, { folders: { '/': out } }, { path: '/report.html', before: (page) => page.setViewport({ width: 1280, height: 900 }) });
    try {
      await s.page.evaluate(() => Promise.all([...document.images].map((i) => (i.complete ? null : new Promise((r) => { i.onload = i.onerror = r; })))));
      const layout = await s.page.evaluate(() => ({
        // a number span drawn on more than one line box is a number broken across lines
        broken: [...document.querySelectorAll('span.n')].filter((e) => e.getClientRects().length > 1).map((e) => e.textContent),
        numbers: document.querySelectorAll('span.n').length,
        figures: [...document.querySelectorAll('figure img')].map((i) => (i as HTMLImageElement).getBoundingClientRect().width),
        unloaded: [...document.images].filter((i) => !i.naturalWidth).map((i) => i.src),
        overflow: document.documentElement.scrollWidth > window.innerWidth,
      }));
      assert.ok(layout.numbers > 0, 'numbers are marked');
      assert.equal(layout.unloaded, [], 'every figure loads');
      assert.equal(layout.broken, [], 'no number broken across lines');
      assert.ok(layout.figures.length >= 2 && layout.figures.every((w) => w >= 700), `figures at a readable width: ${layout.figures}`);
      assert.not.ok(layout.overflow, 'nothing wider than the window');
      const png = await s.page.screenshot({ fullPage: true }) as Uint8Array;
      const { width } = pngSize(png);
      assert.ok(width > 1250 && width <= 1280, `1280 px less the scrollbar: ${width}`);
      if (process.env.GPUGRAD_SCREENSHOTS) {
        mkdirSync(process.env.GPUGRAD_SCREENSHOTS, { recursive: true });
        writeFileSync(join(process.env.GPUGRAD_SCREENSHOTS, `${name}.png`), png);
      }
    } finally {
      await s.close();
    }
  });
}

test.run();
