/**
 * The browser entry in a real browser: headless Chromium with WebGPU (SwiftShader without a GPU) loads the esbuild
 * bundle of browser-checks.ts, which imports the library through src/browser.ts, and runs each kernel family against
 * the CPU reference, an HVP check and a few training steps there. One uvu test per check the page announced; a check
 * that never reported (the page died or timed out) fails. Then the README's HTML example, as printed, loads the
 * unbundled ES modules of dist/src through its import map. Without Chromium the file skips, except in CI (see
 * chromiumOrSkip), where it fails.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTML, bundleForBrowser, chromiumOrSkip, openPage, runPageChecks } from './browser.js';

const dist = process.env.GPUGRAD_DIST ?? 'dist';
const chromium = chromiumOrSkip();

if (!chromium) {
  test('browser checks skipped: no Chromium here (apt-get install chromium, or set GPUGRAD_CHROMIUM)', () => {});
} else {
  const started = Date.now();
  const run = await runPageChecks(chromium, await bundleForBrowser(join(dist, 'test/browser-checks.js')));
  const log = () => (run.log.length ? `\npage log:\n${run.log.slice(-30).join('\n')}` : '');
  test('the page loaded the browser bundle and ran every check to the end', () => {
    assert.ok(run.plan.length > 0, `the page announced no checks${log()}`);
    assert.ok(run.done, `the page did not finish within the time limit (${run.results.size}/${run.plan.length} reported)${log()}`);
    process.stdout.write(`  (browser checks: ${((Date.now() - started) / 1000).toFixed(1)} s including Chromium's start)\n`);
  });
  for (const name of run.plan) {
    test(name, () => {
      const r = run.results.get(name);
      assert.ok(r, `no result: the page stopped before this check${log()}`);
      if (!r.ok) assert.unreachable(`${r.message}${log()}`);
      if (r.message) process.stdout.write(`  (${name}: ${r.message}, ${r.ms.toFixed(0)} ms)\n`);
    });
  }

  test("the README's HTML page runs as printed, importing the package's unbundled modules", async () => {
    const html = /```html\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))?.[1];
    assert.ok(html, 'README has a ```html example');
    assert.match(html, '/node_modules/gpugrad/dist/src/browser.js');
    // served as a user's static server would: the page at the project root, the package under node_modules/
    const s = await openPage(chromium, { routes: { '/': { type: HTML, body: html } }, folders: { '/node_modules/gpugrad/dist/': dist } });
    try {
      await s.page.waitForFunction(() => /: -?\d/.test(document.body?.textContent ?? ''), { timeout: 60_000 })
        .catch((e: Error) => assert.unreachable(`the page did not print its result (${e.message})\n${s.log.join('\n')}`));
      const text = await s.page.evaluate(() => document.body.textContent ?? '');
      assert.match(text, /^WebGPU: .+: -?\d+(\.\d+)?(e[-+]\d+)?$/, text);
    } finally {
      await s.close();
    }
  });
}

test.run();
