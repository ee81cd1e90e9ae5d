/**
 * Downloading into the cache, so that nothing half-done ever counts as done: a download streams into a temporary
 * name beside its destination, is checked (length, MD5), and only then renamed into place; an archive is extracted
 * into a temporary folder, and only the complete folder is renamed into place. Any failure deletes the temporary.
 */
import cliProgress from 'cli-progress';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { GpugradError } from '../core/errors.js';

/** `$XDG_CACHE_HOME/gpugrad`, or `~/.cache/gpugrad`. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg ? join(xdg, 'gpugrad') : join(homedir(), '.cache', 'gpugrad');
}

/** Why a download failed (the message is the reason alone; callers add what to do). */
export class DownloadError extends GpugradError {
  constructor(message: string, readonly offline = false) { super(message); this.name = 'DownloadError'; }
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET']);

/**
 * Where a redirect from `url` to `location` leads. A redirect from https to anything but https is refused: following
 * it would let whoever answers the plain request choose the bytes (the MD5 check aside, the URL promised TLS).
 */
export function redirectTarget(url: string, location: string): string {
  const next = new URL(location, url);
  if (new URL(url).protocol === 'https:' && next.protocol !== 'https:') {
    throw new DownloadError(`refused the redirect from ${url} to ${next} (https to ${next.protocol.replace(':', '')}); ` +
      'download the file yourself from a source you trust and pass its folder with --data-dir');
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new DownloadError(`refused the redirect from ${url} to ${next}: not http(s)`);
  return next.toString();
}

/** GET `url`, following up to 5 redirects; resolves with a 200 response. Sets `stalled` when the idle timeout fired. */
function get(url: string, timeoutMs: number, state: { stalled: boolean }, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) { reject(new DownloadError(`too many redirects at ${url}`)); return; }
        let next: string;
        try { next = redirectTarget(url, res.headers.location); } catch (e) { reject(e); return; }
        get(next, timeoutMs, state, redirects - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DownloadError(`${url} answered HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      resolve(res);
    });
    // an idle socket (no bytes for timeoutMs) fails the request, before or during the body
    req.setTimeout(timeoutMs, () => {
      state.stalled = true;
      req.destroy(Object.assign(new Error(`no data for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(new DownloadError(`cannot reach ${url} (${e.code ?? e.message})`, OFFLINE_CODES.has(e.code ?? '')));
    });
  });
}

/** A progress bar on stderr, or null when stderr is not a terminal (logs stay clean) or it is turned off. */
function progressBar(label: string, total: number, enabled: boolean): cliProgress.SingleBar | null {
  if (!enabled || !process.stderr.isTTY || !(total > 0)) return null;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {mb} / {totalMb} MB | ETA {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { mb: '0.0', totalMb: (total / 1e6).toFixed(1) });
  return bar;
}

export interface DownloadOptions {
  /** the expected MD5 (hex); a mismatch deletes the download */
  md5?: string;
  /** show a progress bar on stderr when it is a terminal (default true) */
  progress?: boolean;
  /** idle timeout in milliseconds (default 30 000) */
  timeoutMs?: number;
}

/**
 * Downloads `url` to `dest`: into `dest.part-<pid>-<random>` first, renamed to `dest` only when complete and (with
 * `md5`) verified. Throws a DownloadError, leaving nothing behind, on any failure.
 */
export async function download(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const state = { stalled: false };
  const res = await get(url, timeoutMs, state);
  const total = Number(res.headers['content-length'] ?? 0);
  const hash = createHash('md5');
  let received = 0;
  const bar = progressBar(basename(dest), total, options.progress ?? true);
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      received += chunk.length;
      bar?.update(received, { mb: (received / 1e6).toFixed(1) });
      done(null, chunk);
    },
  });
  try {
    try {
      await pipeline(res, tap, createWriteStream(part));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = state.stalled ? `no data for ${timeoutMs / 1000} s` : err.code ?? err.message;
      throw new DownloadError(`the connection broke after ${received} of ${total || '?'} bytes (${why})`);
    } finally {
      bar?.stop();
    }
    if (total && received !== total) throw new DownloadError(`the connection closed after ${received} of ${total} bytes`);
    const md5 = hash.digest('hex');
    if (options.md5 && md5 !== options.md5.toLowerCase()) {
      throw new DownloadError(`the downloaded file's MD5 is ${md5}, expected ${options.md5} (corrupt or not the official file)`);
    }
    await rename(part, dest);
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
}

/** The MD5 of a file, hex. */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Extracts `folder/` from the (gzipped) tar `archive` into `intoDir/folder`, through a temporary folder, with the
 * `tar` package. Returns the folder's path.
 */
export async function extractFolder(archive: string, intoDir: string, folder: string): Promise<string> {
  const target = join(intoDir, folder);
  await mkdir(intoDir, { recursive: true });
  const tmp = await mkdtemp(join(intoDir, '.extract-'));
  try {
    try {
      await tar.x({ file: archive, cwd: tmp, strict: true });
    } catch (e) {
      throw new GpugradError(`cannot extract ${archive}: ${(e as Error).message} (the archive is corrupt; delete it and run again)`);
    }
    if (!existsSync(join(tmp, folder))) {
      throw new GpugradError(`${archive} does not contain the folder ${folder}/: it is not the expected archive`);
    }
    await rename(join(tmp, folder), target);
  } finally {
    // tar may still be finishing writes it started before it failed: retry the removal (ENOTEMPTY) rather than
    // report the race instead of the archive's real fault, or leave the temporary folder behind
    await rm(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
      .catch((e) => process.stderr.write(`gpugrad: could not remove ${tmp} (${(e as Error).message}); delete it by hand\n`));
  }
  return target;
}
