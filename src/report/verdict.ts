/**
 * When does a number of ours "agree" with the original report's? Only by a stated criterion that a wrong number
 * fails, printed beside the verdict with the ratio ours/original, so a reader can judge the criterion too. A loss
 * from one training agrees within a factor (seeds scatter it); an accuracy within some points; a count of dead
 * networks within two binomial standard deviations; a final MSE measured over several seeds when the original's
 * value lies inside our seeds' range; a quantity that is not the original's gets no verdict at all.
 */
import type { Value } from '../run/types.js';
import { int, num } from '../run/format.js';

export type Criterion =
  /** ours/original within [1/f, f] */
  | { factor: number }
  /** accuracy fractions: |ours − original| ≤ p percentage points */
  | { points: number }
  /** |ours − original| ≤ d */
  | { within: number }
  /** the same number (a parameter count, a setting) */
  | { exact: true }
  /** a count out of `final[trials]` trials: within two binomial standard deviations of the original's rate */
  | { binomial: string; of: number }
  /** several seeds of ours: the original's value inside [final[min], final[max]] */
  | { range: [string, string] }
  /** a different quantity from the original's (say which): compared, never judged */
  | { different: string };

export interface Judgement {
  /** true/false, or null where no verdict is given (a different quantity) */
  agrees: boolean | null;
  /** ours / original, when both are positive */
  ratio: number | null;
  /** the criterion in words, e.g. `within ×3` */
  criterion: string;
}

export function judge(ours: number, original: number, c: Criterion, final: Record<string, Value> = {}): Judgement {
  const ratio = original > 0 && ours > 0 ? ours / original : null;
  if ('factor' in c) {
    return { agrees: ratio !== null && ratio <= c.factor && ratio >= 1 / c.factor, ratio, criterion: `within ×${num(c.factor)} either way` };
  }
  if ('points' in c) return { agrees: Math.abs(ours - original) * 100 <= c.points + 1e-9, ratio, criterion: `within ${num(c.points)} points` };
  if ('within' in c) return { agrees: Math.abs(ours - original) <= c.within + 1e-12, ratio, criterion: `within ±${num(c.within)}` };
  if ('exact' in c) return { agrees: ours === original, ratio, criterion: 'equal' };
  if ('binomial' in c) {
    const n = Number(final[c.binomial]);
    if (!(n > 0)) return { agrees: null, ratio, criterion: 'no trial count' };
    // the original's rate, scaled to our number of trials; two standard deviations of a count of n draws at that rate
    const p = original / c.of, expected = p * n, sd = Math.sqrt(n * p * (1 - p));
    return { agrees: Math.abs(ours - expected) <= 2 * sd, ratio: expected > 0 && ours > 0 ? ours / expected : null,
      criterion: `within 2 binomial s.d. of ${num(expected)} of ${int(n)} (±${num(2 * sd)})` };
  }
  if ('range' in c) {
    const lo = Number(final[c.range[0]]), hi = Number(final[c.range[1]]);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { agrees: null, ratio, criterion: 'no spread measured' };
    return { agrees: original >= lo && original <= hi, ratio, criterion: `inside our seeds' range ${num(lo)} – ${num(hi)}` };
  }
  return { agrees: null, ratio, criterion: `not judged: ${c.different}` };
}
