/**
 * Deterministic memory: tensors are released by `dispose()`, by leaving a `tidy()` scope, or by `using`.
 * Views share one ref-counted storage; the storage goes back to its backend (the WebGPU buffer pool) when its last
 * tensor is disposed. `memory()` reports what is live per device.
 */
import type { DeviceName, Storage } from '../kernels/backend.js';
import { GpugradError } from '../core/errors.js';

/** A storage shared by a tensor and its views. */
export class SharedStorage {
  refs = 1;
  constructor(readonly storage: Storage, readonly internal = false) {
    if (!internal) live(storage.backend.name).storages.add(this);
  }
  get bytes(): number { return this.storage.length * (this.storage.dtype === 'float64' ? 8 : 4); }
  retain(): this { this.refs++; return this; }
  release(): void {
    if (--this.refs > 0) return;
    if (this.refs < 0) throw new GpugradError('internal: storage released more often than retained');
    if (!this.internal) live(this.storage.backend.name).storages.delete(this);
    this.storage.backend.release(this.storage);
  }
}

interface Disposable { dispose(): void; readonly isDisposed: boolean; readonly internal: boolean }

const liveState: Record<DeviceName, { tensors: number; storages: Set<SharedStorage> }> = {
  cpu: { tensors: 0, storages: new Set() },
  webgpu: { tensors: 0, storages: new Set() },
  wasm: { tensors: 0, storages: new Set() },
};
function live(d: DeviceName) { return liveState[d]; }

export function countTensor(device: DeviceName, delta: number): void { liveState[device].tensors += delta; }

export interface MemoryReport {
  /** live (not disposed) tensors and the bytes of the storages they hold, per device */
  cpu: { tensors: number; bytes: number };
  webgpu: { tensors: number; bytes: number; pooledBytes?: number; allocatedBytes?: number };
  wasm: { tensors: number; bytes: number };
}

let poolStats: () => { pooledBytes: number; allocatedBytes: number } | null = () => null;
export function setPoolStats(f: typeof poolStats) { poolStats = f; }

export function memory(): MemoryReport {
  const sum = (d: DeviceName) => [...liveState[d].storages].reduce((a, s) => a + s.bytes, 0);
  return {
    cpu: { tensors: liveState.cpu.tensors, bytes: sum('cpu') },
    webgpu: { tensors: liveState.webgpu.tensors, bytes: sum('webgpu'), ...(poolStats() ?? {}) },
    wasm: { tensors: liveState.wasm.tensors, bytes: sum('wasm') },
  };
}

// ---- scopes -------------------------------------------------------------------------------------------------------

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor: it belongs to the innermost open scope. */
export function track(t: Disposable): void {
  if (scopes.length && !t.internal) scopes[scopes.length - 1].add(t);
}

/** Takes a tensor out of every scope, so leaving them does not dispose it (optimizer state, gradients). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(x: unknown, out: Set<Disposable>, seen = new Set<unknown>()): void {
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  if ('dispose' in x && 'isDisposed' in x) { out.add(x as Disposable); return; }
  if (Array.isArray(x)) { for (const v of x) collect(v, out, seen); return; }
  if (x instanceof Map) { for (const v of x.values()) collect(v, out, seen); return; }
  if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collect(v, out, seen);
}

/**
 * Runs `fn` and disposes every tensor created inside it, except those it returns (in an array or plain object too)
 * and those passed to `keep()`. Returned tensors move to the enclosing scope. `fn` must be synchronous. When `fn`
 * throws, every tensor it created (except those kept) is disposed before the error propagates.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new GpugradError(`tidy: needs a function, got ${typeof fn}`);
  const scope = startScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(scope); // what fn created is disposed as if it had returned nothing, then the error goes on
    throw e;
  }
  if (result instanceof Promise) {
    closeScope(scope);
    throw new GpugradError('tidy: the function returned a Promise; tidy scopes are synchronous (await outside, or dispose by hand)');
  }
  endScope(scope, result);
  return result;
}

/** Opens a scope by hand (for loops that await): `const s = startScope(); ... endScope(s, keepThese)`. */
export function startScope(): Set<Disposable> {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  return scope;
}

/** Closes `scope` without disposing anything. */
function closeScope(scope: Set<Disposable>): void {
  const i = scopes.lastIndexOf(scope);
  if (i < 0) throw new GpugradError('endScope: that scope is not open');
  scopes.splice(i, 1);
}

/** Closes `scope`, disposing its tensors except those in `result`, which move to the enclosing scope. */
export function endScope(scope: Set<Disposable>, result?: unknown): void {
  closeScope(scope);
  const returned = new Set<Disposable>();
  collect(result, returned);
  for (const t of scope) if (!returned.has(t) && !t.isDisposed) t.dispose();
  if (scopes.length) for (const t of returned) if (!t.isDisposed) scopes[scopes.length - 1].add(t);
}
