/**
 * Drives the playground page (dist/playground) in headless Chromium the way a reader would, for
 * test/playground.test.ts and scripts/playground-screenshot.mjs: the built files as routes for browser.ts's server,
 * and one function per thing a reader does (draw, backward, H·v, train, benchmark), each waiting for the state the
 * page announces in its data- attributes.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { Page } from 'puppeteer-core';
import { HTML, JS, type Route, type Site } from './browser.js';

const TYPES: Record<string, string> = { '.html': HTML, '.js': JS, '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

/** The built page as a site for browser.ts's server: every file a route (`/` is index.html), each with its type. */
export function playgroundSite(dir: string): Site {
  const routes: Record<string, Route> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else routes[`/${relative(dir, p).split('\\').join('/')}`] = { type: TYPES[extname(p)] ?? 'application/octet-stream', body: readFileSync(p) };
    }
  };
  walk(dir);
  routes['/'] = routes['/index.html'];
  return { routes };
}

const LONG = { timeout: 240_000 };

/** Waits until the page has started the library and drawn the first expression's graph. */
export async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]', LONG);
  await page.waitForSelector('#graph[data-state="drawn"]', LONG);
}

/** Types an expression and its variables, draws it, and waits for the graph. */
export async function drawExpression(page: Page, expression: string, variables: string): Promise<void> {
  await page.$eval('#expr', (el, v) => { (el as HTMLInputElement).value = v; }, expression);
  await page.$eval('#vars', (el, v) => { (el as HTMLTextAreaElement).value = v; }, variables);
  await page.$eval('#graph', (el) => { (el as HTMLElement).dataset.state = 'empty'; });
  await page.click('#draw');
  await page.waitForSelector('#graph[data-state="drawn"]', LONG);
}

/** Presses backward and waits until every gradient has been revealed. */
export async function pressBackward(page: Page): Promise<void> {
  await page.click('#backward');
  await page.waitForSelector('#graph[data-state="backward-done"]', LONG);
}

/** Presses H·v and waits for the second graph. */
export async function pressHvp(page: Page): Promise<void> {
  await page.click('#hvp');
  await page.waitForSelector('#hvp-graph[data-state="drawn"]', LONG);
  await page.waitForFunction(() => document.querySelector('#hvp-values')!.textContent !== '', LONG);
}

export async function openTab(page: Page, tab: 'graph' | 'fit' | 'bench'): Promise<void> {
  await page.click(`#tab-${tab}`);
  await page.waitForSelector(`#panel-${tab}:not([hidden])`);
}

/** Trains with `lr` until at least `iterations` steps are done, stops, and returns the summed MSE at the start and now. */
export async function train(page: Page, iterations: number, lr = '0.01'): Promise<{ first: number; last: number }> {
  await openTab(page, 'fit');
  await page.select('#lr', lr);
  await page.click('#fit-start');
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#fit-status')!.dataset.iteration) >= n, LONG, iterations);
  await page.click('#fit-stop');
  await page.waitForSelector('#fit-status[data-state]', LONG);
  return page.$eval('#fit-status', (el) => ({ first: Number((el as HTMLElement).dataset.firstMse), last: Number((el as HTMLElement).dataset.lastMse) }));
}

/** Runs the benchmark tab to the end; returns the adapter line and the table's rows. */
export async function benchmark(page: Page): Promise<{ adapter: string; state: string; rows: string[][] }> {
  await openTab(page, 'bench');
  await page.click('#bench-run');
  await page.waitForSelector('#bench-status[data-state="done"], #bench-status[data-state="failed"]', LONG);
  return page.evaluate(() => ({
    adapter: document.querySelector('#adapter')!.textContent ?? '',
    state: document.querySelector<HTMLElement>('#bench-status')!.dataset.state ?? '',
    rows: [...document.querySelectorAll('#bench-table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  }));
}
