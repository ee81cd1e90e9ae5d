/**
 * The networks of docs/protocol.md, written as PyTorch's `nn.Sequential`s (so their state-dict keys match the original’s).
 * Each takes the generator its initial values are drawn from.
 */
import * as g from '../index.js';
import type { Generator, Module, Tensor } from '../index.js';

/** Linear layers of the given widths with ReLU between them (none after the last): PyTorch's default init. */
export function mlp(widths: readonly number[], generator: g.Generator, opts: { device?: g.DeviceName; dtype?: g.DType } = {}): g.Sequential {
  const layers: Module[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(new g.Linear(widths[i], widths[i + 1], { generator, ...opts }));
    if (i + 2 < widths.length) layers.push(new g.ReLU());
  }
  return new g.Sequential(...layers);
}

/** The function-fitting models of 1-1 (deep is also the model of 2-2 and 2-3). */
export const FUNCTION_MODELS = {
  deep: [1, 5, 10, 10, 10, 10, 10, 5, 1],
  medium: [1, 10, 18, 15, 4, 1],
  shallow: [1, 190, 1],
} as const;

/** Several modules as one (parameter keys `<name>.<key>`), so trainingState/resumeTraining checkpoint them together. */
export class ModuleGroup extends g.Module {
  constructor(modules: Record<string, Module>) {
    super();
    for (const [name, m] of Object.entries(modules)) this.registerModule(name, m);
  }
  forward(x: Tensor): Tensor { return x; }
}

const relu = () => new g.ReLU();
const pool = () => new g.MaxPool2d(2);

/** 1-2 MNIST CNN-A (371 581 parameters); also the model of 3-1. */
export function cnnA(generator: Generator): g.Sequential {
  return new g.Sequential(
    new g.Conv2d(1, 10, 3, { generator }), relu(), pool(),
    new g.Conv2d(10, 16, 3, { generator }), relu(), pool(),
    new g.Flatten(),
    new g.Linear(400, 512, { generator }), relu(),
    new g.Linear(512, 256, { generator }), relu(),
    new g.Linear(256, 125, { generator }), relu(),
    new g.Linear(125, 10, { generator }),
  );
}

/** 1-2 MNIST CNN-B (228 010 parameters), with dropout. */
export function cnnB(generator: Generator, dropoutGenerator: Generator): g.Sequential {
  const drop = () => new g.Dropout(0.5, dropoutGenerator);
  return new g.Sequential(
    new g.Conv2d(1, 32, 5, { generator }), relu(),
    new g.Conv2d(32, 32, 5, { generator }), relu(), pool(), drop(),
    new g.Conv2d(32, 64, 5, { generator }), relu(), pool(), drop(),
    new g.Flatten(),
    new g.Linear(576, 256, { generator }), relu(), drop(),
    new g.Linear(256, 10, { generator }),
  );
}

/** 1-2 CIFAR-10 CNN-1 (4 210 090 parameters). */
export function cnn1(generator: Generator, dropoutGenerator: Generator): g.Sequential {
  return new g.Sequential(
    new g.Conv2d(3, 32, 3, { padding: 1, generator }), relu(), new g.Dropout(0.3, dropoutGenerator),
    new g.Conv2d(32, 32, 3, { padding: 1, generator }), relu(), pool(),
    new g.Flatten(),
    new g.Linear(8192, 512, { generator }), relu(),
    new g.Linear(512, 10, { generator }),
  );
}

/** 1-2 CIFAR-10 CNN-2 (2 299 258 parameters: fewer than CNN-1, though the original report says more). */
export function cnn2(generator: Generator): g.Sequential {
  return new g.Sequential(
    new g.Conv2d(3, 96, 3, { padding: 1, generator }), relu(), pool(),
    new g.Conv2d(96, 80, 3, { padding: 1, generator }), relu(), pool(),
    new g.Conv2d(80, 96, 3, { padding: 1, generator }), relu(),
    new g.Conv2d(96, 64, 3, { padding: 1, generator }), relu(),
    new g.Flatten(),
    new g.Linear(4096, 512, { generator }), relu(),
    new g.Linear(512, 10, { generator }),
  );
}

/** 3-3 the small CNN of the flatness experiments (14 718 parameters). */
export function flatnessCnn(generator: Generator): g.Sequential {
  return new g.Sequential(
    new g.Conv2d(1, 10, 3, { generator }), relu(), pool(),
    new g.Conv2d(10, 16, 3, { generator }), relu(), pool(),
    new g.Flatten(),
    new g.Linear(400, 32, { generator }), relu(),
    new g.Linear(32, 10, { generator }),
  );
}

/** An MNIST MLP 784-h…-10 with ReLUs, flattening the images first (2-1, 3-2). Keys: `1.weight` is the first layer. */
export function mnistMlp(hidden: readonly number[], generator: Generator): g.Sequential {
  const widths = [784, ...hidden, 10];
  const layers: g.Module[] = [new g.Flatten()];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(new g.Linear(widths[i], widths[i + 1], { generator }));
    if (i + 2 < widths.length) layers.push(relu());
  }
  return new g.Sequential(...layers);
}
