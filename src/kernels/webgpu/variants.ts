/**
 * Kernel variants that tests and benchmarks can force. The backend normally picks a variant from the shape and the
 * adapter; `forceVariant(kernel, name)` overrides that pick until it is reset with null — so every variant can be run
 * through the same tests, whatever the heuristics would choose for the shapes at hand.
 */
import { conv2dVariants } from '../wgsl/conv2d.js';
import { conv2dBackwardInputVariants } from '../wgsl/conv2d-backward-input.js';

export const kernelVariants = {
  conv2d: conv2dVariants,
  conv2dBackwardInput: conv2dBackwardInputVariants,
  /** 'reg': register tiles (rows × columns chosen by size) with vec4 loads where the layout allows; 'reg4'/'reg8'/
   *  'reg12'/'reg4x8'/'reg4x12': one tile shape (4×4, 8×8, 8×12, 4×8, 4×12); 'regs': 4×4 with scalar loads only;
   *  'wg': workgroup-memory tiles (real GPUs); 'splitk': K split */
  matmul: ['reg', 'reg4', 'reg8', 'reg12', 'reg4x8', 'reg4x12', 'regs', 'wg', 'splitk'] as const,
  /** 'window': one invocation per output writes its window (stride = kernel, no padding only); 'gather': any pool */
  maxPool2dBackward: ['window', 'gather'] as const,
} as const;
export type VariantKernel = keyof typeof kernelVariants;

const forced: Partial<Record<VariantKernel, string>> = {};

/** Forces a variant of `kernel` (null: back to the heuristics). For tests and benchmarks. */
export function forceVariant<K extends VariantKernel>(kernel: K, variant: (typeof kernelVariants)[K][number] | null): void {
  if (variant === null) delete forced[kernel];
  else forced[kernel] = variant;
}

/** The forced variant of `kernel`, if any. */
export function forcedVariant<K extends VariantKernel>(kernel: K): (typeof kernelVariants)[K][number] | undefined {
  return forced[kernel] as (typeof kernelVariants)[K][number] | undefined;
}
