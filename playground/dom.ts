/** The few DOM helpers the tabs share. */

/** The element `selector` finds; a missing one is a bug in index.html, said plainly. */
export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`playground: index.html has no ${selector}`);
  return el;
}

/** Shows `message` in a status line, red when it is an error. */
export function status(el: HTMLElement, message: string, error = false): void {
  el.textContent = message;
  el.classList.toggle('error', error);
}

/** The message of anything thrown, for a status line. */
export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Numbers as a reader wants them beside a graph: four significant digits. */
export function fmtValues(values: ArrayLike<number>): string {
  return `[${Array.from(values, (v) => Number(v.toPrecision(4))).join(', ')}]`;
}
