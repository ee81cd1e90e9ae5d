/**
 * The library's one error type. Messages name the op, the shapes/dtypes/devices involved, and what would fix it,
 * e.g. `matmul: shapes [2,3] and [4,5] do not align (3 ≠ 4)`.
 */
export class GpugradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpugradError';
  }
}

/** Throws a GpugradError prefixed by the op's name unless `cond` holds. */
export function check(cond: unknown, op: string, message: string | (() => string)): asserts cond {
  if (!cond) throw new GpugradError(`${op}: ${typeof message === 'string' ? message : message()}`);
}

export const fmtShape = (s: readonly number[]) => `[${s.join(',')}]`;
