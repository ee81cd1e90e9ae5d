// The README's five-line example: create tensors, matmul, relu, sum, print. Runs on WebGPU when an adapter exists,
// else on the CPU; it exits by itself.
import * as gg from '../src/index.js';

console.log(`device: ${gg.deviceInfo()}`);
const x = gg.tensor([[1, -2, 3], [-4, 5, -6]]);
const w = gg.randn([3, 4]);
const y = x.matmul(w).relu().sum();
console.log('sum(relu(x @ w)) =', await y.item());
