/**
 * The part of the WebAssembly JS API the wasm device uses, typed here rather than through lib.dom (which this Node
 * library does not load, and which a user's project may not either): the published declarations then stand alone.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
/** A compiled module (opaque; structured-cloneable to worker threads). */
export interface WasmModule { readonly [brand]?: never }
declare const brand: unique symbol;
export interface WasmInstance { readonly exports: Record<string, unknown> }

interface Api {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

/** The global WebAssembly object (Node ≥ 20 and every current browser have SIMD128). */
export const wasmApi = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;
