/**
 * Counts the rows whose argmax (the first maximum; NaN wins, as argmax) equals the label, in one workgroup: each
 * invocation takes some rows, and the counts meet in a tree in workgroup memory (./workgroup-sum.ts). Accuracy then
 * costs one 4-byte read-back instead of the whole logits tensor. A label outside [0, classes) is reported through
 * `status`, as in cross-entropy.ts.
 * Uniforms: B the batch, C the classes.
 */
import { labelOkWgsl } from './cross-entropy.js';
import { memoKernel } from './program.js';
import { labelledRowSumProgram } from './workgroup-sum.js';

function source() {
  return labelledRowSumProgram('count-correct', 'i32', labelOkWgsl, `    var best = -f32_inf();
    var arg = 0;
    for (var c = 0u; c < C; c++) {
      let v = logits[b * C + c];
      if (v > best || (is_nan(v) && !is_nan(best))) { best = v; arg = i32(c); }
    }
    if (label_ok(b, C, 1) && arg == labels[b]) { acc += 1; }`, 'out[0] = partial[0];');
}

export const countCorrectKernel = memoKernel(source);
