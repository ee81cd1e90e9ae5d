/** Tab 3: gpugrad's kernels timed on the reader's adapter, one table row per measured size as it finishes. */
import * as gg from '../src/index.js';
import { type BenchResult, runBenchmarks } from '../src/playground/bench.js';
import { $, messageOf, status } from './dom.js';

function addRow(r: BenchResult): void {
  const row = document.createElement('tr');
  for (const [text, num] of [[r.case, false], [r.size, false], [r.ms.toFixed(r.ms < 10 ? 2 : 1), true], [r.gflops.toFixed(r.gflops < 10 ? 2 : 1), true]] as const) {
    const td = document.createElement('td');
    td.textContent = text;
    if (num) td.className = 'num';
    row.append(td);
  }
  $('#bench-table tbody').append(row);
}

async function run(): Promise<void> {
  const out = $('#bench-status');
  const button = $<HTMLButtonElement>('#bench-run');
  button.disabled = true;
  $('#bench-table tbody').textContent = '';
  status(out, 'Running: each size is timed for about half a second…');
  out.dataset.state = 'running';
  try {
    const results = await runBenchmarks((r) => { addRow(r); status(out, `measured ${r.case} ${r.size}…`); });
    const best = Math.max(...results.map((r) => r.gflops));
    status(out, `Done: best ${best.toFixed(best < 10 ? 2 : 1)} GFLOP/s on this device.`);
    out.dataset.state = 'done';
  } catch (err) {
    status(out, messageOf(err), true);
    out.dataset.state = 'failed';
  } finally {
    button.disabled = false;
  }
}

export function setupBenchTab(): void {
  $('#adapter').textContent = gg.getDevice() === 'webgpu' ? gg.deviceInfo('webgpu') : 'none: the CPU backend (no WebGPU in this browser)';
  $('#bench-run').addEventListener('click', () => void run());
}
