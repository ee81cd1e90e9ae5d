/**
 * The wasm device's allocator (src/kernels/wasm/heap.ts) on its own, on small memories so that "full" is reached in
 * milliseconds: large blocks of ever-new sizes reuse freed memory (the old per-class pool ran out of its 4 GiB with
 * most of it free: a CIFAR run at quick size with a larger sample), freed neighbours merge, the top comes down, the
 * small classes' lists are given back when the memory is full, and a random workload never hands out overlapping
 * blocks and keeps its books.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Heap } from '../src/kernels/wasm/heap.js';

const MiB = 1 << 20;
const PAGES_PER_MiB = 16;

test('large blocks of ever-new sizes reuse what was freed instead of growing without end', () => {
  const heap = new Heap(false, 64 * PAGES_PER_MiB); // 64 MiB
  // a training step's panels, then an evaluation's of another size, again and again: every size a class of its own
  for (let i = 0; i < 200; i++) {
    const a = heap.acquire((3 + (i % 17)) * MiB + 12345);
    const b = heap.acquire((2 + (i % 5)) * MiB);
    heap.release(a.ptr, a.cls);
    heap.release(b.ptr, b.cls);
  }
  assert.ok(heap.allocatedBytes <= 64 * MiB, `${heap.allocatedBytes} bytes carved`);
  assert.is(heap.allocatedBytes, 0, 'everything released at the top brings the top back down');
  assert.is(heap.pooledBytes, 0);
});

test('freed neighbours merge: two released 2 MiB blocks serve one 4 MiB request at the first one\'s address', () => {
  const heap = new Heap(false, 64 * PAGES_PER_MiB);
  const a = heap.acquire(2 * MiB), b = heap.acquire(2 * MiB), pin = heap.acquire(2 * MiB);
  heap.release(b.ptr, b.cls);
  heap.release(a.ptr, a.cls);
  assert.is(heap.pooledBytes, 4 * MiB);
  const c = heap.acquire(4 * MiB);
  assert.is(c.ptr, a.ptr);
  assert.is(heap.pooledBytes, 0);
  // the smallest range that fits is taken, the rest stays free
  heap.release(c.ptr, c.cls);
  const d = heap.acquire(3 * MiB);
  assert.is(d.ptr, a.ptr);
  assert.is(heap.pooledBytes, MiB);
  heap.release(d.ptr, d.cls); heap.release(pin.ptr, pin.cls);
  assert.is(heap.allocatedBytes, 0);
});

test('when the memory is full, the small classes\' free blocks are merged and serve a large request', () => {
  const heap = new Heap(false, 16 * PAGES_PER_MiB); // 16 MiB
  const small: Array<{ ptr: number; cls: number }> = [];
  for (let i = 0; i < 14; i++) small.push(heap.acquire(MiB)); // 1 MiB is the largest small class
  const pin = heap.acquire(64);
  for (const s of small) heap.release(s.ptr, s.cls);
  const big = heap.acquire(10 * MiB);
  assert.is(big.ptr, small[0].ptr);
  heap.release(big.ptr, big.cls); heap.release(pin.ptr, pin.cls);
});

test('a request that cannot fit says how much is in use, free, and the largest free piece', () => {
  const heap = new Heap(false, 8 * PAGES_PER_MiB);
  const a = heap.acquire(3 * MiB), pin = heap.acquire(2 * MiB);
  heap.release(a.ptr, a.cls);
  try {
    heap.acquire(6 * MiB);
    assert.unreachable('6 MiB fit in an 8 MiB memory with 2 MiB in use');
  } catch (e) {
    assert.match((e as Error).message, /wasm: out of memory allocating 6291456 bytes/);
    assert.match((e as Error).message, /largest free piece 3145728 bytes/);
    assert.match((e as Error).message, /Dispose tensors/);
  }
  heap.release(pin.ptr, pin.cls);
});

test('random acquire/release: blocks never overlap, stay 16-byte aligned inside the memory; the books balance', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const heap = new Heap(false, 128 * PAGES_PER_MiB);
  const live: Array<{ ptr: number; cls: number }> = [];
  for (let step = 0; step < 3000; step++) {
    if (live.length > 0 && (rand() < 0.45 || live.length > 40)) {
      const [blk] = live.splice(Math.floor(rand() * live.length), 1);
      heap.release(blk.ptr, blk.cls);
    } else {
      const bytes = rand() < 0.6 ? Math.floor(rand() * 4096) + 1 : Math.floor(rand() * 5 * MiB) + 1;
      const blk = heap.acquire(bytes);
      assert.ok(blk.cls >= bytes && blk.ptr % 16 === 0 && blk.ptr + blk.cls <= heap.memory.buffer.byteLength);
      live.push(blk);
    }
    if (step % 100 === 0 || step === 2999) {
      const sorted = [...live].sort((x, y) => x.ptr - y.ptr);
      for (let i = 1; i < sorted.length; i++) {
        assert.ok(sorted[i - 1].ptr + sorted[i - 1].cls <= sorted[i].ptr, `step ${step}: blocks overlap`);
      }
      const inUse = live.reduce((s, b) => s + b.cls, 0);
      assert.is(heap.allocatedBytes - heap.pooledBytes, inUse, `step ${step}: books`);
    }
  }
  for (const b of live) heap.release(b.ptr, b.cls);
});

test.run();
