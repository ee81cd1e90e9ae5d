/** Dropout, with its mask drawn on the device from a seed (its gradient is dropout with the same seed). */
import { check } from '../../core/errors.js';
import { record } from '../autograd-seam.js';
import { type Generator, defaultGenerator } from '../random.js';
import { Tensor } from '../tensor.js';
import { mul } from './elementwise.js';
import { assertFloat, withContiguous } from './util.js';

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1 − p); in eval,
 * returns x itself. The mask is drawn on the device from a seed taken from `generator`, and never stored: backward
 * applies the same seeded mask to the gradient.
 */
export function dropout(x: Tensor, p: number, training: boolean, generator: Generator = defaultGenerator): Tensor {
  assertFloat('dropout', x, 'input');
  check(typeof p === 'number' && p >= 0 && p <= 1, 'dropout', `p must be a probability in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  return dropoutWithSeed(x, p, [generator.nextU32(), generator.nextU32()]);
}

/** Dropout with an explicit seed: the same seed gives the same mask (its own gradient). */
export function dropoutWithSeed(x: Tensor, p: number, seed: readonly [number, number]): Tensor {
  const s = withContiguous([x], (xd) => x.storage.backend.dropout(xd.storage, p, seed));
  return record('dropout', [x], Tensor.fromStorage(s, x.shape), { p, seed });
}
