/** Entry of a wasm worker thread (started by ./supervisor.ts): the kernel module over the shared memory, then serve. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Kernels } from './kernels.js';
import { serve } from './threads.js';
import { type WasmMemory, type WasmModule, wasmApi } from './wasm-api.js';

const { module, memory, ctl, index } = workerData as { module: WasmModule; memory: WasmMemory; ctl: Int32Array; index: number };
const instance = new wasmApi.Instance(module, { env: { memory } });
parentPort!.postMessage('ready');
serve(instance.exports as unknown as Kernels, ctl, index);
