/** Every tensor op, in one namespace (Tensor's methods delegate here). */
export * from './elementwise.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './views.js';
export * from './activation.js';
export * from './conv.js';
export * from './pool.js';
export * from './dropout.js';
export * from './classification.js';
export * from './linear.js';
export type { Pair, TensorLike } from './util.js';
