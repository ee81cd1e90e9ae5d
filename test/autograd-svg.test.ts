/**
 * Graphs as pictures: the derivative order each recorded op carries (what the picture highlights), toSvg through the
 * Graphviz wasm build, the expressions behind `gpugrad graph` and the playground (errors, H·v, memory), and the
 * command itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { g, throwsGpugrad } from './helpers.js';
import { backwardAll, evaluate, hvpGraph } from '../src/playground/expression.js';
import { drawExpression } from '../src/playground/draw.js';
import { EXAMPLES } from '../src/playground/examples.js';
import type { Tensor } from '../src/index.js';
import { nodeOf } from '../src/autograd/graph.js';

g.setDevice('cpu');
const orderOf = (t: Tensor) => nodeOf(t)!.order;
const values = async (t: Tensor) => Array.from(await t.data());
/** Graphviz writes some characters as entities (- as &#45;): decode them before looking for text. */
const decoded = (svg: string) => svg.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

test('ops recorded by a createGraph backward are one derivative order above the op they differentiate', () => {
  const x = g.tensor([1, -2, 0.5], { requiresGrad: true });
  const y = x.pow(3).sum();
  assert.is(orderOf(y), 0);
  const [dx] = g.grad(y, [x], { createGraph: true });
  assert.is(orderOf(dx), 1, 'the gradient was computed by recorded rules of forward ops');
  const [ddx] = g.grad(dx.sum(), [x], { createGraph: true });
  assert.is(orderOf(ddx), 2, 'differentiating the gradient records order-2 ops');
  const after = x.mul(2);
  assert.is(orderOf(after), 0, 'recording goes back to order 0 after the backward pass');
  const [plain] = g.grad(x.exp().sum(), [x]);
  assert.is(plain.gradFn, null, 'a backward without createGraph records nothing');
});

test('an error inside a recorded rule does not leave the recording order raised', () => {
  const x = g.tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  throwsGpugrad(() => g.grad(y, [x], { createGraph: true }), /already freed/, 'freed graph');
  assert.is(orderOf(x.mul(2)), 0);
});

test('toSvg draws every tensor and op, with ids and classes a page can find, values and gradients', async () => {
  const x = g.tensor([1, -2, 3], { requiresGrad: true });
  x.name = 'x';
  const loss = x.mul(2).relu().sum();
  loss.backward();
  const svg = decoded(await g.toSvg(loss, { values: true, grads: true }));
  assert.ok(svg.startsWith('<svg'), 'an <svg> element, without the XML prolog');
  for (const id of [`t${x.id}`, `t${loss.id}`]) assert.ok(svg.includes(`id="${id}"`), `box ${id}`);
  assert.match(svg, /class="node tensor leaf order0"/);
  assert.match(svg, /class="node tensor root order0"/);
  for (const text of ['x #', 'data [1, -2, 3]', 'grad [2, 0, 2]', '>relu<', '>mul<', '>sum<']) assert.ok(svg.includes(text), text);
  assert.not.match(svg, /createGraph/, 'no orange legend on a first-order graph');
});

