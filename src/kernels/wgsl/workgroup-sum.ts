/**
 * The one-workgroup kernels' shared shape (count-correct, cross-entropy): every invocation `l` accumulates rows l,
 * l + WG, …, then the partials meet in a tree in workgroup memory and invocation 0 writes the result. Deterministic
 * (the tree's order is fixed), and the result costs one 4-byte read-back.
 */
import { kernelProgram } from './program.js';

/**
 * The whole `main` of a one-workgroup row reduction: `init` declares `acc`, `row` (run with the row `b`, rows < u.B)
 * adds to it, and `store` writes `partial[0]` (the total) somewhere. Declares the workgroup array `partial`.
 */
export function workgroupRowSum(wg: number, type: 'f32' | 'i32', row: string, store: string): string {
  return `var<workgroup> partial: array<${type}, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) l: u32) {
  let B = u.B; let C = u.C;
  var acc: ${type} = ${type}(0);
  for (var b = l; b < B; b += ${wg}u) {
${row}
  }
  partial[l] = acc;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (l < s) { partial[l] += partial[l + s]; }
    workgroupBarrier();
  }
  if (l == 0u) { ${store} }
}`;
}

/**
 * A one-workgroup reduction over the rows of `logits` [B, C] with int32 `labels` [B]: the program both
 * count-correct and cross-entropy are, differing only in the output type, their WGSL helpers and the row and store
 * bodies. `status` reports a label outside [0, C) (see labelOkWgsl in cross-entropy.ts).
 */
export function labelledRowSumProgram(key: string, type: 'f32' | 'i32', helpers: string, row: string, store: string) {
  return kernelProgram({
    key,
    inputs: [{ name: 'logits', type: 'f32' }, { name: 'labels', type: 'i32' }],
    outputs: [{ name: 'out', type }, { name: 'status', type: 'i32' }],
    uniforms: { B: 'u32', C: 'u32' },
    workgroupSize: 256,
    helpers,
    entry: { dispatch: 'single', custom: (wg) => workgroupRowSum(wg, type, row, store) },
  });
}
