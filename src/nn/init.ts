/**
 * PyTorch's default initialisation for Linear and Conv2d: weight and bias both ~ U(−1/√fan_in, 1/√fan_in).
 * (For the weight this is kaiming_uniform_ with a = √5: gain √(2/(1+5)) times √(3/fan_in) = 1/√fan_in.)
 * Drawn on the host from the seeded generator, so every device gets the same numbers.
 */
import type { DType, DeviceName } from '../kernels/backend.js';
import { uniform } from '../tensor/creation.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

export interface LayerOptions {
  device?: DeviceName;
  dtype?: DType;
  /** the generator to draw the initial values from (default: the global one, seeded by manualSeed) */
  generator?: Generator;
}

export function defaultInit(shape: readonly number[], fanIn: number, opts: LayerOptions): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(shape, -bound, bound, { device: opts.device, dtype: opts.dtype, generator: opts.generator });
}
