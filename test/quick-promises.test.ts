/**
 * What the quick presets promise (`quickShows`, printed by `gpugrad list`), checked at the quick preset itself where a
 * run fits CI's budget: fit-functions (4 seeds × 2 000 iterations, ~3 min on the CPU device of a 2-core machine) must
 * rank the deep model ahead of the shallow one on f1, on the median and seed by seed. The CNN experiments' promises
 * need a faster device than CI has; their quick runs are checked by hand (README's quick-run table).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { runExperiment } from '../src/cli/run.js';
import { readResults } from '../src/run/folder.js';
import { loadExperiment } from '../src/experiments/index.js';

const root = mkdtempSync(join(tmpdir(), 'gpugrad-quick-'));

test('fit-functions at --preset quick: on f1 the deep model is ahead of the shallow one, over several seeds', async () => {
  g.setDevice('cpu'); // the device a machine without a GPU runs these tiny MLPs on fastest
  const e = await loadExperiment('fit-functions');
  const out = join(root, 'fit-functions');
  await runExperiment(e, { seed: 0, runsDir: root, out, resume: false, preset: 'quick' }, g.deviceInfo());
  const r = readResults(out);
  const seeds = Number(r.config.seeds);
  assert.ok(seeds >= 3, 'several seeds');
  assert.ok(Number(r.final['f1.deep.mse']) < Number(r.final['f1.shallow.mse']), 'median final MSE: deep below shallow');
  const at = (model: string, s: number) => Number(r.series.final.find((x) => x.function === 'f1' && x.model === model && x.seed === s)!.mse);
  const wins = Array.from({ length: seeds }, (_, s) => at('deep', s) < at('shallow', s)).filter(Boolean).length;
  assert.ok(wins >= seeds - 1, `deep below shallow in ${wins} of ${seeds} seeds`);
  assert.match(e.summarize!(r).join(' '), /f1, seed by seed: deep below shallow in \d of \d/);
});

test.run();
