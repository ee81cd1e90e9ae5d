/**
 * Fault injection for the run machinery, on the CPU backend and on WebGPU: a checkpointed experiment (fit-functions,
 * a small preset) is interrupted by SIGINT, SIGTERM and SIGKILL, during a checkpoint write (a test hook stalls the
 * write once its data is on disk, before the rename) and between checkpoints, then resumed. After each interruption
 * results.json must claim no more than its checkpoints hold; after the resume, results.json and metrics.csv must
 * equal an uninterrupted run's with the same seed (no gaps, no duplicated rows), and the folder must hold nothing but
 * the run's own files. Also: two runs into one folder, one refused with a message naming the owner.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Results } from '../src/run/types.js';
import { webgpuAvailable } from './helpers.js';

const bin = join(process.cwd(), 'bin/gpugrad.js');
const root = mkdtempSync(join(tmpdir(), 'gpugrad-faults-'));
// 200 full-batch iterations, a checkpoint every 50: long enough to land between checkpoints, short enough to repeat.
const SETTINGS = ['--preset', 'test', '--seed', '7', '--epochs', '200', '--set', 'checkpointEvery=50', '--set', 'readEvery=10'];

interface Run {
  child: ChildProcess;
  stderr: () => string;
  /** resolves once stderr matches */
  waitFor(re: RegExp): Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function gpugrad(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, GPUGRAD_QUIET: '1', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const waiting: { re: RegExp; resolve: () => void }[] = [];
  child.stderr!.on('data', (d) => {
    err += d;
    for (const w of [...waiting]) if (w.re.test(err)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(); }
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => { clearTimeout(guard); resolve({ code, signal }); });
  });
  return {
    child, done, stderr: () => err,
    waitFor: (re) => new Promise<void>((resolve, reject) => {
      if (re.test(err)) { resolve(); return; }
      waiting.push({ re, resolve });
      void done.then(() => reject(new Error(`the run ended before stderr showed ${re}:\n${err}`)));
    }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;

/** results.json without what differs between attempts by nature (times, the attempt count). */
function comparable(r: Results): unknown {
  const { startedAt, updatedAt, wallTimeS, attempts, ...rest } = r;
  return rest;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** Waits until results.json records at least `epochs` iterations of the unit checkpointed. */
async function waitForCheckpoint(dir: string, epochs: number, run: Run): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    try {
      if ((results(dir).units.ensembles?.epochsDone ?? 0) >= epochs) return;
    } catch { /* not written yet, or being renamed */ }
    if (run.child.exitCode !== null) throw new Error(`the run ended early:\n${run.stderr()}`);
    await sleep(50);
  }
  throw new Error('no checkpoint within 2 minutes');
}

/** What an interrupted run left: results.json names a complete checkpoint and no row beyond it. */
function assertConsistent(dir: string, what: string): Results {
  const r = results(dir);
  const unit = r.units.ensembles;
  const done = unit?.epochsDone ?? 0;
  if (unit?.checkpoint) assert.ok(existsSync(join(dir, unit.checkpoint)), `${what}: the checkpoint results.json names exists`);
  else assert.is(done, 0, `${what}: progress without a checkpoint`);
  assert.is(r.savepoint.rows.loss ?? 0, 6 * done, `${what}: the savepoint covers the rows of exactly ${done} iterations of the 6 trainings`);
  assert.ok((r.series.loss ?? []).length >= 6 * done, `${what}: no covered row missing`);
  assert.not.ok(existsSync(join(dir, 'run.lock')) && r.status !== 'running', `${what}: the lock is released`);
  return r;
}

interface Case {
  name: string;
  stall?: number;
  /** interrupts the run; returns the iterations that must be checkpointed afterwards, or null when any may be */
  interrupt(run: Run, dir: string): Promise<void>;
  expect: { code?: number; signal?: NodeJS.Signals; epochsDone?: number };
}

const CASES: Case[] = [
  {
    name: 'SIGINT during a checkpoint write: the write completes, the run stops there',
    stall: 1500,
    interrupt: async (run) => { await run.waitFor(/checkpoint \S*ensembles-e100\.safetensors\.tmp-\d+ written, stalling/); run.child.kill('SIGINT'); },
    expect: { code: 130, epochsDone: 100 },
  },
  {
    name: 'SIGTERM between checkpoints: the run stops at its next safe point',
    interrupt: async (run, dir) => { await waitForCheckpoint(dir, 50, run); await sleep(150); run.child.kill('SIGTERM'); },
    expect: { code: 143 },
  },
  {
    name: 'SIGKILL during a checkpoint write: the half-committed checkpoint is not named',
    stall: 1500,
    interrupt: async (run) => { await run.waitFor(/checkpoint \S*ensembles-e100\.safetensors\.tmp-\d+ written, stalling/); run.child.kill('SIGKILL'); },
    expect: { signal: 'SIGKILL', epochsDone: 50 },
  },
  {
    name: 'SIGKILL between checkpoints',
    interrupt: async (run, dir) => { await waitForCheckpoint(dir, 100, run); await sleep(150); run.child.kill('SIGKILL'); },
    expect: { signal: 'SIGKILL' },
  },
  {
    name: 'two SIGINTs during a stalled write: abandoned at once, with the last complete checkpoint',
    stall: 30_000,
    interrupt: async (run) => {
      await run.waitFor(/checkpoint \S*ensembles-e100\.safetensors\.tmp-\d+ written, stalling/);
      run.child.kill('SIGINT');
      await run.waitFor(/stopping at the next safe point/);
      run.child.kill('SIGINT');
    },
    expect: { code: 130, epochsDone: 50 },
  },
];

for (const device of ['cpu', 'webgpu'] as const) {
  // WebGPU runs on SwiftShader in CI: two of the cases there (one per way of stopping a process), all on the CPU.
  const cases = device === 'cpu' ? CASES : [CASES[0], CASES[3]];
  let baseline: { dir: string; results: unknown; csv: string; files: string[] } | null = null;

  test(`${device}: an uninterrupted run (the reference)`, async () => {
    if (device === 'webgpu' && !webgpuAvailable()) return;
    const dir = join(root, `${device}-reference`);
    const run = gpugrad(['run', 'fit-functions', ...SETTINGS, '--device', device, '--out', dir]);
    const { code } = await run.done;
    assert.is(code, 0, run.stderr());
    baseline = { dir, results: comparable(results(dir)), csv: readFileSync(join(dir, 'metrics.csv'), 'utf8'), files: listing(dir) };
    assert.equal(readdirSync(join(dir, 'checkpoints')), [], 'a finished run keeps no checkpoint');
  });

  for (const [k, c] of cases.entries()) {
    test(`${device}: ${c.name}; the resumed run equals the reference`, async () => {
      if (device === 'webgpu' && !webgpuAvailable()) return;
      const dir = join(root, `${device}-case-${k}`);
      const run = gpugrad(['run', 'fit-functions', ...SETTINGS, '--device', device, '--out', dir],
        c.stall ? { GPUGRAD_TEST_STALL_CHECKPOINT: String(c.stall) } : {});
      await c.interrupt(run, dir);
      const t0 = Date.now();
      const { code, signal } = await run.done;
      if (c.expect.code !== undefined) assert.is(code, c.expect.code, run.stderr());
      if (c.expect.signal) assert.is(signal, c.expect.signal);
      if (c.stall && c.stall > 5000) assert.ok(Date.now() - t0 < c.stall / 2, 'the second signal did not wait for the stalled write');
      if (c.expect.code) assert.match(run.stderr(), new RegExp(`interrupted by SIG(INT|TERM); gpugrad run fit-functions --resume --out ${dir} continues it`));
      const r = assertConsistent(dir, c.name);
      // every write records the attempt's time so far: even a killed attempt's time counts (it was 0 before)
      assert.ok(r.wallTimeS > 0, `the interrupted attempt's wall time is recorded (${r.wallTimeS} s)`);
      if (c.expect.epochsDone !== undefined) assert.is(r.units.ensembles?.epochsDone ?? 0, c.expect.epochsDone);
      if (c.expect.code) {
        assert.is(r.status, 'failed');
        assert.is((r.series.loss ?? []).length, 6 * (r.units.ensembles?.epochsDone ?? 0), 'rows beyond the checkpoint are dropped');
      }

      // resumed without --device: the run keeps its own device, preset, seed and settings
      const again = gpugrad(['run', 'fit-functions', '--resume', '--out', dir]);
      const resumed = await again.done;
      assert.is(resumed.code, 0, again.stderr());
      assert.match(again.stderr(), new RegExp(`resuming fit-functions in ${dir} \\(attempt 2; .*\\) with its preset test, seed 7, device ${device} and settings\\n`));
      assert.ok(baseline, 'the reference run');
      assert.equal(comparable(results(dir)), baseline!.results, 'results.json equals the uninterrupted run');
      assert.ok(results(dir).wallTimeS > r.wallTimeS, 'the wall time adds both attempts');
      assert.is(readFileSync(join(dir, 'metrics.csv'), 'utf8'), baseline!.csv, 'metrics.csv equals the uninterrupted run');
      assert.equal(listing(dir), baseline!.files, 'nothing left but the run\'s own files');
    });
  }
}

test('a second run into a folder in use is refused, naming the owner; the lock goes with its run', async () => {
  const dir = join(root, 'locked');
  const first = gpugrad(['run', 'fit-functions', ...SETTINGS, '--device', 'cpu', '--out', dir], { GPUGRAD_TEST_STALL_CHECKPOINT: '4000' });
  await first.waitFor(/written, stalling/);
  const pid = first.child.pid!;
  assert.ok(existsSync(join(dir, 'run.lock')));
  const resume = gpugrad(['run', 'fit-functions', '--resume', '--out', dir]);
  const r = await resume.done;
  assert.is(r.code, 1);
  assert.match(resume.stderr(), new RegExp(`${dir} is in use by another run: pid ${pid} on \\S+, since .*run fit-functions`));
  const fresh = gpugrad(['run', 'fit-functions', ...SETTINGS, '--device', 'cpu', '--out', dir]);
  assert.is((await fresh.done).code, 2, 'a new run into a folder holding one is a usage error');
  assert.match(fresh.stderr(), /already holds a run/);
  first.child.kill('SIGKILL');
  await first.done;
  // the owner is gone: its lock is stale, and the resume takes it over
  const after = gpugrad(['run', 'fit-functions', '--resume', '--out', dir]);
  assert.is((await after.done).code, 0, after.stderr());
  assert.not.ok(existsSync(join(dir, 'run.lock')));
});

test('two runs started at once into one new folder: one runs, the other is refused', async () => {
  const dir = join(root, 'race');
  const runs = [0, 1].map(() => gpugrad(['run', 'fit-functions', '--preset', 'test', '--device', 'cpu', '--out', dir]));
  const codes = (await Promise.all(runs.map((r) => r.done))).map((d) => d.code);
  assert.equal(codes.filter((c) => c === 0).length, 1, `exactly one succeeds: ${codes}; ${runs.map((r) => r.stderr()).join('\n')}`);
  const loser = runs[codes.findIndex((c) => c !== 0)];
  assert.match(loser.stderr(), /is in use by another run: pid \d+|already holds a run/);
  assert.is(results(dir).status, 'finished');
});

test('SIGINT in the middle of a long epoch on wasm stops there, not after the epoch and its checkpoint', async () => {
  // An epoch's steps run synchronously on the CPU devices: unless the loop yields to the event loop, the signal
  // handler runs only once the epoch is over, and the run goes on to evaluate and checkpoint it.
  const dir = join(root, 'mid-epoch');
  const child = spawn(process.execPath, [bin, 'run', 'mnist-cnns', '--preset', 'test', '--device', 'wasm', '--set', 'trainSamples=60000', '--out', dir], {
    // not quiet: the progress lines on stdout say when the epoch is under way
    env: { ...process.env, GPUGRAD_QUIET: '', GPUGRAD_DIST: process.env.GPUGRAD_DIST ?? 'dist' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
  let out = '';
  const started = new Promise<void>((resolve) => {
    child.stdout!.on('data', (d) => { out += d; if (/CNN-A\s+\d+\/\d+ \((1|2)\d %\)/.test(out)) resolve(); });
  });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => { clearTimeout(guard); resolve(code); }));
  await Promise.race([started, done]);
  child.kill('SIGINT');
  assert.is(await done, 130, `${out}\n${err}`);
  const r = results(dir);
  assert.is(r.units.cnnA?.epochsDone ?? 0, 0, `the run went on to the end of the epoch:\n${out}`);
  assert.not.match(out, /CNN-A\s+\d+\/\d+ \((5|6|7|8|9)\d %\)/, 'it trained on after the signal');
});

test.run();
