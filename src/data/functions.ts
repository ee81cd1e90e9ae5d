/**
 * The function-fitting data of experiments 1-1, 2-2 and 2-3 (see docs/protocol.md), computed in float64 on the host:
 *   f1(x) = sin(5πx) / (5πx)   on linspace(-5, 5, 500)   (0 is not on the grid)
 *   f2(x) = sign(sin(5πx))     on linspace(-1, 1, 200)
 * `functionDataset` turns one into tensors x, y of shape [N, 1] (float32 by default, float64 on the cpu device).
 */
import type { DType, DeviceName } from '../kernels/backend.js';
import { GpugradError, check } from '../core/errors.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

export interface FunctionData {
  name: string;
  formula: string;
  x: Float64Array;
  y: Float64Array;
}

/** `steps` evenly spaced values from start to end, both included: NumPy's linspace (start + i·step, end exact). */
export function linspaceHost(start: number, end: number, steps: number): Float64Array {
  check(Number.isInteger(steps) && steps >= 2, 'linspace', `steps must be an integer ≥ 2, got ${steps}`);
  const step = (end - start) / (steps - 1);
  const v = Float64Array.from({ length: steps }, (_, i) => start + i * step);
  v[steps - 1] = end;
  return v;
}

function tabulate(name: string, formula: string, x: Float64Array, f: (x: number) => number): FunctionData {
  return { name, formula, x, y: x.map(f) };
}

/** sin(5πx)/(5πx) on linspace(-5, 5, 500) (its limit 1 at x = 0, which this grid does not contain). */
export function f1(): FunctionData {
  return tabulate('f1', 'sin(5πx)/(5πx)', linspaceHost(-5, 5, 500), (x) => {
    const t = 5 * Math.PI * x;
    return t === 0 ? 1 : Math.sin(t) / t;
  });
}

/** sign(sin(5πx)) on linspace(-1, 1, 200). */
export function f2(): FunctionData {
  return tabulate('f2', 'sign(sin(5πx))', linspaceHost(-1, 1, 200), (x) => Math.sign(Math.sin(5 * Math.PI * x)));
}

const builtIn: Record<string, () => FunctionData> = { f1, f2 };

/** x and y as [N, 1] tensors, ready for a full-batch regression. */
export function functionDataset(which: 'f1' | 'f2' | FunctionData,
  options: { device?: DeviceName; dtype?: DType } = {}): { x: Tensor; y: Tensor; data: FunctionData } {
  let data: FunctionData;
  if (typeof which === 'string') {
    const make = builtIn[which];
    if (!make) throw new GpugradError(`functionDataset: no function '${which}'; use 'f1' or 'f2'`);
    data = make();
  } else {
    data = which;
  }
  check(data.x.length === data.y.length, 'functionDataset', `${data.x.length} x values but ${data.y.length} y values`);
  const opts = { device: options.device, dtype: options.dtype ?? 'float32', shape: [data.x.length, 1] };
  return { x: tensor(data.x, opts), y: tensor(data.y, opts), data };
}
