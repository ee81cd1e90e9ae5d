// Takes the README's picture of the playground (docs/playground.png, 1280×800): the page as built in dist/ (run
// `npm run build` first), in headless Chromium with WebGPU, after backward on the first tab's expression. It drives
// the page with the browser tests' own code (dist/test/playground-driver.js), so the picture shows what they check.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.env.GPUGRAD_DIST ?? 'dist');
const load = (f) => import(pathToFileURL(join(dist, 'test', f)).href);
const { findChromium, openPage } = await load('browser.js');
const { playgroundSite, pressBackward, waitReady } = await load('playground-driver.js');

const chromium = findChromium();
if (!chromium) {
  console.error('no Chromium: apt-get install chromium, or point GPUGRAD_CHROMIUM at one');
  process.exit(1);
}
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const session = await openPage(chromium, playgroundSite(join(dist, 'playground')), {
  before: (page) => page.setViewport({ width: 1280, height: 800 }),
});
try {
  await waitReady(session.page);
  await pressBackward(session.page);
  const out = 'docs/playground.png';
  writeFileSync(out, await session.page.screenshot());
  console.log(out);
} finally {
  await session.close();
}
