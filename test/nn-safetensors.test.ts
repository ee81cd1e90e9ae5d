/** safetensors: byte-exact output for a known tensor, a hand-built file (several dtypes) loads, round trips, errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, g, throwsGpugrad, webgpuAvailable } from './helpers.js';
import { mlp } from './autograd-fixtures.js';

g.setDevice('cpu');
const dir = mkdtempSync(join(tmpdir(), 'gpugrad-st-'));

/** A safetensors file from a header object and raw data bytes, laid out by hand as the format's spec says. */
function handMade(header: object, data: number[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([n, json, Buffer.from(data)]));
}

test('our bytes for {x: float32 [1, -2]} are exactly the spec layout', () => {
  const bytes = g.encodeSafetensors({ x: { dtype: 'float32', shape: [2], data: Float32Array.from([1, -2]) } });
  const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  '; // 54 bytes + 2 spaces: data 8-aligned
  const expected = Buffer.concat([
    Buffer.from([56, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(header),
    Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]), // 1.0f and -2.0f, little-endian
  ]);
  assert.equal(Array.from(bytes), Array.from(expected));
});

test('a hand-built file with F64, F32, F16, BF16, I64, I32, U8, BOOL and metadata loads', async () => {
  const f64 = Buffer.alloc(8); f64.writeDoubleLE(Math.PI);
  const f32 = Buffer.alloc(8); f32.writeFloatLE(0.5, 0); f32.writeFloatLE(-3, 4);
  const i64 = Buffer.alloc(16); i64.writeBigInt64LE(-7n, 0); i64.writeBigInt64LE(123456789n, 8);
  const i32 = Buffer.alloc(4); i32.writeInt32LE(-42);
  const data = [...f64, ...f32, 0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x40, 0xc0, ...i64, ...i32, 200, 1, 0];
  const header = {
    __metadata__: { format: 'pt' },
    pi: { dtype: 'F64', shape: [], data_offsets: [0, 8] },
    w: { dtype: 'F32', shape: [2, 1], data_offsets: [8, 16] },
    half: { dtype: 'F16', shape: [2], data_offsets: [16, 20] },      // 1.0, -2.0
    brain: { dtype: 'BF16', shape: [2], data_offsets: [20, 24] },    // 1.0, -3.0
    idx: { dtype: 'I64', shape: [2], data_offsets: [24, 40] },
    n: { dtype: 'I32', shape: [1], data_offsets: [40, 44] },
    byte: { dtype: 'U8', shape: [1], data_offsets: [44, 45] },
    mask: { dtype: 'BOOL', shape: [2], data_offsets: [45, 47] },
  };
  const { tensors, metadata } = g.decodeSafetensors(handMade(header, data));
  assert.equal(metadata, { format: 'pt' });
  const plain = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, [t.dtype, t.shape, Array.from(t.data)]]));
  assert.equal(plain, {
    pi: ['float64', [], [Math.PI]], w: ['float32', [2, 1], [0.5, -3]], half: ['float32', [2], [1, -2]],
    brain: ['float32', [2], [1, -3]], idx: ['int32', [2], [-7, 123456789]], n: ['int32', [1], [-42]],
    byte: ['int32', [1], [200]], mask: ['int32', [2], [1, 0]],
  });
  const path = join(dir, 'hand.safetensors');
  writeFileSync(path, handMade(header, data));
  const loaded = await g.load(path, { device: 'cpu' });
  assert.is(loaded.pi.dtype, 'float64');
  assert.equal(await loaded.w.toArray(), [[0.5], [-3]]);
});

test('save → load round trip of a model state dict; the loaded weights reproduce the model', async () => {
  const a = mlp('cpu', 'float32', 3);
  const path = join(dir, 'mlp.safetensors');
  await g.save(a.stateDict(), path, { note: 'test' });
  const state = await g.load(path, { device: 'cpu' });
  assert.equal(Object.keys(state), Object.keys(a.stateDict()));
  const b = mlp('cpu', 'float32', 4);
  b.loadStateDict(state);
  const x = g.linspace(-1, 1, 7).reshape(7, 1);
  assert.equal(Array.from(await b.forward(x).data()), Array.from(await a.forward(x).data()));
  // float64 and int32 survive too
  const mixed = { d: g.tensor([1 / 3, 2e-300], { dtype: 'float64' }), i: g.tensor([[-1, 2147483647]], { dtype: 'int32' }) };
  await g.save(mixed, path);
  const back = await g.load(path, { device: 'cpu' });
  assert.equal([back.d.dtype, back.i.dtype], ['float64', 'int32']);
  assert.equal(Array.from(await back.d.data()), [1 / 3, 2e-300]);
  assert.equal(await back.i.toArray(), [[-1, 2147483647]]);
});

test('load onto WebGPU, converting float64 to float32', async () => {
  if (!webgpuAvailable()) return;
  const path = join(dir, 'f64.safetensors');
  await g.save({ w: g.tensor([0.25, -1.5], { dtype: 'float64' }) }, path);
  let err: unknown = null;
  try { await g.load(path, { device: 'webgpu' }); } catch (e) { err = e; }
  assert.instance(err, g.GpugradError);
  assert.match(String(err), /'w' is float64, which webgpu does not have; pass \{dtype: 'float32'\}/);
  const w = (await g.load(path, { device: 'webgpu', dtype: 'float32' })).w;
  assert.is(w.device, 'webgpu');
  assertClose(await w.data(), [0.25, -1.5]);
});

