/** Every tensor op, in one namespace (Tensor's methods delegate here). */
export * from './elementwise.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './views.js';
export * from './activation.js';
export * from './vision.js';
export type { TensorLike } from './util.js';
