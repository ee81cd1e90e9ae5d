/**
 * Counts the rows whose argmax (the first maximum; NaN wins, as argmax) equals the label, in one workgroup: each
 * invocation takes some rows, and the counts meet in a tree in workgroup memory (./workgroup-sum.ts). Accuracy then
 * costs one 4-byte read-back instead of the whole logits tensor. A label outside [0, classes) is reported through
 * `status`, as in cross-entropy.ts.
 * Uniforms: B the batch, C the classes.
 */
import { labelOkWgsl } from './cross-entropy.js';
import { kernelProgram, memoKernel } from './program.js';
import { workgroupRowSum } from './workgroup-sum.js';

function source() {
  return kernelProgram({
    key: 'count-correct',
    inputs: [{ name: 'logits', type: 'f32' }, { name: 'labels', type: 'i32' }],
    outputs: [{ name: 'out', type: 'i32' }, { name: 'status', type: 'i32' }],
    uniforms: { B: 'u32', C: 'u32' },
    workgroupSize: 256,
    helpers: labelOkWgsl,
    entry: {
      dispatch: 'single',
      custom: (wg) => workgroupRowSum(wg, 'i32', `    var best = -f32_inf();
    var arg = 0;
    for (var c = 0u; c < C; c++) {
      let v = logits[b * C + c];
      if (v > best || (is_nan(v) && !is_nan(best))) { best = v; arg = i32(c); }
    }
    if (label_ok(b, C, 1) && arg == labels[b]) { acc += 1; }`, 'out[0] = partial[0];'),
    },
  });
}

export const countCorrectKernel = memoKernel(source);
