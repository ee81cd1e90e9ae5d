// Runs a built script with the WebGPU environment set up (SwiftShader when there is no GPU driver).
import { spawnSync } from 'node:child_process';
import { gpuEnv } from './env.mjs';

const [script, ...args] = process.argv.slice(2);
const r = spawnSync(process.execPath, ['--enable-source-maps', script, ...args], { stdio: 'inherit', env: gpuEnv() });
process.exit(r.status ?? 1);