test('stableIds: the same computation gives the same text whatever the library created before it', async () => {
  const draw = async (stableIds: boolean) => {
    const w = g.tensor([0.5, -1], { requiresGrad: true });
    w.name = 'w';
    const dot = await g.toDot(w.mul(3).relu().sum(), { values: true, stableIds });
    g.tensor([1, 2, 3]); // the library (or anything else) made a tensor more
    return dot;
  };
  assert.is(await draw(true), await draw(true));
  assert.is.not(await draw(false), await draw(false));
  assert.match(await draw(true), /id="t1".*label="w\|\[2\] float32/);
});

test('H·v: the recorded backward is highlighted, and H·v is right', async () => {
  const e = evaluate(EXAMPLES.cube.expression, EXAMPLES.cube.variables);
  const h = hvpGraph(e, EXAMPLES.cube.expression);
  assert.equal(await values(h.hv.get('p')!), [6, -12, 3]); // 6p·1
  const svg = await g.toSvg(h.dot, { values: true });
  assert.match(svg, /recorded by a backward pass with createGraph/);
  assert.ok((svg.match(/class="node op order1"/g) ?? []).length >= 3, 'the rule of pow, recorded, is drawn in orange');
  assert.ok(svg.includes('#fed7aa'));
  assert.ok(svg.includes('∇L·v #'));
  h.dispose();
  e.dispose();
});

test('expressions: one evaluation, backward, H·v and dispose leave no tensor behind', async () => {
  const before = g.memory().cpu.tensors;
  for (const [name, ex] of Object.entries(EXAMPLES)) {
    const e = evaluate(ex.expression, ex.variables);
    backwardAll(e, ex.expression);
    for (const t of e.backwardOrder) assert.ok(t.grad, `${name}: every intermediate keeps its gradient`);
    const h = hvpGraph(e, ex.expression);
    await g.toSvg(h.dot, { values: true });
    h.dispose();
    e.dispose();
  }
  assert.is(g.memory().cpu.tensors, before);
});

test('expressions: mistakes are GpugradErrors that say what to do, and leave no tensor behind', () => {
  const vars = 'x = [1, 2]';
  const before = g.memory().cpu.tensors;
  throwsGpugrad(() => evaluate('x.mul(q)', vars), /q is not defined .*the variables are x and gg/, 'unknown name');
  throwsGpugrad(() => evaluate('x.mul(', vars), /not valid JavaScript/, 'syntax');
  throwsGpugrad(() => evaluate('3', vars), /gives number, not a tensor/, 'not a tensor');
  throwsGpugrad(() => evaluate('x.detach()', vars), /does not depend on any variable/, 'no graph');
  throwsGpugrad(() => evaluate('x.matmul(x.reshape([1, 2]))', vars), /matmul/, 'shapes');
  throwsGpugrad(() => evaluate('x', 'x = [1, "a"]'), /nested array of numbers/, 'bad value');
  throwsGpugrad(() => evaluate('x', 'x [1]'), /write name = \[numbers\]/, 'no =');
  throwsGpugrad(() => evaluate('x', 'gg = [1]'), /cannot name a variable/, 'reserved');
  const e = evaluate('x.mul(2)', vars);
  throwsGpugrad(() => backwardAll(e, 'x.mul(2)'), /shape \[2\]; backward needs one number: end it with \.sum\(\)/, 'not scalar');
  e.dispose();
  assert.is(g.memory().cpu.tensors, before, 'a failed expression disposed what it had made');
});

test('dotToSvg: a graph Graphviz cannot read is a GpugradError quoting Graphviz', async () => {
  try {
    await g.dotToSvg('digraph { a -> }');
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, g.GpugradError);
    assert.match((e as Error).message, /toSvg: Graphviz could not lay out the graph: .*syntax error/);
  }
});

test('drawExpression gives DOT or SVG for each mode', async () => {
  const dot = await drawExpression('x.mul(y).sum()', 'x = [1, 2]; y = [3, 4]', { mode: 'backward', format: 'dot' });
  assert.match(dot, /grad \[3, 4\]/);
  assert.match(await drawExpression('x.tanh().sum()', 'x = [0.5]', { mode: 'hvp' }), /order1/);
});

const bin = join(process.cwd(), 'bin/gpugrad.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], {
  encoding: 'utf8', timeout: 60_000, env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' },
});

test('gpugrad graph writes the picture; mistakes exit 2 (usage) or 1 (the expression) with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpugrad-graph-'));
  try {
    const out = join(dir, 'g.svg');
    const r = cli('graph', 'x.mul(y).relu().sum()', '--backward', '--out', out);
    assert.is(r.status, 0, r.stderr);
    const svg = decoded(readFileSync(out, 'utf8'));
    for (const text of ['>relu<', 'x #', 'y #', 'grad [0.5, 0, 0]']) assert.ok(svg.includes(text), text);
    const dot = cli('graph', 'neuron', '--format', 'dot', '--out', '-');
    assert.is(dot.status, 0, dot.stderr);
    assert.match(dot.stdout, /label="tanh"/);
    assert.match(cli('graph', '--help').stdout, /Examples: mul-relu, neuron, mlp, cube/);
    for (const [args, status, pattern] of [
      [['graph'], 2, /say what to draw/],
      [['graph', 'x.sum()', '--backward', '--hvp'], 2, /choose one/],
      [['graph', 'x.sum()', '--format', 'png'], 2, /--format must be one of svg, dot/],
      [['graph', 'x.mul(q)', '--out', out], 1, /q is not defined/],
    ] as const) {
      const bad = cli(...args);
      assert.is(bad.status, status, `${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, pattern);
      assert.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
