/**
 * Tab 1: an expression's forward graph, its gradients filling in node by node, and H·v's graph. The graph is drawn
 * once with every gradient (so the layout does not move), the gradient rows are hidden, then revealed in the order
 * backward visits the tensors: the result first, each op's inputs after it, the leaves last.
 */
import * as gg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { EXAMPLES } from '../src/playground/examples.js';
import { type Evaluated, type HvpGraph, backwardAll, evaluate, hvpGraph } from '../src/playground/expression.js';
import { $, fmtValues, messageOf, sleep, status } from './dom.js';

/** ms between two gradients appearing */
const STEP_MS = 450;
/** below this window width (px), graphs are drawn top to bottom */
const NARROW = 720;

let current: { e: Evaluated; expression: string; hvp?: HvpGraph } | null = null;
/** bumped by every new drawing, so an animation still running for an old graph stops */
let generation = 0;

function release(): void {
  current?.hvp?.dispose();
  current?.e.dispose();
  current = null;
}

async function showSvg(container: HTMLElement, root: Tensor, grads: boolean): Promise<SVGSVGElement> {
  // a narrow window gets the graph top to bottom: boxes wider than the screen would make it scroll sideways
  const direction = window.innerWidth < NARROW ? 'TB' : 'LR';
  container.innerHTML = await gg.toSvg(root, { values: true, grads, direction });
  container.dataset.state = 'drawn';
  return container.querySelector('svg')!;
}

async function leafValues(el: HTMLElement, label: string, tensors: [string, Tensor | null][]): Promise<void> {
  const parts = await Promise.all(tensors.map(async ([name, t]) => (t ? `${label.replace('NAME', name)} = ${fmtValues(await t.data())}` : '')));
  el.textContent = '';
  for (const p of parts.filter(Boolean)) el.append(Object.assign(document.createElement('span'), { textContent: p }));
}

async function draw(): Promise<void> {
  const gen = ++generation;
  const expression = $<HTMLInputElement>('#expr').value.trim();
  const out = $('#expr-status');
  for (const id of ['#backward', '#hvp']) $<HTMLButtonElement>(id).disabled = true;
  for (const id of ['#graph', '#hvp-graph']) { $(id).dataset.state = 'empty'; $(id).innerHTML = ''; }
  for (const id of ['#leaf-grads', '#hvp-values']) $(id).textContent = '';
  $('#hvp-title').hidden = true;
  release();
  try {
    const e = evaluate(expression, $<HTMLTextAreaElement>('#vars').value);
    current = { e, expression };
    await showSvg($('#graph'), e.root, false);
    if (gen !== generation) return;
    const n = e.backwardOrder.length;
    status(out, `${n} op${n === 1 ? '' : 's'} recorded. ${e.root.size === 1 ? 'Press backward.' : 'backward needs one number: end the expression with .sum() or .mean().'}`);
    $<HTMLButtonElement>('#backward').disabled = e.root.size !== 1;
    $<HTMLButtonElement>('#hvp').disabled = e.root.size !== 1;
  } catch (err) {
    status(out, messageOf(err), true);
  }
}

async function backward(): Promise<void> {
  if (!current) return;
  const gen = generation;
  const { e, expression } = current;
  const out = $('#expr-status');
  $<HTMLButtonElement>('#backward').disabled = true;
  try {
    backwardAll(e, expression);
    const svg = await showSvg($('#graph'), e.root, true);
    const graph = $('#graph');
    graph.dataset.state = 'backward';
    // hide every gradient row, then reveal them in the order backward filled them
    for (const text of svg.querySelectorAll('text')) if (text.textContent?.startsWith('grad ')) text.classList.add('grad');
    const order = [...e.backwardOrder, ...[...e.inputs.values()].filter((t) => t.grad)];
    for (const t of order) svg.querySelector(`#t${t.id}`)?.classList.add('pending');
    let filled = 0;
    for (const t of order) {
      if (gen !== generation) return;
      const node = svg.querySelector(`#t${t.id}`);
      node?.classList.remove('pending');
      node?.classList.add('filling');
      graph.dataset.filled = String(++filled);
      status(out, `backward: the gradient of ${t.name ?? `${t.gradFn?.op ?? 'leaf'} #${t.id}`} (${filled} of ${order.length})`);
      await sleep(STEP_MS);
      node?.classList.remove('filling');
    }
    graph.dataset.state = 'backward-done';
    status(out, 'Every gradient is in: read the grad rows from the result back to the leaves. Now try H·v.');
    await leafValues($('#leaf-grads'), 'NAME.grad', [...e.inputs].map(([k, t]) => [k, t.grad]));
  } catch (err) {
    status(out, messageOf(err), true);
  }
}

async function hvp(): Promise<void> {
  if (!current) return;
  const out = $('#expr-status');
  $<HTMLButtonElement>('#hvp').disabled = true;
  try {
    current.hvp ??= hvpGraph(current.e, current.expression);
    $('#hvp-title').hidden = false;
    await showSvg($('#hvp-graph'), current.hvp.dot, false);
    await leafValues($('#hvp-values'), '(H·v) for NAME', [...current.hvp.hv]);
    status(out, 'H·v: the orange ops are the first backward, recorded (createGraph); differentiating ∇L·v once more gives H·v.');
  } catch (err) {
    status(out, messageOf(err), true);
  }
}

export function setupGraphTab(): void {
  const select = $<HTMLSelectElement>('#example');
  select.append(new Option('(your own)', ''));
  for (const [name, ex] of Object.entries(EXAMPLES)) select.append(new Option(`${name}: ${ex.expression}`, name));
  select.addEventListener('change', () => {
    const ex = EXAMPLES[select.value];
    if (!ex) return;
    $<HTMLInputElement>('#expr').value = ex.expression;
    $<HTMLTextAreaElement>('#vars').value = ex.variables;
    void draw();
  });
  $('#expr-form').addEventListener('submit', (ev) => { ev.preventDefault(); void draw(); });
  $('#backward').addEventListener('click', () => void backward());
  $('#hvp').addEventListener('click', () => void hvp());
  void draw();
}
