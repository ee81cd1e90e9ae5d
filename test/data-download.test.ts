/** CIFAR-10's download path against a small archive in the official layout, served by a local HTTP server on
 * 127.0.0.1 that this test starts (and that stops itself): success, redirects, a bad checksum, a cut connection, a
 * stalled one, no network, and archives placed by hand. Nothing partial may ever count as done. */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as data from '../src/data/index.js';
import { GpugradError } from '../src/core/errors.js';
import { writeCifarFolder } from './data-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'gpugrad-download-'));
const archive = join(tmp, 'cifar-10-binary.tar.gz');
writeCifarFolder(join(tmp, 'src'), 20, true);
tar.c({ gzip: true, file: archive, cwd: join(tmp, 'src'), sync: true }, ['cifar-10-batches-bin']);
const bytes = readFileSync(archive);
const md5 = createHash('md5').update(bytes).digest('hex');
assert.ok(bytes.length > 300_000, 'the archive is large enough to arrive in many chunks');

let served = 0;
const server = http.createServer((req, res) => {
  served++;
  const send = (body: Uint8Array) => { res.writeHead(200, { 'content-length': body.length }); res.end(body); };
  switch (req.url) {
    case '/good': send(bytes); break;
    case '/redirect': res.writeHead(302, { location: '/good' }); res.end(); break;
    case '/corrupt': { const b = Uint8Array.from(bytes); b[b.length >> 1] ^= 0xff; send(b); break; }
    case '/cut': // promises the whole archive, sends half, then drops the connection
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.destroy());
      break;
    case '/stall': // sends a little, then nothing
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 100));
      break;
    default: res.writeHead(404); res.end();
  }
});
let base = '';
// bounded: the server closes itself after 60 s even if the tests hang
const guard = setTimeout(() => { server.closeAllConnections(); server.close(); }, 60_000).unref();

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  clearTimeout(guard);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

let cacheCount = 0;
const newCache = () => join(tmp, `cache-${++cacheCount}`);
const opts = (cacheDir: string, path: string) => ({ cacheDir, url: `${base}${path}`, md5, progress: false });

