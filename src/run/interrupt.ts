/**
 * Ctrl-C (SIGINT) and SIGTERM during a run. A signal handler must not write the run's in-memory state: it may be
 * ahead of the last checkpoint. So the first signal only asks the run to stop: the context throws RunInterrupted at
 * its next safe point (a logged row, a progress update, a finished checkpoint), and the runner then persists the
 * state the checkpoints cover and exits non-zero. If no safe point comes within the grace period (a long evaluation,
 * a stalled disk), or on a second signal, the run is abandoned: the runner persists that same covered state at once.
 * Either way results.json ends up naming only checkpoints that are complete on disk.
 */
import { constants } from 'node:os';
import { GpugradError } from '../core/errors.js';

/** Thrown at a safe point once a stop was asked for; carries the signal. */
export class RunInterrupted extends GpugradError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** The shell's exit status for a process stopped by `signal`: 130 for SIGINT, 143 for SIGTERM. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 1);
}

export interface SignalWatch {
  /** the first signal: ask the run to stop at its next safe point */
  onStop(signal: NodeJS.Signals): void;
  /** no safe point in time, or a second signal: persist what the checkpoints cover; the process exits after it */
  onAbandon(signal: NodeJS.Signals): Promise<void>;
  graceMs?: number;
}

/** Installs the handlers; returns the function that removes them (call it when the run ends, whatever its outcome). */
export function watchSignals(w: SignalWatch): () => void {
  let timer: NodeJS.Timeout | undefined;
  let abandoning = false;
  const abandon = (signal: NodeJS.Signals) => {
    if (abandoning) return;
    abandoning = true;
    clearTimeout(timer);
    w.onAbandon(signal).catch((e) => process.stderr.write(`gpugrad: could not record the interrupted state: ${(e as Error).message}\n`))
      .finally(() => process.exit(signalExitCode(signal)));
  };
  const handler = (signal: NodeJS.Signals) => {
    if (timer !== undefined) { abandon(signal); return; }
    const grace = w.graceMs ?? 10_000;
    process.stderr.write(`\ngpugrad: ${signal}: stopping at the next safe point (within ${grace / 1000} s; again to stop now)\n`);
    w.onStop(signal);
    timer = setTimeout(() => abandon(signal), grace);
    timer.unref();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    clearTimeout(timer);
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/**
 * A training loop's way to let signals in: the steps of an epoch only enqueue work (or, on the CPU devices, run it
 * synchronously), so a loop that never awaits a macrotask keeps the SIGINT/SIGTERM handlers — and the grace timer —
 * from ever running until it ends. The returned function yields one turn of the event loop when `everyMs` have passed
 * since the last turn, and costs nothing otherwise.
 */
export function eventLoopTurns(everyMs = 100): () => Promise<void> | undefined {
  let last = Date.now();
  return () => {
    const now = Date.now();
    if (now - last < everyMs) return undefined;
    last = now;
    return new Promise<void>((resolve) => setTimeout(resolve, 0));
  };
}
