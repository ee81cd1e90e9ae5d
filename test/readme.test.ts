/**
 * The README's example must run as printed: this test executes its code block, unchanged, on both devices. The file
 * is written inside the repository (under dist/), so `import ... from 'gpugrad'` resolves by Node's self-reference
 * through package.json's `exports`, exactly as it does for a user who installed the package: to dist/src/index.js,
 * the package's own build (GPUGRAD_DIST does not redirect it). The installed tarball is tested by package.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const readme = readFileSync('README.md', 'utf8');
const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];

for (const device of ['cpu', 'webgpu']) {
  test(`the README example runs on ${device} and exits by itself`, () => {
    assert.ok(block, 'README has a ```js example');
    assert.match(block!, /from 'gpugrad'/);
    const dir = join('dist', 'readme');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example-${device}.mjs`);
    writeFileSync(file, block!);
    const r = spawnSync(process.execPath, [file], { env: { ...process.env, GPUGRAD_DEVICE: device }, encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr}`);
    assert.match(r.stdout, device === 'webgpu' ? /WebGPU/ : /CPU/);
    assert.match(r.stdout, /tensor\(\[\], float32/);
  });
}

test.run();
