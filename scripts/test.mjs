// Runs the uvu suites in dist/test (or $GPUGRAD_DIST/test; an optional argument filters the files by regex) on the real WebGPU adapter (SwiftShader without a GPU) and ends with the line
// `N passed, M failed`. Set GPUGRAD_TEST_DEVICE=cpu to run only the CPU half (the WebGPU comparisons then fail loudly,
// by design: CI must not pass with WebGPU silently missing).
import { spawn } from 'node:child_process';
import { gpuEnv } from './env.mjs';

const filter = process.argv[2];
const pattern = filter ? `^(?=.*(?:${filter})).*\\.test\\.js$` : '\\.test\\.js$';
const env = { ...gpuEnv(), GPUGRAD_QUIET: '1', GPUGRAD_REQUIRE_WEBGPU: process.env.GPUGRAD_REQUIRE_WEBGPU ?? '1' };
const child = spawn(process.execPath, ['--enable-source-maps', 'node_modules/uvu/bin.js', `${process.env.GPUGRAD_DIST ?? 'dist'}/test`, pattern], { env });
let out = '';
child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = code === 0 ? total - passed : Math.max(1, total - passed);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(code === 0 && total > 0 ? 0 : 1);
});
