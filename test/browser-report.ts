/**
 * The page side of browser.ts's protocol: a page built on it announces its checks, runs them one by one (each to
 * the end, a failure does not stop the next), reports each result to the test runner through the function the
 * runner exposed (`__gpugradReport`), and says when it is done. Runs in the browser; imports nothing from Node.
 */
export type PageMessage =
  | { kind: 'plan'; names: string[] }
  | { kind: 'result'; name: string; ok: boolean; message: string; ms: number }
  | { kind: 'done' };

export interface Check { name: string; run: () => unknown | Promise<unknown> }

const report = async (m: PageMessage): Promise<void> => {
  const fn = (globalThis as { __gpugradReport?: (m: PageMessage) => Promise<void> }).__gpugradReport;
  if (fn) await fn(m);
  else console.log(JSON.stringify(m)); // opened by hand: the results go to the console
};

/** Runs `checks` in order and reports them; a check passes when it returns (its value, if a string, is the message). */
export async function runChecks(checks: readonly Check[]): Promise<void> {
  await report({ kind: 'plan', names: checks.map((c) => c.name) });
  for (const c of checks) {
    const started = performance.now();
    let ok = true, message = '';
    try {
      const r = await c.run();
      if (typeof r === 'string') message = r;
    } catch (e) {
      ok = false;
      message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    }
    await report({ kind: 'result', name: c.name, ok, message, ms: performance.now() - started });
  }
  await report({ kind: 'done' });
}
