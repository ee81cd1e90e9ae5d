/**
 * The Hessian spectrum of a small MLP's MSE (minimal-ratio's phase 3): its full P×P Hessian, computed on whatever
 * device and dtype the inputs live on (float64 on the CPU gives clean small eigenvalues), and its eigenvalue counts
 * against τ = tauRel·max|λ| (ml-matrix's symmetric eigendecomposition). Pure computation with no Node built-in, so it
 * runs the same in the main thread and in the worker threads of `HessianPool` (hessian-pool.ts).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { GpugradError, check } from '../core/errors.js';
import { tensor } from '../tensor/creation.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
// from autograd's index, which plugs the engine into the tensor floor: a worker thread loads only this side of the library
import { hessian } from '../autograd/index.js';
import { MLPEnsemble, ensembleHessian, ensembleMSE } from './ensemble.js';
import { mseLoss } from './functional.js';
import { Linear, ReLU, Sequential } from './layers.js';
import type { Module } from './module.js';

/** Host values of one network's parameters, by the state-dict keys of its Sequential (`0.weight`, `0.bias`, `2.weight`, …). */
export type HostParams = Record<string, ArrayLike<number>>;

export interface Spectrum {
  taskRatio: number; nPositive: number; nNearZero: number; nNegative: number; lambdaMax: number; lambdaMin: number; tau: number;
}

/** Eigenvalues of a symmetric n×n matrix given row-major (symmetrised against rounding). */
export function symmetricEigenvalues(d: ArrayLike<number>, n: number, round32 = false): number[] {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (d[i * n + j] + d[j * n + i]);
      m.set(i, j, round32 ? Math.fround(v) : v);
    }
  }
  return new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues;
}

/** Eigenvalue counts of an n×n Hessian (row-major) against τ = tauRel·max|λ|. */
export function spectrumOf(h: ArrayLike<number>, n: number, tauRel: number): Spectrum {
  const lambda = symmetricEigenvalues(h, n);
  const maxAbs = Math.max(...lambda.map(Math.abs));
  const tau = tauRel * maxAbs;
  const nPos = lambda.filter((l) => l > tau).length;
  const nNeg = lambda.filter((l) => l < -tau).length;
  return { taskRatio: nPos / n, nPositive: nPos, nNearZero: n - nPos - nNeg, nNegative: nNeg, lambdaMax: Math.max(...lambda), lambdaMin: Math.min(...lambda), tau };
}

/**
 * The Hessians' spectra of one or more MLPs of layer widths `sizes` (ReLU between layers, as MLPEnsemble), on inputs
 * x [B, in] and targets y [B, out] — their device and dtype are the models'. One network: `hessian` of a Sequential
 * (no stacking and slicing to pay); several: one MLPEnsemble of them and `ensembleHessian` (P backward passes over
 * all of them together instead of P per network).
 */
export async function hessianSpectra(sizes: readonly number[], params: readonly HostParams[], x: Tensor, y: Tensor, tauRel: number): Promise<Spectrum[]> {
  check(Array.isArray(params) && params.length > 0, 'hessianSpectra', 'needs the parameters of at least one network');
  const k = params.length;
  const on = { device: x.device, dtype: x.dtype };
  if (k === 1) {
    const copy = loadHost(sizes, sequential(sizes, on), params);
    const H = hessian(() => mseLoss(copy.forward(x), y), copy.parameters());
    const spectrum = spectrumOf(await H.data(), H.shape[0], tauRel);
    H.dispose();
    copy.dispose();
    return [spectrum];
  }
  const ens = loadHost(sizes, new MLPEnsemble(k, sizes, { ...on, generators: params.map(() => new Generator(0)) }), params);
  const H = ensembleHessian(() => ensembleMSE(ens.forward(x), y).sum(), ens.parameters());
  const n = H.shape[1];
  const all = await H.data();
  H.dispose();
  ens.dispose();
  return params.map((_, i) => spectrumOf(all.subarray(i * n * n, (i + 1) * n * n), n, tauRel));
}

/** One MLP as the Sequential the host values' keys name (its initial values, from a throwaway generator, are replaced). */
function sequential(sizes: readonly number[], on: { device: Tensor['device']; dtype: Tensor['dtype'] }): Sequential {
  const generator = new Generator(0);
  return new Sequential(...sizes.slice(1).flatMap((out, l) => {
    const linear = new Linear(sizes[l], out, { generator, ...on });
    return l + 2 < sizes.length ? [linear, new ReLU()] : [linear];
  }));
}

/**
 * `model` (one network, or an ensemble of params.length stacked along the first dimension) with the host values
 * loaded; the state tensors are released, and so is the model when a network's values do not fit it.
 */
function loadHost<M extends Module>(sizes: readonly number[], model: M, params: readonly HostParams[]): M {
  const k = params.length;
  const state: Record<string, Tensor> = {};
  try {
    for (const [key, t] of model.namedParameters()) {
      const len = t.size / k;
      const values = new Float64Array(t.size);
      params.forEach((p, i) => {
        const v = p[key];
        if (!v || v.length !== len) {
          throw new GpugradError(`hessianSpectra: network ${i} gives ${v ? `${v.length} values` : 'no values'} for '${key}', ` +
            `the MLP [${sizes}] needs ${len}; give each network's parameters by its Sequential's state-dict keys`);
        }
        values.set(v, i * len);
      });
      state[key] = tensor(values, { shape: [...t.shape], device: t.device, dtype: t.dtype });
    }
    model.loadStateDict(state);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
  return model;
}
