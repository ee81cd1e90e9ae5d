/**
 * The experiments, in the homework's order. Each lives in its own file and is loaded on demand (loading one imports
 * the library, which probes WebGPU: the CLI sets the device up first).
 */
import type { Experiment } from '../run/types.js';

export const EXPERIMENT_NAMES = [
  'fit-functions',
  'mnist-cnns',
  'cifar-cnns',
  'optimization-path',
  'grad-norm',
  'minimal-ratio',
  'random-labels',
  'params-vs-generalization',
  'interpolation',
  'sensitivity',
] as const;

export type ExperimentName = (typeof EXPERIMENT_NAMES)[number];

export function isExperimentName(name: string): name is ExperimentName {
  return (EXPERIMENT_NAMES as readonly string[]).includes(name);
}

export async function loadExperiment(name: ExperimentName): Promise<Experiment<any>> {
  const mod = (await import(`./${name}.js`)) as { default?: Experiment<any> };
  if (!mod.default?.run) throw new Error(`experiment ${name} is not implemented yet (src/experiments/${name}.ts exports no experiment)`);
  return mod.default;
}
