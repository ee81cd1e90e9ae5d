/**
 * Numbers for people, in the report and on the terminal: `0.00124` or `1.24 × 10⁻³` (never `1.24e-3`), `371 581`,
 * `96.0 %`. Thousands are grouped with a narrow no-break space and the × and % are joined by no-break spaces, so a
 * browser never breaks a number across lines.
 */

const NNBSP = '\u202f'; // narrow no-break space: the SI digit-group separator
const NBSP = '\u00a0';
const SUPERSCRIPT: Record<string, string> = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/** An integer with its digits grouped in threes: 371 581. */
export function int(v: number): string {
  const s = String(Math.round(Math.abs(v)));
  const grouped = s.length <= 4 ? s : s.replace(/\B(?=(\d{3})+(?!\d))/g, NNBSP);
  return (v < 0 ? '−' : '') + grouped;
}

/** `m × 10ᵉ` with `digits` significant digits. */
export function sci(v: number, digits = 3): string {
  const [m, e] = v.toExponential(digits - 1).split('e');
  const exp = String(Number(e)).replace(/./g, (c) => SUPERSCRIPT[c] ?? c);
  return `${m.replace('-', '−')}${NBSP}×${NBSP}10${exp}`;
}

/**
 * Any measured number: plain decimals from 0.001 to 10 000 (3 significant digits, trailing zeros dropped), grouped
 * integers above, `× 10ⁿ` below.
 */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return sci(v, digits);
  if (a >= 1e4) return int(v);
  if (a >= 1e-3) {
    const s = String(Number(v.toPrecision(digits)));
    return s.replace('-', '−');
  }
  return sci(v, digits);
}

/** A fraction as a percentage: 0.96 → `96.0 %`. */
export function pct(v: number | null | undefined, decimals = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${(100 * v).toFixed(decimals)}${NBSP}%`;
}
