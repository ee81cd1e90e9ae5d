/**
 * `gpugrad serve [--port N]`: serves the playground page (dist/playground, built by `npm run build`) on 127.0.0.1,
 * so a reader opens it in a browser with WebGPU. The page is plain static files: any static host serves it as well.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, numberFlag, parse } from './args.js';

export const SERVE_HELP = `Usage: gpugrad serve [--port N]

Serves the playground on http://127.0.0.1:N/ (default port 8080; 0 picks a free one): draw an expression's autograd
graph and step through backward and H·v, fit sin(5πx)/(5πx) with homework 1-1's models on your GPU, and time
matmul, conv2d and a training step on your adapter. Needs a browser with WebGPU (Chrome, Edge; elsewhere the page
says so and uses the CPU backend). Ctrl-C stops it. The files are in dist/playground: any static host serves them.
`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
};

/** The built page's folder, beside this file's build (dist/src/cli → dist/playground). */
export function playgroundDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../playground');
}

/** Serves `dir` on 127.0.0.1:`port`; resolves once listening. Only files inside `dir` are served. */
export async function servePlayground(dir: string, port: number): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if ((file !== root && !file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE'
      ? new UsageError(`port ${port} is in use; choose another with --port N (0 picks a free one)`, 'serve') : e));
    server.listen(port, '127.0.0.1', done);
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse('serve', argv, { port: { type: 'string' } }, 0);
  if (values.help) { process.stdout.write(SERVE_HELP); return 0; }
  const port = numberFlag(values, 'port', 'int', 'serve') ?? 8080;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`, 'serve');
  const dir = playgroundDir();
  if (!existsSync(join(dir, 'index.html'))) {
    throw new UsageError(`the playground is not built (no ${join(dir, 'index.html')}); run \`npm run build\``, 'serve');
  }
  const { url } = await servePlayground(dir, port);
  process.stdout.write(`gpugrad playground: ${url}  (Ctrl-C stops it)\n`);
  await new Promise<never>(() => {}); // serve until the process is stopped
  return 0;
}
