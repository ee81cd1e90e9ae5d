/** Progress bars on stderr (cli-progress); silent when stderr is not a terminal or GPUGRAD_QUIET is set. */
import cliProgress from 'cli-progress';
import type { Progress } from '../run/types.js';

export function progressBar(label: string, total: number): Progress {
  if (!process.stderr.isTTY || process.env.GPUGRAD_QUIET) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label.padEnd(22).slice(0, 22)} {bar} {value}/{total} | {eta_formatted} left | {status}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { status: '' });
  return {
    update(done, status = '') { bar.update(done, { status }); },
    stop() { bar.stop(); },
  };
}
