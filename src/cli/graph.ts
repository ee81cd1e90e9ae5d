/**
 * `gpugrad graph <expression | example>`: the autograd graph of a small expression as an SVG picture (or DOT text),
 * laid out by Graphviz compiled to WebAssembly, so nothing needs installing. Runs on the CPU backend by default: the
 * graphs are a handful of numbers, and no GPU needs waking for them.
 */
import { writeFileSync } from 'node:fs';
import { UsageError, choiceFlag, parse } from './args.js';

export const GRAPH_HELP = `Usage: gpugrad graph <expression | example> [flags]

Draws the autograd graph of an expression in gpugrad's API as SVG: tensors as boxes (name, shape, values,
gradients), ops as ellipses; with --hvp, the graph of ∇L·v, whose backward-recorded ops are orange.

  gpugrad graph 'x.mul(y).relu().sum()' --backward
  gpugrad graph 'x.matmul(w).tanh().mean()' --vars 'x = [[1, 2]]; w = [[0.5], [-1]]' --out net.svg
  gpugrad graph cube --hvp

Examples: EXAMPLES.

Flags:
  --vars TEXT           the variables, each "name = number or nested array", separated by ; (default:
                        x = [1, -2, 3]; y = [0.5, 2, -1]; z = [2, 0.5, -1], or the example's own)
  --backward            run backward first: every tensor shows its gradient
  --hvp                 draw H·v's graph (∇L·v with v = 1; the graph recorded by backward is orange)
  --format svg|dot      SVG (default) or the DOT text behind it
  --out FILE            where to write (default graph.svg or graph.dot; - for stdout)
  --device cpu|webgpu   where to compute (default cpu)
`;

export const DEFAULT_VARIABLES = 'x = [1, -2, 3]; y = [0.5, 2, -1]; z = [2, 0.5, -1]';

export async function graphCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('graph', argv, {
    vars: { type: 'string' }, backward: { type: 'boolean' }, hvp: { type: 'boolean' }, format: { type: 'string' },
    out: { type: 'string' }, device: { type: 'string' },
  }, 1);
  const { EXAMPLES } = await import('../playground/examples.js');
  if (values.help) { process.stdout.write(GRAPH_HELP.replace('EXAMPLES', Object.keys(EXAMPLES).join(', '))); return 0; }
  const format = choiceFlag(values, 'format', ['svg', 'dot'] as const, 'graph') ?? 'svg';
  const device = choiceFlag(values, 'device', ['cpu', 'webgpu'] as const, 'graph') ?? 'cpu';
  if (values.backward && values.hvp) throw new UsageError('--backward and --hvp draw different graphs: choose one', 'graph');
  const what = positionals[0];
  if (!what) throw new UsageError(`say what to draw: an expression such as 'x.mul(y).relu().sum()', or one of ${Object.keys(EXAMPLES).join(', ')}`, 'graph');
  const example = EXAMPLES[what];
  const expression = example?.expression ?? what;
  const variables = (values.vars as string | undefined) ?? example?.variables ?? DEFAULT_VARIABLES;

  // the library probes WebGPU when it loads: on the CPU, keep it from waking the GPU at all
  if (device === 'cpu') { process.env.GPUGRAD_WEBGPU ??= '0'; process.env.GPUGRAD_DEVICE ??= 'cpu'; }
  const { drawExpression } = await import('../playground/draw.js');
  const text = await drawExpression(expression, variables, { mode: values.hvp ? 'hvp' : values.backward ? 'backward' : 'forward', format, device });
  const out = (values.out as string | undefined) ?? `graph.${format}`;
  if (out === '-') process.stdout.write(text);
  else {
    writeFileSync(out, text);
    process.stderr.write(`gpugrad: ${out}\n`);
  }
  return 0;
}
