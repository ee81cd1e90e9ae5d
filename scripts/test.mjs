// Runs the uvu suites in dist/test (or $GPUGRAD_DIST/test) on the real WebGPU adapter (SwiftShader without a GPU),
// one process per file (a crash or hang stays in its file; each gets a fresh device), and ends with the line
// `N passed, M failed`. An optional argument filters the files by regex: `node scripts/test.mjs 'core-|autograd'`.
// WebGPU is required (GPUGRAD_REQUIRE_WEBGPU=1): CI must not pass with WebGPU silently missing.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gpuEnv } from './env.mjs';

const dist = process.env.GPUGRAD_DIST ?? 'dist';
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const FILE_TIMEOUT_MS = Number(process.env.GPUGRAD_TEST_TIMEOUT ?? 20 * 60) * 1000;
const env = { ...gpuEnv(), GPUGRAD_QUIET: '1', GPUGRAD_REQUIRE_WEBGPU: process.env.GPUGRAD_REQUIRE_WEBGPU ?? '1' };
const files = readdirSync(join(dist, 'test')).filter((f) => f.endsWith('.test.js') && (!filter || filter.test(f))).sort();

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--enable-source-maps', 'node_modules/uvu/bin.js', join(dist, 'test'), `^${file.replace(/\./g, '\\.')}$`], { env });
    let out = '';
    const onData = (stream) => (d) => { out += d; stream.write(d); };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    const timer = setTimeout(() => { out += `\n${file}: timed out after ${FILE_TIMEOUT_MS / 1000} s\n`; child.kill('SIGKILL'); }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      // a file that crashed or timed out counts at least one failure, even if uvu never printed its summary
      const failed = code === 0 && total > 0 ? total - passed : Math.max(1, total - passed);
      resolve({ file, passed, failed, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const results = [];
for (const f of files) results.push(await runFile(f));
console.log('\nper file:');
for (const r of results) console.log(`  ${r.file.padEnd(36)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed ${r.seconds.toFixed(1).padStart(7)} s`);
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