async function rejects(p: Promise<unknown>, patterns: RegExp[], what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, GpugradError, `${what}: ${(e as Error).stack}`);
    for (const re of patterns) assert.match((e as Error).message, re, `${what}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`${what}: expected an error`);
}

/** The cache holds nothing that could count as done, and no temporaries. */
function assertNothingKept(cache: string, what: string): void {
  const left = existsSync(cache) ? readdirSync(cache) : [];
  assert.equal(left, [], `${what}: left behind ${left.join(', ')}`);
}

test('downloads (through a redirect), checks the MD5, extracts, and then works from the cache', async () => {
  const cache = newCache();
  const s = await data.loadCIFAR10(opts(cache, '/redirect'));
  assert.is(s.train.length, 100);
  assert.is(s.test.length, 20);
  assert.equal(Array.from(s.test.labels.subarray(0, 3)), [5, 6, 7]);
  assert.equal(readdirSync(cache).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
  const before = served;
  const again = await data.loadCIFAR10(opts(cache, '/nothing-here'));
  assert.is(again.train.length, 100);
  assert.is(served, before, 'the second load did not touch the network');
});

test('a bad checksum keeps nothing and says so', async () => {
  const cache = newCache();
  await rejects(data.loadCIFAR10(opts(cache, '/corrupt')),
    [/cifar10: downloading .*\/corrupt failed: the downloaded file's MD5 is [0-9a-f]{32}, expected/, /Nothing was kept/,
      new RegExp(`put the official binary version into ${cache}`)], 'bad md5');
  assertNothingKept(cache, 'bad md5');
});

test('a cut connection keeps nothing; the next run downloads again and succeeds', async () => {
  const cache = newCache();
  await rejects(data.loadCIFAR10(opts(cache, '/cut')), [/connection (broke|closed) after \d+ of \d+ bytes/, /Nothing was kept/], 'cut');
  assertNothingKept(cache, 'cut');
  const s = await data.loadCIFAR10(opts(cache, '/good'));
  assert.is(s.train.length, 100);
});

test('a stalled connection times out and keeps nothing', async () => {
  const cache = newCache();
  mkdirSync(cache);
  const dest = join(cache, 'x.tar.gz');
  await rejects(data.download(`${base}/stall`, dest, { timeoutMs: 300, progress: false }), [/broke after 100 of \d+ bytes \(no data for 0.3 s\)/], 'stall');
  assertNothingKept(cache, 'stall');
});

test('no network: the message says where to put the files', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const cache = newCache();
  await rejects(data.loadCIFAR10({ cacheDir: cache, url: `http://127.0.0.1:${port}/x`, progress: false }),
    [/cannot reach .* \(ECONNREFUSED\)/, /No network\?/, /either the archive cifar-10-binary\.tar\.gz \(MD5 c32a1d4ab5d03f1284b67883e8d87530/,
      /or pass --data-dir DIR/], 'offline');
  await rejects(data.loadCIFAR10(opts(cache, '/missing')), [/answered HTTP 404/], '404');
  await rejects(data.loadCIFAR10({ cacheDir: cache, download: false }), [/downloading is off/, /cifar-10-batches-bin\//], 'no download');
  assertNothingKept(cache, 'offline');
});

test('archives and folders placed by hand: used offline, checked, and named when wrong', async () => {
  const placed = newCache();
  mkdirSync(placed);
  copyFileSync(archive, join(placed, 'cifar-10-binary.tar.gz'));
  const s = await data.loadCIFAR10({ cacheDir: placed, md5, download: false });
  assert.is(s.train.length, 100);

  const wrong = newCache();
  mkdirSync(wrong);
  writeFileSync(join(wrong, 'cifar-10-binary.tar.gz'), bytes.subarray(0, bytes.length - 10));
  await rejects(data.loadCIFAR10({ cacheDir: wrong, md5, download: false }),
    [/cifar-10-binary\.tar\.gz has MD5 [0-9a-f]{32}, expected/, /Delete it/], 'placed, bad md5');
  assert.ok(!existsSync(join(wrong, 'cifar-10-batches-bin')));

  const other = newCache();
  mkdirSync(join(other, 'stuff'), { recursive: true });
  writeFileSync(join(other, 'stuff', 'a.txt'), 'a');
  tar.c({ gzip: true, file: join(tmp, 'other.tar.gz'), cwd: other, sync: true }, ['stuff']);
  rmSync(join(other, 'stuff'), { recursive: true });
  copyFileSync(join(tmp, 'other.tar.gz'), join(other, 'cifar-10-binary.tar.gz'));
  const otherMd5 = createHash('md5').update(readFileSync(join(tmp, 'other.tar.gz'))).digest('hex');
  await rejects(data.loadCIFAR10({ cacheDir: other, md5: otherMd5, download: false }), [/does not contain the folder cifar-10-batches-bin\//], 'other archive');
  assert.equal(readdirSync(other), ['cifar-10-binary.tar.gz'], 'no extraction temporaries left');

  const partial = newCache();
  mkdirSync(join(partial, 'cifar-10-batches-bin'), { recursive: true });
  writeFileSync(join(partial, 'cifar-10-batches-bin', 'data_batch_1.bin'), '');
  await rejects(data.loadCIFAR10({ cacheDir: partial }), [/exists but lacks data_batch_2\.bin/, /delete the folder/], 'partial folder');
});

test('a redirect from https to http is refused; others are followed', () => {
  assert.throws(() => data.redirectTarget('https://example.org/a.tar.gz', 'http://example.org/a.tar.gz'),
    (e: unknown) => e instanceof GpugradError && /refused the redirect from https:\/\/example\.org\/a\.tar\.gz to http:/.test((e as Error).message));
  assert.throws(() => data.redirectTarget('https://example.org/a', 'file:///etc/passwd'), /refused the redirect/);
  assert.is(data.redirectTarget('https://example.org/a', '/b'), 'https://example.org/b');
  assert.is(data.redirectTarget('https://example.org/a', 'https://mirror.example.org/b'), 'https://mirror.example.org/b');
  assert.is(data.redirectTarget('http://127.0.0.1:9/a', 'https://example.org/b'), 'https://example.org/b');
});

test('a truncated archive reports the archive, not the cleanup, and leaves no temporary folder', async () => {
  // Large, well-compressed entries: tar is still writing one when the gzip stream ends early (the cleanup raced it).
  const big = join(tmp, 'big');
  mkdirSync(join(big, 'cifar-10-batches-bin'), { recursive: true });
  for (let i = 0; i < 6; i++) writeFileSync(join(big, 'cifar-10-batches-bin', `data_batch_${i}.bin`), Buffer.alloc(3_000_000, i));
  tar.c({ gzip: true, file: join(tmp, 'big.tar.gz'), cwd: big, sync: true }, ['cifar-10-batches-bin']);
  const whole = readFileSync(join(tmp, 'big.tar.gz'));
  for (const keep of [0.2, 0.4, 0.5, 0.7, 0.9, 0.95]) {
    const dir = newCache();
    mkdirSync(dir);
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * keep)));
    await rejects(data.extractFolder(cut, dir, 'cifar-10-batches-bin'), [/cannot extract .*cut\.tar\.gz/, /the archive is corrupt/], `cut at ${keep}`);
    assert.equal(readdirSync(dir), ['cut.tar.gz'], `cut at ${keep}: nothing left but the archive`);
  }
});

test('a cache folder that cannot be made is named', async () => {
  writeFileSync(join(tmp, 'a-file'), 'x');
  await rejects(data.loadCIFAR10(opts(join(tmp, 'a-file', 'cache'), '/good')), [/cifar10: .*ENOTDIR.*a-file/, /--cache-dir/], 'not a folder');
});

test('the cache folder follows XDG_CACHE_HOME, else ~/.cache/gpugrad', () => {
  const saved = process.env.XDG_CACHE_HOME;
  try {
    process.env.XDG_CACHE_HOME = '/some/where';
    assert.is(data.defaultCacheDir(), '/some/where/gpugrad');
    delete process.env.XDG_CACHE_HOME;
    assert.match(data.defaultCacheDir(), /\.cache\/gpugrad$/);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved;
  }
});

test.run();
