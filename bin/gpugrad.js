#!/usr/bin/env node
// The `gpugrad` command. Sets up WebGPU's environment the way scripts/env.mjs does for the npm scripts (SwiftShader,
// a CPU Vulkan driver, when no driver is configured), then runs the prebuilt dist/src/cli/main.js. An installed
// package ships that build and never builds anything (esbuild is a development dependency); in a development
// checkout (scripts/build.mjs present) a missing or stale build is rebuilt first.
// The environment is set in this process before the library loads: the Vulkan loader reads VK_ICD_FILENAMES when
// Dawn creates its instance, so no second node process is needed (and Ctrl-C reaches the run directly).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

const usesDevice = (args[0] === 'run' || args[0] === 'data') && !args.includes('--help') && !args.includes('-h');
const wantsCpu = args.some((a, i) => a === '--device=cpu' || (a === '--device' && args[i + 1] === 'cpu'));
if (usesDevice && !wantsCpu) {
  const { gpuEnv } = await import(pathToFileURL(join(root, 'scripts/env.mjs')).href);
  const env = gpuEnv();
  for (const k of ['VK_ICD_FILENAMES', 'XDG_RUNTIME_DIR']) if (env[k] && !process.env[k]) process.env[k] = env[k];
}

const dist = resolve(root, process.env.GPUGRAD_DIST ?? 'dist');
const entry = join(dist, 'src/cli/main.js');

/** The newest modification time of the TypeScript sources. */
function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    newest = Math.max(newest, f.isDirectory() ? newestSource(p) : f.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

const checkout = existsSync(join(root, 'scripts/build.mjs')) && existsSync(join(root, 'src'));
if (!existsSync(entry) && !checkout) {
  process.stderr.write(`gpugrad: ${entry} is missing: this installed package is incomplete; install it again (npm install gpugrad)\n`);
  process.exit(1);
}
// In a checkout, rebuild a missing or stale default build (a user who edited src/); a build folder named by
// GPUGRAD_DIST is the developer's, used as it is.
const stale = checkout && !process.env.GPUGRAD_DIST && existsSync(entry) && newestSource(join(root, 'src')) > statSync(entry).mtimeMs;
if (!existsSync(entry) || stale) {
  process.stderr.write(`gpugrad: building ${dist} (${stale ? 'the sources changed' : 'first use'})\n`);
  const b = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit', env: process.env });
  if (b.status !== 0 || !existsSync(entry)) {
    process.stderr.write('gpugrad: the build failed; run `npm run build` in the package folder and try again\n');
    process.exit(1);
  }
}

const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(args);
