/**
 * The playground's second tab, without the page: homework 1-1's models (deep, medium and shallow, ~571 parameters
 * each) fitting f1 = sin(5πx)/(5πx) by full-batch Adam on the MSE, a few steps at a time so a page can redraw between
 * them. The models, the data, the training step and the figures are the experiment's own (src/experiments/
 * fit-functions.ts and common.ts): the page shows the same charts the report draws, from the same specifications.
 */
import * as gg from '../index.js';
import type { Adam, DeviceName, Module, Tensor } from '../index.js';
import { FUNCTION_MODELS, mlp } from '../experiments/models.js';
import { regressionStep } from '../experiments/regression.js';
import fitFunctions from '../experiments/fit-functions.js';
import type { Figure, Results, Row } from '../run/types.js';

export type ModelName = keyof typeof FUNCTION_MODELS;
export const MODEL_NAMES = Object.keys(FUNCTION_MODELS) as ModelName[];

export interface FitOptions {
  models?: readonly ModelName[];
  /** Adam's learning rate (the experiment's default: 1e-3) */
  lr?: number;
  seed?: number;
  device?: DeviceName;
}

/** A training in progress: `await fit.run(k)` takes k more steps of every model and returns their losses. */
export class Fit {
  readonly models: ReadonlyMap<ModelName, { net: Module; opt: Adam; params: number }>;
  readonly lr: number;
  /** iterations taken so far */
  iteration = 0;
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly data = gg.f1();
  private disposed = false;

  constructor(o: FitOptions = {}) {
    const names = o.models ?? MODEL_NAMES;
    if (!names.length) throw new gg.GpugradError('fit: choose at least one model (deep, medium or shallow)');
    this.lr = o.lr ?? 1e-3;
    if (!(this.lr > 0 && this.lr < 1)) throw new gg.GpugradError(`fit: the learning rate must be between 0 and 1, got ${o.lr}`);
    const device = o.device ? { device: o.device } : {};
    const n = this.data.x.length;
    this.x = gg.tensor(this.data.x, { shape: [n, 1], dtype: 'float32', ...device });
    this.y = gg.tensor(this.data.y, { shape: [n, 1], dtype: 'float32', ...device });
    const seed = o.seed ?? 0;
    this.models = new Map(names.map((name, i) => {
      const net = mlp(FUNCTION_MODELS[name], new gg.Generator(seed * 1000 + i), o.device ? { device: o.device } : {});
      const opt = new gg.Adam(net.parameters(), { lr: this.lr });
      return [name, { net, opt, params: net.parameters().reduce((a, p) => a + p.size, 0) }];
    }));
  }

  /** `steps` more Adam steps of every model; their losses (the MSE before each update) in one readback. */
  async run(steps: number): Promise<Row[]> {
    if (this.disposed) throw new gg.GpugradError('fit: this training was disposed; start a new one');
    const names = [...this.models.keys()];
    const losses: Tensor[] = [];
    for (let s = 0; s < steps; s++) {
      for (const m of this.models.values()) losses.push(regressionStep(m.net, m.opt, this.x, this.y).loss);
    }
    const all = gg.stack(losses, 0);
    for (const l of losses) l.dispose();
    const values = await all.data();
    all.dispose();
    const rows: Row[] = [];
    for (let s = 0; s < steps; s++) {
      names.forEach((model, m) => rows.push({ function: 'f1', model, iteration: this.iteration + s, mse: values[s * names.length + m] }));
    }
    this.iteration += steps;
    return rows;
  }

  /** Each model's prediction on the data's x, as the experiment logs it (with the ground truth beside it). */
  async predictions(): Promise<Row[]> {
    const rows: Row[] = [];
    for (const [model, m] of this.models) {
      const out = gg.tidy(() => gg.noGrad(() => m.net.forward(this.x)));
      const y = await out.data();
      out.dispose();
      this.data.x.forEach((x, i) => rows.push({ function: 'f1', model, x, y: y[i], truth: this.data.y[i] }));
    }
    return rows;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.models.values()) { m.opt.zeroGrad(); m.opt.dispose(); m.net.dispose(); }
    this.x.dispose();
    this.y.dispose();
  }
}

/**
 * The experiment's f1 figures (loss on a log scale, predictions against the truth) for these rows: the same
 * specifications as the report's, so the page and the report cannot drift apart.
 */
export function fitFigures(loss: Row[], prediction: Row[]): Figure[] {
  const results = { config: {}, final: {}, series: { loss, prediction } } as unknown as Results; // one seed, as the page trains
  return fitFunctions.figures(results).filter((f) => f.name.startsWith('f1-'));
}
