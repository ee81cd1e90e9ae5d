/**
 * The named examples of `gpugrad graph <name>` and of the playground's expression tab. No library import here, so
 * listing them (--help, the page's menu) loads nothing.
 */

/** `name = [numbers]` per line or `;`, e.g. `x = [1, -2, 3]; y = [0.5, 2, -1]`. */
export type VariablesText = string;

export interface Example {
  expression: string;
  variables: VariablesText;
  /** what it shows, one sentence */
  about: string;
}

/** Named examples for `gpugrad graph <name>` and the page's menu. */
export const EXAMPLES: Record<string, Example> = {
  'mul-relu': {
    expression: 'x.mul(y).relu().sum()',
    variables: 'x = [1, -2, 3]\ny = [0.5, 2, -1]',
    about: 'an elementwise product through a ReLU: the gradient flows only where the product was positive',
  },
  neuron: {
    expression: 'x.mul(w).sum().add(b).tanh()',
    variables: 'x = [2, 0]\nw = [-3, 1]\nb = 6.8813735870195432',
    about: "micrograd's neuron: tanh(w·x + b), with b chosen so that the output is √2/2",
  },
  mlp: {
    expression: 'x.matmul(w1).relu().matmul(w2).sub(t).square().mean()',
    variables: 'x = [[0.5, -1], [2, 0.25]]\nw1 = [[1, -0.5, 0.25], [0.5, 1, -1]]\nw2 = [[1], [-2], [0.5]]\nt = [[1], [0]]',
    about: 'a two-layer perceptron and its squared error: matmul, ReLU, the loss',
  },
  cube: {
    expression: 'p.pow(3).sum()',
    variables: 'p = [1, -2, 0.5]',
    about: 'Σ p³, whose Hessian is diag(6p): H·v with v = 1 is 6p',
  },
};
