/**
 * Runs code in a real browser for the tests: Debian's Chromium, headless, with WebGPU on (SwiftShader's Vulkan
 * without a GPU), driven by puppeteer-core, loading pages from a small node:http server on 127.0.0.1.
 *
 *   const chromium = chromiumOrSkip();                 // null: no browser here (a failure instead in CI)
 *   const run = await runPageChecks(chromium, await bundleForBrowser('dist/test/my-checks.js'));  // checks → results
 *   const s = await openPage(chromium, { routes: { '/': { type: HTML, body: html } }, folders: { '/dist/': 'dist' } });
 *   try { await s.page.waitForFunction(...) } finally { await s.close(); }                       // any page
 *
 * The page side of runPageChecks's protocol is browser-report.ts: a page announces its checks, reports each one, then
 * says it is done. Each launch gets a fresh profile folder (removed at close) and no network beyond loopback.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { PageMessage } from './browser-report.js';

/** The switches every launch uses: WebGPU on Linux is behind --enable-unsafe-webgpu; the rest keep Chromium from
 * reaching the network or doing first-run work. */
export const CHROMIUM_ARGS = [
  '--headless', '--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

export const HTML = 'text/html; charset=utf-8';
export const JS = 'text/javascript; charset=utf-8';

/** Where Chromium is: $GPUGRAD_CHROMIUM when set (only there), else the usual Debian and Chrome paths; null when
 * none exists. */
export function findChromium(): string | null {
  const env = process.env.GPUGRAD_CHROMIUM;
  const candidates = env ? [env] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Chromium's path, or null to skip browser tests on a developer's machine without it. In CI (CI=true) or with
 * GPUGRAD_REQUIRE_BROWSER=1 a missing browser throws: the suite fails rather than pass without having run. */
export function chromiumOrSkip(): string | null {
  const found = findChromium();
  if (!found && (process.env.CI === 'true' || process.env.GPUGRAD_REQUIRE_BROWSER === '1')) {
    throw new Error('the browser tests need Chromium (CI=true or GPUGRAD_REQUIRE_BROWSER=1): `apt-get install -y chromium` ' +
      '(.ci/run does), or point GPUGRAD_CHROMIUM at a Chromium or Chrome binary');
  }
  return found;
}

/** Bundles an ES module and everything it imports into one browser script, as a user's bundler would: platform
 * 'browser', no shims for Node built-ins (reaching one is a build error). */
export async function bundleForBrowser(entry: string): Promise<string> {
  const r = await build({
    entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false,
    logLevel: 'silent', sourcemap: 'inline',
  });
  return r.outputFiles[0].text;
}

export interface Route { type: string; body: string | Uint8Array }

/** Fixed pages by path, and folders served under a path prefix, e.g. `{ '/node_modules/gpugrad/dist/': 'dist' }`. */
export interface Site { routes?: Readonly<Record<string, Route>>; folders?: Readonly<Record<string, string>> }

export interface Server { origin: string; close(): Promise<void> }

const TYPES: Record<string, string> = {
  '.js': JS, '.mjs': JS, '.html': HTML, '.json': 'application/json', '.map': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.md': 'text/markdown; charset=utf-8', '.csv': 'text/csv; charset=utf-8', // run reports
};

/** A file under one of the site's folders (never outside it), or undefined. */
function fromFolder(folders: Readonly<Record<string, string>>, path: string): Route | undefined {
  for (const [prefix, dir] of Object.entries(folders)) {
    if (!path.startsWith(prefix)) continue;
    const root = resolve(dir);
    const file = resolve(root, decodeURIComponent(path.slice(prefix.length)));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) return undefined;
    return { type: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) };
  }
  return undefined;
}

/** Serves a site on 127.0.0.1 (a free port); anything it does not have is 404. */
export async function serve({ routes = {}, folders = {} }: Site): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[path] ?? fromFolder(folders, path);
    if (!route && path === '/favicon.ico') { res.writeHead(204).end(); return; } // asked for by every page
    res.writeHead(route ? 200 : 404, { 'content-type': route?.type ?? 'text/plain', 'cache-control': 'no-store' });
    res.end(route?.body ?? 'not found');
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface BrowserSession {
  browser: Browser;
  page: Page;
  server: Server;
  /** the page's console lines and uncaught errors, in order (for failure messages) */
  log: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile, serves `site` and opens a page; `before` runs before navigation (e.g. to
 * expose functions to the page). Close the session in a finally: it stops the browser, server and profile. */
export async function openPage(chromium: string, site: Site,
  { path = '/', before }: { path?: string; before?: (page: Page) => Promise<void> } = {}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'gpugrad-chromium-'));
  const server = await serve(site);
  let browser: Browser | null = null;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    browser = await puppeteer.launch({
      executablePath: chromium, ignoreDefaultArgs: true, pipe: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, 'about:blank'],
    });
    const page = (await browser.pages())[0] ?? await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`page error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
    await before?.(page);
    await page.goto(server.origin + path, { waitUntil: 'load' });
    return { browser, page, server, log, close: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export interface CheckResult { name: string; ok: boolean; message: string; ms: number }

export interface PageChecks {
  /** the checks the page announced, in order (empty if it never started) */
  plan: string[];
  results: Map<string, CheckResult>;
  /** whether the page said it was done before the time limit */
  done: boolean;
  log: string[];
}

/** Serves a page that loads `script` (an ES module using browser-report.ts), waits until it reports done or
 * `timeoutMs` passes, and returns what it reported. */
export async function runPageChecks(chromium: string, script: string, { timeoutMs = 10 * 60_000, title = 'gpugrad checks' } = {}): Promise<PageChecks> {
  const out: PageChecks = { plan: [], results: new Map(), done: false, log: [] };
  let finish = () => {};
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/checks.js"></script>`;
  const session = await openPage(chromium, { routes: { '/': { type: HTML, body: html }, '/checks.js': { type: JS, body: script } } }, {
    before: (page) => page.exposeFunction('__gpugradReport', (m: PageMessage) => {
      if (m.kind === 'plan') out.plan = m.names;
      else if (m.kind === 'result') out.results.set(m.name, m);
      else { out.done = true; finish(); }
    }),
  });
  out.log = session.log;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([finished, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
  } finally {
    clearTimeout(timer);
    await session.close();
  }
  return out;
}
