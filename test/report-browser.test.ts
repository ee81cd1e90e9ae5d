/**
 * The reports in a real browser: a fit-functions and a mnist-cnns run (test preset, CPU device: the page is what is
 * checked, not the numbers) are written and screenshotted by headless Chromium at 1280 px, and their text checked for
 * what made the old pages hard to read: exponent notation, numbers that can break across lines, "seed report"
 * jargon, a path outside the repository, contradicting rankings. Skipped (with a line saying so) without Chromium;
 * GPUGRAD_CHROMIUM names another binary. The screenshots stay in $GPUGRAD_SCREENSHOTS when set, to be looked at.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/cli/run.js';
import { loadExperiment } from '../src/experiments/index.js';
import { writeRunReport } from '../src/report/run-report.js';
import { pngSize } from './report-helpers.js';

const chromium = process.env.GPUGRAD_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
const root = mkdtempSync(join(tmpdir(), 'gpugrad-browser-'));

function screenshot(html: string, png: string): Uint8Array {
  const r = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1280,2000',
    `--screenshot=${png}`, `file://${html}`], { encoding: 'utf8', timeout: 120_000 });
  assert.ok(existsSync(png), `chromium wrote no screenshot: ${r.stderr}`);
  return readFileSync(png);
}

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
    if (!chromium) { console.log(`  (no Chromium: ${name}'s page not screenshotted)`); return; }
    const png = screenshot(join(out, 'report.html'), join(out, 'page.png'));
    const { width, height } = pngSize(png);
    assert.is(width, 1280);
    assert.is(height, 2000);
    assert.ok(png.length > 50_000, `a page with figures and text, not a blank one (${png.length} bytes)`);
    if (process.env.GPUGRAD_SCREENSHOTS) {
      mkdirSync(process.env.GPUGRAD_SCREENSHOTS, { recursive: true });
      copyFileSync(join(out, 'page.png'), join(process.env.GPUGRAD_SCREENSHOTS, `${name}.png`));
    }
  });
}

test.run();
