/**
 * The `gpugrad` command: list, run, data, report, graph, serve. bin/gpugrad.js sets up WebGPU's environment and
 * calls main(). Mistakes in the call print one line and exit with status 2; failures of a run exit with 1.
 */
import { existsSync } from 'node:fs';
import { EXPERIMENT_NAMES, loadExperiment } from '../experiments/index.js';
import { UsageError, parse } from './args.js';
import { graphCommand } from './graph.js';
import { serveCommand } from './serve.js';
import { RUN_HELP, runCommand } from './run.js';
import { libraryVersion } from './version.js';

const HELP = `Usage: gpugrad <command> [flags]

Commands:
  list                      the experiments of Homework 1, with their presets
  run <experiment>|all      run experiments; figures and a report land in runs/ (gpugrad run --help)
  data mnist|cifar10        load (downloading if needed) a dataset and say what was found (gpugrad data --help)
  report [--runs DIR]       gather every run under DIR (default runs/) into one page: runs/report.html
  graph <expression>        draw the autograd graph of an expression as SVG (gpugrad graph --help)
  serve [--port N]          the playground page on http://127.0.0.1:8080/: graphs, live fitting, benchmarks

Flags: -h, --help on any command; --version.
`;

const PRESETS_TEXT = `Presets: test = every code path in seconds (CI; its numbers mean nothing); quick = each experiment in minutes
without a GPU, showing the homework's finding ("quick shows" above; only sizes and counts change, never the
optimiser, learning rate or models); full = the protocol (docs/protocol.md), hours without a GPU for MNIST/CIFAR.
`;

const LIST_HELP = `Usage: gpugrad list

Prints each experiment's name, homework section and title, what it trains, and what its quick preset shows.
`;

const REPORT_HELP = `Usage: gpugrad report [--runs DIR]

Redraws the figures and report of every run folder under DIR (default: runs), then writes DIR/report.html and
DIR/report.md: each experiment's newest run (what it showed, its figures), then the original homework report's numbers
beside it (docs/protocol.md), each with a verdict from a stated criterion.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
        process.stdout.write(`gpugrad ${libraryVersion()}\n`);
        return 0;
      case 'list':
        return await listCommand(rest);
      case 'run':
        return await runCommand(rest);
      case 'data': {
        const spec = './data.js'; // written by the data floor; loaded only when asked for
        const { dataCommand } = (await import(spec)) as { dataCommand(args: string[]): Promise<number> };
        return await dataCommand(rest);
      }
      case 'report':
        return await reportCommand(rest);
      case 'graph':
        return await graphCommand(rest);
      case 'serve':
        return await serveCommand(rest);
      default:
        throw new UsageError(`unknown command '${command}'; commands: list, run, data, report, graph, serve`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      const cmd = e.command || (['list', 'run', 'data', 'report', 'graph', 'serve'].includes(command ?? '') ? command : '');
      process.stderr.write(`gpugrad: ${e.message} (see gpugrad ${cmd ? `${cmd} ` : ''}--help)\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`gpugrad: ${err.name === 'GpugradError' || !process.env.GPUGRAD_DEBUG ? err.message : err.stack}\n`);
    return 1;
  }
}

async function listCommand(argv: string[]): Promise<number> {
  const { values } = parse('list', argv, {}, 0);
  if (values.help) { process.stdout.write(LIST_HELP); return 0; }
  // Listing needs no device: keep the library from probing WebGPU.
  process.env.GPUGRAD_WEBGPU ??= '0';
  process.env.GPUGRAD_DEVICE ??= 'cpu';
  const lines: string[] = [];
  for (const name of EXPERIMENT_NAMES) {
    try {
      const e = await loadExperiment(name);
      lines.push(`${name.padEnd(26)} ${e.section.padEnd(4)} ${e.title}`);
      lines.push(`${''.padEnd(31)} ${e.description}`);
      lines.push(`${''.padEnd(31)} quick shows: ${e.quickShows}`);
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      lines.push(`${name.padEnd(26)} (${/not implemented yet/.test(why) ? 'not implemented yet' : `cannot be loaded: ${why}`})`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n\n${PRESETS_TEXT}\ngpugrad run <name> --preset full|quick|test; gpugrad run --help for the flags\n`);
  return 0;
}

async function reportCommand(argv: string[]): Promise<number> {
  const { values } = parse('report', argv, { runs: { type: 'string' } }, 0);
  if (values.help) { process.stdout.write(REPORT_HELP); return 0; }
  process.env.GPUGRAD_WEBGPU ??= '0';
  process.env.GPUGRAD_DEVICE ??= 'cpu';
  const runsDir = (values.runs as string | undefined) ?? 'runs';
  if (!existsSync(runsDir)) throw new UsageError(`no run folder ${runsDir}; gpugrad run <experiment> makes one`, 'report');
  const { assembleReport } = await import('../report/assemble.js');
  const page = await assembleReport(runsDir, { redraw: true });
  process.stderr.write(`gpugrad: ${page}\n`);
  return 0;
}

export { RUN_HELP };
