/** A float32 operand promoted to float64 (mixed-dtype op) keeps its gradient: the promotion is a recorded cast. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { g } from './helpers.js';

test('gradients flow through dtype promotion', async () => {
  const a = g.tensor([1, 2, 3], { device: 'cpu' }).requiresGrad_();
  const b = g.tensor([4, 5, 6], { device: 'cpu', dtype: 'float64' }).requiresGrad_();
  a.mul(b).sum().backward();
  assert.ok(a.grad, 'the float32 operand got a gradient');
  assert.is(a.grad!.dtype, 'float32');
  assert.equal([...(await a.grad!.data())], [4, 5, 6]);
  assert.equal([...(await b.grad!.data())], [1, 2, 3]);
});

test.run();
