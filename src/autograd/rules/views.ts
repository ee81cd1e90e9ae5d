/**
 * Rules for the shape and layout ops: each moves the gradient back into the input's layout. None does arithmetic,
 * except `expand` (a broadcast: its gradient is a sum) and `slice` (its gradient is padded with zeros).
 */
import { zeros } from '../../tensor/creation.js';
import { cast, concat, permute, reshape, slice } from '../../tensor/ops/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { sumToShape } from './helpers.js';
import { defineRule } from './registry.js';

defineRule('reshape', (g, { inputs: [x] }) => [reshape(g, x.shape)]);
defineRule('clone', (g) => [g]);
defineRule('cast', (g, { inputs: [x] }) => [cast(g, x.dtype)]);

// permute by the inverse permutation: if output axis i came from input axis dims[i], input axis dims[i] gets axis i
defineRule('permute', (g, { saved }) => {
  const dims = saved.dims as number[];
  const inverse = new Array<number>(dims.length);
  dims.forEach((d, i) => { inverse[d] = i; });
  return [permute(g, inverse)];
});

defineRule('expand', (g, { inputs: [x] }) => [sumToShape(g, x.shape)]);

// slice: the gradient of the kept elements, with zeros for those cut away
defineRule('slice', (g, { inputs: [x], saved }) => {
  const axis = saved.axis as number, start = saved.start as number;
  const before = start, after = x.shape[axis] - start - g.shape[axis];
  const zerosAlong = (n: number) => {
    const shape = [...x.shape];
    shape[axis] = n;
    return zeros(shape, { dtype: g.dtype, device: g.device });
  };
  const parts: Tensor[] = [];
  if (before > 0) parts.push(zerosAlong(before));
  parts.push(g);
  if (after > 0) parts.push(zerosAlong(after));
  return [parts.length === 1 ? g : concat(parts, axis)];
});

// concat: each input gets its own slab of the gradient
defineRule('concat', (g, { saved, needsGrad }) => {
  const axis = saved.axis as number, sizes = saved.sizes as number[];
  let offset = 0;
  return sizes.map((n, i) => {
    const part = needsGrad[i] ? slice(g, axis, offset, offset + n) : null;
    offset += n;
    return part;
  });
});

// stack: input i gets the slab i of the gradient along the new axis, without that axis
defineRule('stack', (g, { inputs, saved, needsGrad }) => {
  const axis = saved.axis as number;
  return inputs.map((x, i) => (needsGrad[i] ? reshape(slice(g, axis, i, i + 1), x.shape) : null));
});
