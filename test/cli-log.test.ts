/**
 * What a run says: per-epoch lines with named metrics and a final summary on stdout, also when stdout is a file (a
 * redirected log tells the story), a live bar only on a terminal, and an ETA that says "estimating…" until it has one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Eta, clock, progressBar } from '../src/cli/progress.js';

const bin = join(process.cwd(), 'bin/gpugrad.js');

function sink(tty: boolean): Writable & { text: string; isTTY?: boolean; columns?: number } {
  const s = new Writable({ write(chunk, _enc, cb) { s.text += String(chunk); cb(); } }) as Writable & { text: string; isTTY?: boolean; columns?: number };
  s.text = '';
  if (tty) { s.isTTY = true; s.columns = 120; }
  return s;
}

test('a redirected run of mnist-cnns logs one labelled line per epoch and model, then a summary', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'gpugrad-log-')), 'run');
  const env: NodeJS.ProcessEnv = { ...process.env, GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' };
  delete env.GPUGRAD_QUIET;
  // spawnSync's stdout is a pipe, not a terminal: exactly the redirected case
  const r = spawnSync(process.execPath, [bin, 'run', 'mnist-cnns', '--preset', 'test', '--device', 'cpu', '--out', out, '--epochs', '2'],
    { encoding: 'utf8', timeout: 300_000, env });
  assert.is(r.status, 0, r.stderr);
  const log = r.stdout;
  assert.not.match(log, /\x1b\[|\r|█/, 'no bar, no terminal codes in a log');
  assert.not.match(log, /cnnA|cnnB/, 'human model names');
  assert.match(log, /^1-2 Deep vs shallow: train on MNIST \(CNN-A vs CNN-B\) \(mnist-cnns\): test preset, seed 0, cpu → /m, 'the run says what it starts');
  for (const model of ['CNN-A', 'CNN-B']) {
    for (const e of [1, 2]) {
      assert.match(log, new RegExp(`^epoch ${e}/2  ${model}  loss [0-9.]+  acc [0-9.]+\u00a0%  test loss [0-9.]+  acc [0-9.]+\u00a0%  (\\d+ min )?[0-9.]+ s$`, 'm'), `${model} epoch ${e}`);
    }
  }
  assert.match(log, /^1-2 Deep vs shallow: train on MNIST.*\(mnist-cnns\): finished, test preset, seed 0, (\d+ min )?[0-9.]+ s/m, 'the summary line');
  assert.match(log, /What this run showed:/);
  assert.match(log, /CNN-A parameters\s+371\u202f581/, 'headline numbers, grouped digits');
  assert.match(log, /Report: .*report\.html/);
});

test('on a terminal: a bar on stderr that lines print above; plain heartbeats in a log instead', () => {
  const bar = sink(true), lines = sink(false);
  const p = progressBar('CNN-A', 10, { barStream: bar as unknown as NodeJS.WriteStream, lineStream: lines, quiet: false });
  p.update(5, 'epoch 1/2');
  p.line('epoch 1/2  CNN-A  loss 0.5');
  p.stop();
  assert.match(bar.text, /CNN-A  █{12}░{12} 5\/10  [0-9.]+ s, estimating…  epoch 1\/2/);
  assert.match(lines.text, /^epoch 1\/2  CNN-A  loss 0\.5  [0-9.]+ s\n$/);
  assert.ok(bar.text.endsWith('\r\x1b[2K'), 'the bar is cleared at the end');

  const log = sink(false), nobar = sink(false);
  const q = progressBar('Hessians', 100, { barStream: nobar as unknown as NodeJS.WriteStream, lineStream: log, quiet: false });
  for (let i = 1; i <= 100; i++) q.update(i);
  q.stop();
  assert.is(nobar.text, '');
  assert.is(log.text.trim().split('\n').length, 9, 'a heartbeat every tenth (10 % … 90 %)');
  assert.match(log.text, /^Hessians  10\/100 \(10 %\)/);
});

test('the ETA: estimating until 3 s and 2 % of the work, then over a window (a slow step or a burst does not make it jump)', () => {
  const eta = new Eta(1000, 0);
  assert.is(eta.update(1, 500), null);
  assert.is(eta.update(10, 1000), null, 'under 3 s');
  for (let t = 2000, d = 20; t <= 10_000; t += 1000, d += 10) eta.update(d, t); // 10 per second
  const steady = eta.left(100, 10_000)!;
  assert.ok(Math.abs(steady - 90) < 1, `~90 s left at 10/s, got ${steady}`);
  const after = eta.update(101, 11_000)!; // one slow second: 1 unit
  assert.ok(after < 2.5 * steady, `a slow step moves the estimate less than the raw rate would (${after} vs ${899})`);
  // updates in bursts: 250 steps read back at once every 45 s (the first burst must not extrapolate from its first item)
  const bursty = new Eta(4000, 0);
  let left: number | null = null;
  for (const t of [45_000, 90_000, 135_000]) for (let d = 1; d <= 4; d++) left = bursty.update((t / 45_000 - 1) * 1000 + d * 250, t);
  assert.ok(Math.abs(left! - 45) < 5, `1000 more steps at 1000 per 45 s: ~45 s left, got ${left}`);
  assert.is(clock(31.2), '31 s');
  assert.is(clock(125), '2 min 05 s');
  assert.is(clock(3 * 3600 + 240), '3 h 04 min');
});

test.run();