test('broken files are refused with a reason', () => {
  throwsGpugrad(() => g.decodeSafetensors(new Uint8Array(4)), /only 4 bytes/, 'short');
  const big = new Uint8Array(16);
  new DataView(big.buffer).setBigUint64(0, 1000n, true);
  throwsGpugrad(() => g.decodeSafetensors(big), /claims 1000 bytes/, 'header length');
  throwsGpugrad(() => g.decodeSafetensors(handMade({ a: 1 }, []).slice(0, 10)), /claims|not JSON/, 'truncated header');
  throwsGpugrad(() => g.decodeSafetensors(handMade({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0])),
    /dtype "C64"/, 'dtype');
  throwsGpugrad(() => g.decodeSafetensors(handMade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0])),
    /needs 12 bytes/, 'size');
  throwsGpugrad(() => g.decodeSafetensors(handMade({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0])),
    /past its end/, 'past the end');
});

test('every malformed header is a GpugradError naming the file and the problem', async () => {
  const f32 = (shape: number[], offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const eight = [0, 0, 128, 63, 0, 0, 0, 64]; // 1.0f, 2.0f
  const cases: [string, Uint8Array, RegExp][] = [
    ['negative begin', handMade({ x: f32([1], [-4, 0]) }, eight), /"x" has data_offsets \[-4,0\]: they must be two integers 0 ≤ begin ≤ end/],
    ['fractional offsets', handMade({ x: f32([1], [0.5, 4.5]) }, eight), /data_offsets \[0\.5,4\.5\]/],
    ['begin after end', handMade({ x: f32([0], [8, 4]) }, eight), /data_offsets \[8,4\]/],
    ['one offset', handMade({ x: f32([1], [0]) }, eight), /data_offsets \[0\]/],
    ['offsets as strings', handMade({ x: f32([1], ['0', '4']) }, eight), /data_offsets \["0","4"\]/],
    ['overlap', handMade({ a: f32([2], [0, 8]), b: f32([1], [4, 8]) }, eight), /tensors "a" and "b" overlap/],
    ['span not dtype × shape', handMade({ x: f32([3], [0, 8]) }, eight), /needs 12 bytes, its offsets \[0, 8\] span 8/],
    ['out of range', handMade({ x: f32([2], [0, 8]) }, eight.slice(0, 4)), /ends at byte 8 of the data, past its end/],
    ['a gap', handMade({ x: f32([1], [4, 8]) }, eight), /bytes 0\.\.4 of the data belong to no tensor/],
    ['trailing bytes', handMade({ x: f32([1], [0, 4]) }, eight), /the tensors end at byte 4 of the data but it has 8 bytes/],
    ['null header', handMade(null as unknown as object, []), /the header must be a JSON object, got null/],
    ['array header', handMade([1, 2], []), /the header must be a JSON object, got an array/],
    ['number header', handMade(3 as unknown as object, []), /got number/],
    ['entry not an object', handMade({ x: null }, []), /tensor "x" must be described by an object/],
    ['bad dtype', handMade({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, eight), /dtype "C64", which gpugrad does not read/],
    ['dtype from the prototype', handMade({ x: { dtype: 'toString', shape: [1], data_offsets: [0, 8] } }, eight), /dtype "toString"/],
    ['missing dtype', handMade({ x: { shape: [1], data_offsets: [0, 4] } }, eight.slice(0, 4)), /dtype undefined/],
    ['bad shape', handMade({ x: f32([-1], [0, 4]) }, eight.slice(0, 4)), /shape \[-1\]: it must be a list of non-negative integers/],
    ['shape not a list', handMade({ x: f32('2' as unknown as number[], [0, 8]) }, eight), /shape "2"/],
    ['metadata not strings', handMade({ __metadata__: { a: 1 } }, []), /__metadata__ must be an object of strings/],
    ['header length beyond the file', (() => { const b = handMade({}, []); new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true); return b; })(),
      /the header claims 9223372036854775808 bytes but the file has/],
  ];
  for (const [what, bytes, pattern] of cases) {
    throwsGpugrad(() => g.decodeSafetensors(bytes), pattern, what);
    const path = join(dir, `bad-${what.replace(/\W+/g, '-')}.safetensors`);
    writeFileSync(path, bytes);
    let err: unknown = null;
    try { await g.load(path, { device: 'cpu' }); } catch (e) { err = e; }
    assert.instance(err, g.GpugradError, `${what}: load`);
    assert.ok(String(err).includes(`load: ${path} is not a valid safetensors file: `), `${what}: names the file: ${String(err)}`);
    assert.match(String(err), pattern, `${what}: load`);
  }
});

test('a tensor named __proto__ (or constructor) is a tensor like any other, both ways', async () => {
  const data = { dtype: 'float32' as const, shape: [1], data: Float32Array.of(7) };
  const bytes = g.encodeSafetensors(Object.fromEntries([['__proto__', data], ['constructor', { ...data, data: Float32Array.of(8) }]]));
  const { tensors } = g.decodeSafetensors(bytes);
  assert.equal(Object.keys(tensors), ['__proto__', 'constructor']);
  assert.equal(Array.from(Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data), [7]);
  assert.is(Object.getPrototypeOf(tensors), Object.prototype, 'the prototype is untouched');
  const path = join(dir, 'proto.safetensors');
  await g.save(Object.fromEntries([['__proto__', g.tensor([5])]]), path);
  const loaded = await g.load(path, { device: 'cpu' });
  assert.equal(Object.keys(loaded), ['__proto__']);
  assert.equal(Array.from(await Object.getOwnPropertyDescriptor(loaded, '__proto__')!.value.data()), [5]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
