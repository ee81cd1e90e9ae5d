/**
 * Tab 2: homework 1-1's three models fitting f1 live. Training runs in chunks of steps sized to ~150 ms, so the page
 * stays responsive; the loss curves and predictions are redrawn a few times a second from the experiment's own
 * figure specifications (one readback per chunk for all the losses).
 */
import type { Row } from '../src/run/types.js';
import { Fit, type ModelName, fitFigures } from '../src/playground/fit.js';
import { drawFigure } from './charts.js';
import { $, messageOf, status } from './dom.js';

const CHUNK_MS = 150;
const REDRAW_MS = 500;

let fit: Fit | null = null;
let running = false;

function buttons(training: boolean): void {
  $<HTMLButtonElement>('#fit-start').disabled = training;
  $<HTMLButtonElement>('#fit-stop').disabled = !training;
}

async function redraw(loss: Row[], f: Fit): Promise<void> {
  const [lossFigure, predFigure] = fitFigures(loss, await f.predictions());
  await drawFigure($('#fit-loss'), lossFigure, [`Adam, learning rate ${f.lr}, iteration ${f.iteration}`]);
  await drawFigure($('#fit-pred'), predFigure, [`after ${f.iteration} iterations`]);
}

async function train(): Promise<void> {
  const out = $('#fit-status');
  const models = [...document.querySelectorAll<HTMLInputElement>('input[name="model"]:checked')].map((i) => i.value as ModelName);
  const total = Number($<HTMLSelectElement>('#iterations').value);
  fit?.dispose();
  fit = null;
  try {
    fit = new Fit({ models, lr: Number($<HTMLSelectElement>('#lr').value) });
  } catch (err) {
    status(out, messageOf(err), true);
    return;
  }
  const f = fit;
  delete out.dataset.firstMse;
  delete out.dataset.state;
  running = true;
  buttons(true);
  const loss: Row[] = [];
  const started = performance.now();
  let chunk = 2, lastDraw = 0;
  try {
    while (running && f.iteration < total) {
      const t0 = performance.now();
      loss.push(...await f.run(Math.min(chunk, total - f.iteration)));
      const dt = performance.now() - t0;
      chunk = Math.max(1, Math.min(200, Math.round(chunk * Math.min(2, CHUNK_MS / Math.max(dt, 1)))));
      const latest = loss.slice(-models.length);
      const last = latest.map((r) => `${r.model} ${(r.mse as number).toExponential(2)}`).join(' · ');
      // the summed MSE of the models, first and now: what the tests read to see that training works
      out.dataset.firstMse ??= String(loss.slice(0, models.length).reduce((a, r) => a + (r.mse as number), 0));
      out.dataset.lastMse = String(latest.reduce((a, r) => a + (r.mse as number), 0));
      const rate = f.iteration / ((performance.now() - started) / 1000);
      status(out, `iteration ${f.iteration} of ${total} · MSE ${last} · ${rate.toFixed(0)} iterations/s`);
      out.dataset.iteration = String(f.iteration);
      if (performance.now() - lastDraw > REDRAW_MS || f.iteration >= total) {
        await redraw(loss, f);
        lastDraw = performance.now();
      }
    }
    if (!running) await redraw(loss, f);
    out.dataset.state = f.iteration >= total ? 'done' : 'stopped';
  } catch (err) {
    status(out, messageOf(err), true);
  } finally {
    running = false;
    buttons(false);
  }
}

export function setupFitTab(): void {
  $('#fit-form').addEventListener('submit', (ev) => { ev.preventDefault(); if (!running) void train(); });
  $('#fit-stop').addEventListener('click', () => { running = false; });
}
