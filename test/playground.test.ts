/**
 * The playground page in a real browser (headless Chromium, WebGPU on SwiftShader without a GPU), driven as a reader
 * would: it loads with no console error; an expression's graph has the expected boxes and ops; backward fills the
 * expected gradients; H·v draws the recorded backward; a few fitting steps lower the loss; the benchmark reports
 * GFLOP/s and the adapter. Screenshots at 1280×800 and at 390 px wide go to $GPUGRAD_SCREENSHOTS (default
 * dist/screenshots) to be looked at; at both widths the page must not scroll sideways. Also `gpugrad serve` itself.
 * Without Chromium the browser part skips, except in CI (see chromiumOrSkip).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type BrowserSession, chromiumOrSkip, openPage } from './browser.js';
import { benchmark, drawExpression, openTab, playgroundSite, pressBackward, pressHvp, train, waitReady } from './playground-driver.js';

const dist = process.env.GPUGRAD_DIST ?? 'dist';
const shots = process.env.GPUGRAD_SCREENSHOTS ?? join(dist, 'screenshots');
const chromium = chromiumOrSkip();

/** The text of the boxes of the graph in `selector`, by tensor box id. */
const boxes = (page: Page, selector: string) => page.$$eval(`${selector} g.node.tensor`, (gs) =>
  Object.fromEntries(gs.map((g) => [g.id, [...g.querySelectorAll('text')].map((t) => t.textContent).join(' | ')])));
const errorsIn = (log: string[]) => log.filter((l) => l.startsWith('console.error') || l.startsWith('page error'));
const noSidewaysScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, `${name}.png`), await page.screenshot({ fullPage }));
}

if (!chromium) {
  test('playground browser tests skipped: no Chromium here (apt-get install chromium, or set GPUGRAD_CHROMIUM)', () => {});
} else {
  const site = playgroundSite(join(dist, 'playground'));
  let session: BrowserSession;
  const page = () => session.page;

  test.before(async () => {
    session = await openPage(chromium, site, { before: (p) => p.setViewport({ width: 1280, height: 800 }) });
  });
  test.after(async () => { await session?.close(); });

  test('the page loads, names its WebGPU adapter and draws the first graph, with no console error', async () => {
    await waitReady(page());
    const device = await page().$eval('#device', (el) => `${(el as HTMLElement).dataset.state}: ${el.textContent}`);
    assert.match(device, /^webgpu: Running on WebGPU: .*swiftshader/i);
    assert.equal(errorsIn(session.log), [], session.log.join('\n'));
  });

  test("an expression's graph has a box per tensor and an ellipse per op", async () => {
    await drawExpression(page(), 'x.mul(y).relu().sum()', 'x = [1, -2, 3]\ny = [0.5, 2, -1]');
    const b = Object.values(await boxes(page(), '#graph'));
    assert.is(b.length, 5, b.join('\n'));
    for (const expected of [/^x #\d+ \| \[3\] float32 \| data \[1, -2, 3\]$/, /^y #\d+ \| \[3\] float32 \| data \[0\.5, 2, -1\]$/,
      /^mul #\d+ \| \[3\] float32 \| data \[0\.5, -4, -3\]$/, /^relu #\d+ \| \[3\] float32 \| data \[0\.5, 0, 0\]$/,
      /^sum #\d+ \| \[\] float32 \| data \[0\.5\]$/]) {
      assert.ok(b.some((text) => expected.test(text)), `no box matching ${expected} in\n${b.join('\n')}`);
    }
    const ops = await page().$$eval('#graph g.node.op text', (ts) => ts.map((t) => t.textContent).sort());
    assert.equal(ops, ['mul', 'relu', 'sum']);
  });

  test('backward fills every gradient, node by node, with the expected values', async () => {
    // halfway through, some gradients are still hidden: they appear one by one
    await page().click('#backward');
    await page().waitForFunction(() => document.querySelector<HTMLElement>('#graph')!.dataset.filled === '2');
    assert.ok(await page().$$eval('#graph g.node.pending', (gs) => gs.length) > 0, 'the later gradients wait their turn');
    await page().waitForSelector('#graph[data-state="backward-done"]');
    assert.is(await page().$$eval('#graph g.node.pending', (gs) => gs.length), 0);
    const grads = Object.values(await boxes(page(), '#graph')).map((t) => `${t.split(' #')[0]} ${/grad (\[.*\])/.exec(t)?.[1]}`).sort();
    assert.equal(grads, ['mul [1, 0, 0]', 'relu [1, 1, 1]', 'sum [1]', 'x [0.5, 0, 0]', 'y [1, 0, 0]']);
    assert.is(await page().$eval('#leaf-grads', (el) => el.textContent), 'x.grad = [0.5, 0, 0]y.grad = [1, 0, 0]');
    await screenshot(page(), 'graph-backward-1280');
  });

  test("H·v: the second graph highlights the recorded backward, and H·v's values are right", async () => {
    await drawExpression(page(), 'p.pow(3).sum()', 'p = [1, -2, 0.5]');
    await pressBackward(page());
    await pressHvp(page());
    assert.ok(await page().$$eval('#hvp-graph g.node.op.order1', (gs) => gs.length) >= 3, 'orange ops from pow\'s rule');
    assert.is(await page().$eval('#hvp-values', (el) => el.textContent), '(H·v) for p = [6, -12, 3]'); // 6p·1
    await screenshot(page(), 'graph-hvp-1280', true);
  });

  test('a mistake in the expression is shown on the page, not thrown', async () => {
    await page().$eval('#expr', (el) => { (el as HTMLInputElement).value = 'p.mul(q)'; });
    await page().click('#draw');
    await page().waitForSelector('#expr-status.error');
    assert.match(await page().$eval('#expr-status', (el) => el.textContent ?? ''), /q is not defined/);
  });

  test('a few fitting steps of the three models lower the loss; both charts are drawn', async () => {
    const { first, last } = await train(page(), 20);
    assert.ok(Number.isFinite(first) && last < first, `summed MSE went from ${first} to ${last}`);
    for (const chart of ['#fit-loss', '#fit-pred']) assert.ok(await page().$(`${chart} svg`), `${chart} drew nothing`);
    assert.match(await page().$eval('#fit-loss', (el) => el.textContent ?? ''), /training loss of three ~571-parameter models/);
    await screenshot(page(), 'fit-1280');
  });

  test('the benchmark reports GFLOP/s for matmul, conv2d and a training step, on the swiftshader adapter', async () => {
    const r = await benchmark(page());
    assert.is(r.state, 'done');
    assert.match(r.adapter, /swiftshader/);
    for (const name of ['matmul', 'conv2d', 'training step']) {
      const row = r.rows.find((cells) => cells[0] === name);
      assert.ok(row && Number(row[3]) > 0, `no GFLOP/s for ${name}: ${JSON.stringify(r.rows)}`);
    }
    await screenshot(page(), 'bench-1280');
    assert.ok(await noSidewaysScroll(page()), 'the page scrolls sideways at 1280 px');
    assert.equal(errorsIn(session.log), [], session.log.join('\n'));
  });

  test('on a narrow window (390 px) the graph is drawn top to bottom and nothing scrolls sideways', async () => {
    await page().setViewport({ width: 390, height: 800 });
    await page().goto(`${session.server.origin}/index.html`); // a new document (the hash alone would not reload)
    await waitReady(page());
    await pressBackward(page());
    const svgWidth = await page().$eval('#graph svg', (el) => el.getBoundingClientRect().width);
    assert.ok(svgWidth < 390, `the graph is ${svgWidth} px wide`);
    assert.ok(await noSidewaysScroll(page()), 'the page scrolls sideways at 390 px');
    await screenshot(page(), 'graph-390', true);
    for (const tab of ['fit', 'bench'] as const) {
      await openTab(page(), tab);
      assert.ok(await noSidewaysScroll(page()), `the ${tab} tab scrolls sideways at 390 px`);
      await screenshot(page(), `${tab}-390`, true);
    }
  });
}

if (chromium) {
  test('without WebGPU the page names the CPU fallback, and graphs and training still work', async () => {
    const session = await openPage(chromium, playgroundSite(join(dist, 'playground')), {
      // a browser without WebGPU: the library finds no navigator.gpu
      before: async (p) => { await p.evaluateOnNewDocument(() => { Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }); }); },
    });
    try {
      await waitReady(session.page);
      const device = await session.page.$eval('#device', (el) => `${(el as HTMLElement).dataset.state}: ${el.textContent}`);
      assert.match(device, /^cpu: No WebGPU in this browser: running on gpugrad's CPU backend/);
      await pressBackward(session.page);
      const { first, last } = await train(session.page, 5);
      assert.ok(last < first, `summed MSE went from ${first} to ${last}`);
      assert.equal(errorsIn(session.log), [], session.log.join('\n'));
    } finally {
      await session.close();
    }
  });
}

