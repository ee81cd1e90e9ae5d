/**
 * Checking backward rules against finite differences, in float64 on a device that has it (the CPU reference, or
 * wasm to check its kernels' gradients); every tensor made here is made on the inputs' device:
 *
 *   analytic:  row o of the Jacobian J = grad(output, inputs, {gradOutputs: one-hot at o})
 *   numeric:   column k of J ≈ (f(x + ε·e_k) − f(x − ε·e_k)) / 2ε
 *
 * `gradgradcheck` checks the rules' rules: it gradchecks the function (x, v) ↦ ∂(f(x)·v)/∂x, whose analytic
 * Jacobian comes from differentiating a backward pass recorded with `createGraph`.
 */
import type { DeviceName, TypedArray } from '../kernels/backend.js';
import { GpugradError, check, fmtShape } from '../core/errors.js';
import { tensor, zeros } from '../tensor/creation.js';
import { endScope, startScope, tidy } from '../tensor/memory.js';
import { concat, reshape } from '../tensor/ops/index.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { grad } from './functional.js';
import { noGrad } from './graph.js';

export interface GradcheckOptions {
  /** finite-difference step (default 1e-6) */
  eps?: number;
  /** allowed |analytic − numeric| ≤ atol + rtol·|numeric| (defaults 1e-5 and 1e-3, as PyTorch) */
  atol?: number;
  rtol?: number;
  /** throw a GpugradError describing the worst mismatch (default) or return false */
  raiseException?: boolean;
}

type Fn = (...xs: Tensor[]) => Tensor;

/** Checks the inputs; returns their device. */
function checkInputs(op: string, inputs: readonly Tensor[]): DeviceName {
  check(Array.isArray(inputs), op, () => `inputs must be an array of tensors, got ${inputs === null ? 'null' : typeof inputs}`);
  for (const [i, x] of inputs.entries()) check(x instanceof Tensor, op, `input ${i} is not a Tensor`);
  const device = inputs[0]?.device ?? 'cpu';
  for (const [i, x] of inputs.entries()) {
    check(x.device === device && device !== 'webgpu' && (x.dtype === 'float64' || !x.requiresGrad), op,
      () => `input ${i} is ${x.dtype} on ${x.device}${i > 0 ? ` (input 0 on ${device})` : ''}; finite differences ` +
      "need float64, all on the cpu or wasm device (tensor(data, {dtype: 'float64', device: 'cpu', requiresGrad: true}))");
  }
  check(inputs.some((x) => x.requiresGrad), op, 'no input requires a gradient: mark the ones to check with requiresGrad');
  return device;
}

/** A float64 copy of `x` (on its device) with element k moved by `delta`. */
function nudged(x: Tensor, values: TypedArray, k: number, delta: number): Tensor {
  const v = Float64Array.from(values);
  v[k] += delta;
  return tensor(v, { shape: x.shape, dtype: 'float64', device: x.device, requiresGrad: x.requiresGrad });
}

/** Compares the analytic and numeric Jacobians of `fn` at `inputs`. Resolves to true, or throws (or gives false). */
export async function gradcheck(fn: Fn, inputs: readonly Tensor[], options: GradcheckOptions = {}): Promise<boolean> {
  const scope = startScope(); // everything made here is disposed at the end
  try {
    return await compareJacobians(fn, inputs, options);
  } finally {
    endScope(scope);
  }
}

async function compareJacobians(fn: Fn, inputs: readonly Tensor[], options: GradcheckOptions): Promise<boolean> {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, raiseException = true } = options;
  const device = checkInputs('gradcheck', inputs);
  const wrt = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const out = fn(...inputs);
  check(out instanceof Tensor, 'gradcheck', 'the function must return one Tensor');
  const nOut = out.size;

  // analytic: one backward per output element, with a one-hot gradient
  const analytic = wrt.map((i) => new Float64Array(nOut * inputs[i].size)); // [output, element] row-major
  for (let o = 0; o < nOut; o++) {
    const rows = tidy(() => {
      const onehot = new Float64Array(nOut);
      onehot[o] = 1;
      const seed = tensor(onehot, { shape: out.shape, dtype: 'float64', device });
      return out.requiresGrad
        ? grad(out, wrt.map((i) => inputs[i]), { gradOutputs: seed, retainGraph: true, allowUnused: true })
        : wrt.map((i) => zeros(inputs[i].shape, { dtype: 'float64', device }));
    });
    for (const [j, r] of rows.entries()) {
      analytic[j].set(await r.data(), o * inputs[wrt[j]].size);
      r.dispose();
    }
  }
  out.dispose();

  // numeric: central differences, one input element at a time
  for (const [j, i] of wrt.entries()) {
    const x = inputs[i];
    const values = await x.data();
    for (let k = 0; k < x.size; k++) {
      const f = async (delta: number) => {
        const xk = nudged(x, values, k, delta);
        // recorded as usual: fn may itself take gradients (gradgradcheck)
        const y = tidy(() => fn(...inputs.map((t, m) => (m === i ? xk : t))));
        const d = Float64Array.from(await y.data());
        y.dispose(); xk.dispose();
        return d;
      };
      const plus = await f(eps), minus = await f(-eps);
      for (let o = 0; o < nOut; o++) {
        const numeric = (plus[o] - minus[o]) / (2 * eps);
        const a = analytic[j][o * x.size + k];
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          if (!raiseException) return false;
          throw new GpugradError(`gradcheck: the gradient of output element ${o} ${fmtShape(out.shape)} with respect to ` +
            `element ${k} of input ${i} ${fmtShape(x.shape)} is ${a} by backward but ${numeric} by finite differences ` +
            `(eps ${eps}, atol ${atol}, rtol ${rtol})`);
        }
      }
    }
  }
  return true;
}

/**
 * Gradchecks the gradient of `fn`: the function (inputs…, v) ↦ the gradients of fn(inputs)·v with respect to the
 * inputs that require one (flattened and joined), with v a random gradient of the output's shape.
 */
export async function gradgradcheck(fn: Fn, inputs: readonly Tensor[], options: GradcheckOptions & { seed?: number } = {}): Promise<boolean> {
  const device = checkInputs('gradgradcheck', inputs);
  const wrt = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const outShape = noGrad(() => tidy(() => [...fn(...inputs).shape]));
  const gen = new Generator(options.seed ?? 1);
  const size = outShape.reduce((a, b) => a * b, 1);
  const v = tensor(Float64Array.from({ length: size }, () => gen.random() * 2 - 1),
    { shape: outShape, dtype: 'float64', device, requiresGrad: true });
  const gradOf = (...xs: Tensor[]) => {
    const vv = xs[xs.length - 1];
    const ins = xs.slice(0, -1);
    const y = fn(...ins);
    const gs = grad(y, wrt.map((i) => ins[i]), { gradOutputs: vv, createGraph: true, allowUnused: true });
    return concat(gs.map((g) => reshape(g, [g.size])), 0);
  };
  try {
    return await gradcheck(gradOf, [...inputs, v], options);
  } finally {
    v.dispose();
  }
}
