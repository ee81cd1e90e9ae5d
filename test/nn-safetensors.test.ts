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
    /dtype C64/, 'dtype');
  throwsGpugrad(() => g.decodeSafetensors(handMade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0])),
    /needs 12 bytes/, 'size');
  throwsGpugrad(() => g.decodeSafetensors(handMade({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0])),
    /past the end/, 'past the end');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
