/**
 * The size classes both pooled devices allocate by (the WebGPU buffer pool and the wasm heap): released memory goes
 * back to its class and is handed out again for any request of that class.
 */

/** Powers of two up to 1 MiB, then whole MiB; at least 16 bytes (WebGPU cannot bind empty buffers; one wasm v128). */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}
