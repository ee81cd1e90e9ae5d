/**
 * What the library needs from the JavaScript environment it runs in, in one place: settings (environment variables
 * under Node), a line for the user (stderr under Node, the console in a browser), a way to get a WebGPU `GPU`
 * object (Dawn's Node bindings, or `navigator.gpu`), and a hook to release the device when the program ends.
 *
 * Why a seam: the public API is the same in Node and in a browser page, but a browser bundle must not reach any
 * Node built-in (`process`, `node:fs`, the native `webgpu` package). Each entry point installs its platform before
 * the devices are probed: `src/index.ts` the Node platform (platform-node.ts), `src/browser.ts` the browser one
 * (platform-browser.ts). Nothing below the entry points imports either, so kernels, tensors and autograd run under
 * both.
 */

export interface Platform {
  /** 'node' or 'browser', for messages */
  readonly name: string;
  /** a setting such as GPUGRAD_DEVICE (an environment variable under Node; undefined where there are none) */
  env(key: string): string | undefined;
  /** one line for the user, outside the program's output (stderr, console.warn) */
  warn(line: string): void;
  /** the WebGPU entry object, or why there is none */
  requestGPU(): Promise<{ gpu: GPU } | { reason: string }>;
  /** runs `fn` once when the program is about to end (Node's 'beforeExit'; nothing to do in a page) */
  onExit(fn: () => void): void;
  /** what to do when WebGPU is missing, said in this environment's terms */
  readonly howToGetWebGPU: string;
  /** logical cores, for the wasm device's default thread count (absent: 1) */
  cores?(): number;
  /**
   * starts a worker thread running the module at `url` with `workerData` (Node's worker_threads); absent where there
   * are none to share a WebAssembly memory with, and the wasm device runs on one thread
   */
  startWorker?(url: URL, workerData: unknown): WorkerHandle;
}

/** What the wasm device needs of a worker thread. */
export interface WorkerHandle {
  terminate(): unknown;
  unref(): void;
  ref(): void;
  once(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): unknown;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  postMessage(value: unknown): void;
}

/** Used until an entry point installs its platform (e.g. by a test that imports a lower floor directly): no settings,
 * no WebGPU, lines to the console. */
const bare: Platform = {
  name: 'bare',
  env: () => undefined,
  warn: (line) => console.warn(line),
  requestGPU: async () => ({ reason: 'no platform installed (import gpugrad, not a file inside it)' }),
  onExit: () => {},
  howToGetWebGPU: 'Import the library through its entry point (gpugrad or gpugrad/browser).',
};

let current: Platform = bare;

/** Installs the platform of this environment; the entry points call it once, before probing the devices. */
export function setPlatform(h: Platform): void { current = h; }

export function platform(): Platform { return current; }