test("the README shows the playground: docs/playground.png, a 1280×800 screenshot", () => {
  assert.match(readFileSync('README.md', 'utf8'), /!\[[^\]]*playground[^\]]*\]\(docs\/playground\.png\)/);
  const png = readFileSync('docs/playground.png');
  assert.is(png.subarray(1, 4).toString(), 'PNG');
  assert.equal([png.readUInt32BE(16), png.readUInt32BE(20)], [1280, 800], 'retake it with scripts/playground-screenshot.mjs');
});

test('gpugrad serve: the page on 127.0.0.1, files only from its folder, a clear line for a taken port', async () => {
  const child = spawn(process.execPath, ['bin/gpugrad.js', 'serve', '--port', '0'], { env: { ...process.env, GPUGRAD_DIST: dist } });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => { out += d; const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out); if (m) resolve(m[0]); });
      child.on('exit', (code) => reject(new Error(`gpugrad serve exited with ${code}`)));
    });
    const page = await fetch(url);
    assert.is(page.status, 200);
    assert.match(await page.text(), /gpugrad playground/);
    const app = await fetch(`${url}app.js`);
    assert.match(app.headers.get('content-type') ?? '', /text\/javascript/);
    assert.is((await fetch(`${url}..%2f..%2fpackage.json`)).status, 404);
    assert.is((await fetch(`${url}nothing-here.js`)).status, 404);
    const port = new URL(url).port;
    const taken = spawn(process.execPath, ['bin/gpugrad.js', 'serve', '--port', port], { env: { ...process.env, GPUGRAD_DIST: dist } });
    let err = '';
    taken.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((resolve) => taken.on('exit', resolve));
    assert.is(code, 2);
    assert.match(err, new RegExp(`port ${port} is in use; choose another with --port N`));
  } finally {
    child.kill();
  }
});

test.run();
