/**
 * What a run says while it works. Two kinds of output:
 * - lines that stay (`line()`: one per epoch or per block of iterations, with named metrics and the time so far) go to
 *   stdout, so a redirected run (`> log`, CI, nohup) still tells its story;
 * - a live bar on stderr when stderr is a terminal: count, elapsed time, a smoothed ETA ("estimating…" until the rate
 *   has settled). Without a terminal there is no bar; instead, until the first labelled line, a plain progress line
 *   every tenth of the work, so a log of an experiment that prints no epochs still moves.
 * GPUGRAD_QUIET silences both (the test runner sets it).
 */
import type { Progress } from '../run/types.js';

/** `31 s`, `2 min 05 s`, `1 h 04 min`: elapsed and remaining times for people. */
export function clock(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * Remaining time from the rate of progress over a sliding window (the last 10 s, or the last fifth of the run when it
 * is longer), so one slow step (a checkpoint, a first pipeline compile) does not make the estimate jump, and updates
 * that arrive in bursts (a block of steps read back at once) count with the time they took. No estimate before 3 s and
 * 2 % of the work (the first steps include start-up costs that are not the rate).
 */
export class Eta {
  /** (time, done) samples; the first is the anchor the rate is measured from */
  private samples: { t: number; done: number }[];
  constructor(private readonly total: number, private readonly t0 = performance.now()) { this.samples = [{ t: t0, done: 0 }]; }

  /** records `done` at time `now` (ms); returns the seconds left, or null while estimating */
  update(done: number, now = performance.now()): number | null {
    const last = this.samples[this.samples.length - 1];
    // updates within 200 ms are one burst: its last count is what was done by then
    if (this.samples.length > 1 && now - last.t < 200) { last.t = now; last.done = done; } else this.samples.push({ t: now, done });
    const window = Math.max(10_000, 0.2 * (now - this.t0));
    while (this.samples.length > 2 && now - this.samples[1].t > window) this.samples.shift();
    return this.left(done, now);
  }

  left(done: number, now = performance.now()): number | null {
    const a = this.samples[0], b = this.samples[this.samples.length - 1];
    if (now - this.t0 < 3000 || done < 0.02 * this.total || b.done <= a.done) return null;
    return Math.max(0, ((this.total - done) * (b.t - a.t)) / 1000 / (b.done - a.done));
  }
}

export interface ProgressOptions {
  /** where the bar goes (default stderr); a bar is drawn only when it is a terminal */
  barStream?: NodeJS.WriteStream;
  /** where the lines go (default stdout) */
  lineStream?: NodeJS.WritableStream;
  quiet?: boolean;
}

export function progressBar(label: string, total: number, o: ProgressOptions = {}): Progress {
  const quiet = o.quiet ?? !!process.env.GPUGRAD_QUIET;
  if (quiet) return { update() {}, line() {}, stop() {} };
  const barStream = o.barStream ?? process.stderr;
  const lines = o.lineStream ?? process.stdout;
  const tty = barStream.isTTY === true;
  const t0 = performance.now();
  const eta = new Eta(total, t0);
  let done = 0, status = '', drawn = false, lastDraw = 0, nextPlain = 0.1, stopped = false, lineAt = -Infinity;

  const elapsed = () => (performance.now() - t0) / 1000;
  const timing = () => {
    const left = eta.left(done);
    return `${clock(elapsed())}${done >= total ? '' : left === null ? ', estimating…' : `, ~${clock(left)} left`}`;
  };
  const draw = () => {
    const width = 24, filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : 0;
    const text = `${label}  ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total}  ${timing()}${status ? `  ${status}` : ''}`;
    const cols = barStream.columns || 120;
    barStream.write(`\r\x1b[2K${text.length > cols - 1 ? text.slice(0, cols - 2) + '…' : text}`);
    drawn = true;
    lastDraw = performance.now();
  };
  const clear = () => { if (drawn) barStream.write('\r\x1b[2K'); drawn = false; };

  return {
    update(d, s = '') {
      if (stopped) return;
      done = d;
      status = s;
      eta.update(done);
      if (tty) {
        if (performance.now() - lastDraw >= 100 || done >= total) draw();
      } else if (total > 0 && done / total >= nextPlain && done < total) {
        // a plain heartbeat every tenth of the work, for logs of runs that print no labelled lines (once one has been
        // printed, the lines tell the story and the heartbeats would only repeat them)
        while (nextPlain <= done / total) nextPlain += 0.1;
        if (lineAt > -Infinity) return;
        lines.write(`${label}  ${done}/${total} (${Math.floor((100 * done) / total)} %)  ${timing()}${status ? `  ${status}` : ''}\n`);
      }
    },
    line(text) {
      if (stopped) return;
      if (tty) clear();
      lineAt = done;
      lines.write(`${text}  ${clock(elapsed())}\n`);
      if (tty) draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (tty) { clear(); }
    },
  };
}
