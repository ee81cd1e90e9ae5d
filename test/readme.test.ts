/** The README's example must run as printed: this test executes its code block on both devices. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const readme = readFileSync('README.md', 'utf8');
const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];

for (const device of ['cpu', 'webgpu']) {
  test(`the README example runs on ${device} and exits by itself`, () => {
    assert.ok(block, 'README has a ```js example');
    const dir = mkdtempSync(join(tmpdir(), 'gpugrad-readme-'));
    const file = join(dir, 'example.mjs');
    const dist = resolve(process.env.GPUGRAD_DIST ?? 'dist', 'src/index.js');
    writeFileSync(file, block!.replace(/from 'gpugrad'/g, `from '${dist}'`));
    const r = spawnSync(process.execPath, [file], { env: { ...process.env, GPUGRAD_DEVICE: device }, encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr}`);
    assert.match(r.stdout, device === 'webgpu' ? /WebGPU/ : /CPU/);
    assert.match(r.stdout, /tensor\(\[\], float32/);
  });
}

test.run();
