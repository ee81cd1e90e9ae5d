/**
 * The playground page's entry: names the device the library found, switches tabs (the URL's #graph, #fit, #bench open
 * one directly), and wires the three tabs. Bundled with the library's browser entry by scripts/build-playground.mjs
 * (its `../src/index.js` imports become src/browser.ts there).
 */
import * as gg from '../src/index.js';
import { setupBenchTab } from './bench-tab.js';
import { setupFitTab } from './fit-tab.js';
import { setupGraphTab } from './graph-tab.js';
import { $ } from './dom.js';

const TABS = ['graph', 'fit', 'bench'] as const;

function showTab(name: string): void {
  const tab = (TABS as readonly string[]).includes(name) ? name : 'graph';
  for (const t of TABS) {
    $(`#tab-${t}`).setAttribute('aria-selected', String(t === tab));
    $(`#panel-${t}`).hidden = t !== tab;
  }
}

function describeDevice(): void {
  const el = $('#device');
  if (gg.hasWebGPU()) {
    el.dataset.state = 'webgpu';
    el.textContent = `Running on ${gg.deviceInfo('webgpu')}`;
  } else {
    el.dataset.state = 'cpu';
    el.textContent = `No WebGPU in this browser: running on gpugrad's CPU backend (slower). ${gg.HOW_TO_GET_WEBGPU}`;
  }
}

describeDevice();
for (const t of TABS) $(`#tab-${t}`).addEventListener('click', () => { history.replaceState(null, '', `#${t}`); showTab(t); });
showTab(location.hash.slice(1));
setupGraphTab();
setupFitTab();
setupBenchTab();
document.body.dataset.ready = 'true';
