/**
 * `Module`, the base of every layer (as torch.nn.Module): it owns named parameters and child modules, and from them
 * derives `parameters()`, `namedParameters()` with PyTorch's dotted keys (`0.weight`, `features.3.bias`),
 * `stateDict()`/`loadStateDict()`, `train()`/`eval()` and the parameter count.
 *
 * Parameters are long-lived: they are kept out of `tidy` scopes (free them with `module.dispose()`).
 */
import { check, fmtShape } from '../core/errors.js';
import { shapesEqual, sizeOf } from '../core/shape.js';
import { keep } from '../tensor/memory.js';
import { cast } from '../tensor/ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { copyInto } from './assign.js';

export abstract class Module {
  /** Whether the module is in training mode (Dropout drops only then). */
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly children = new Map<string, Module>();

  /** The computation. Layers take one tensor; losses take (prediction, target). */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Registers `t` as a parameter called `name` (null: an absent optional parameter, like a bias turned off). */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    check(!this.params.has(name) && !this.children.has(name), this.constructor.name, `'${name}' is registered twice`);
    if (t) {
      check(t.dtype !== 'int32', this.constructor.name, `parameter '${name}' must be floating-point, got int32`);
      keep(t.requiresGrad_());
      t.name = name;
    }
    this.params.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    check(m instanceof Module, this.constructor.name, `'${name}' is not a Module`);
    check(!this.params.has(name) && !this.children.has(name), this.constructor.name, `'${name}' is registered twice`);
    this.children.set(name, m);
    return m;
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] { return [...this.children]; }

  /** Every parameter with its dotted name, this module's own first, then each child's in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.params) if (t) out.push([prefix + name, t]);
    for (const [name, m] of this.children) out.push(...m.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  /** The number of scalar parameters (571 for the 1-5-10-10-10-10-10-5-1 MLP). */
  numParameters(): number { return this.parameters().reduce((n, p) => n + sizeOf(p.shape), 0); }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  eval(): this { return this.train(false); }

  /** Clears the gradients of all parameters (sets `.grad` to null, disposing it). */
  zeroGrad(): void {
    for (const p of this.parameters()) { p.grad?.dispose(); p.grad = null; }
  }

  /** The parameters by PyTorch-style key. The tensors themselves, not copies: save them, or read them. */
  stateDict(): Record<string, Tensor> { return Object.fromEntries(this.namedParameters()); }

  /**
   * Copies values into the parameters, in place (so optimizers holding them see the new values). Float dtypes are
   * converted. With `strict` (default) every key must match; otherwise the missing and unexpected keys are returned.
   */
  loadStateDict(state: Readonly<Record<string, Tensor>>, { strict = true } = {}): { missing: string[]; unexpected: string[] } {
    check(typeof state === 'object' && state !== null, 'loadStateDict', 'needs a state dict: an object of tensors by name');
    for (const [k, v] of Object.entries(state)) check(v instanceof Tensor, 'loadStateDict', () => `'${k}' is not a Tensor`);
    const own = new Map(this.namedParameters());
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    check(!strict || (missing.length === 0 && unexpected.length === 0), 'loadStateDict',
      () => `keys do not match: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}` +
        ' (pass {strict: false} to load what matches)');
    noGrad(() => {
      for (const [key, p] of own) {
        const src = state[key];
        if (!src) continue;
        check(shapesEqual(src.shape, p.shape), 'loadStateDict',
          () => `'${key}' has shape ${fmtShape(src.shape)} in the state dict but ${fmtShape(p.shape)} in the module`);
        check(src.device === p.device, 'loadStateDict', `'${key}' is on ${src.device} but the module is on ` +
          `${p.device}; load the file onto the module's device: load(path, {device: '${p.device}'})`);
        check(src.dtype !== 'int32', 'loadStateDict', `'${key}' is int32; parameters are floating-point`);
        const value = cast(src, p.dtype);
        copyInto(p, value);
        if (value !== src) value.dispose();
      }
    });
    return { missing, unexpected };
  }

  /** Frees the parameters. The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }

  /** A PyTorch-like summary: `Sequential(\n  (0): Linear(in=1, out=5)\n ...)`. */
  toString(): string {
    const children = [...this.children].map(([n, m]) => `  (${n}): ${m.toString().replace(/\n/g, '\n  ')}`);
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    return children.length ? `${head}\n${children.join('\n')}\n)` : `${head})`;
  }

  /** The arguments shown by toString(). */
  protected extraRepr(): string { return ''; }
}
