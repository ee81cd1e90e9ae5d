/**
 * The elementwise kernels' scalar and vec4 variants side by side, in one process on the same device:
 *   node scripts/build.mjs && node scripts/run-with-gpu.mjs $GPUGRAD_DIST/bench/elementwise.js [--reps 9] [--scalar-only]
 * Each case is timed as the median wall time of `reps` single dispatches (sync before and after), alternating the
 * variants so that load from other processes hits both alike. Outputs are compared before timing.
 */
import * as g from '../src/index.js';
import * as common from '../src/kernels/wgsl/common.js';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1] ?? 9) || 9;
const variants: string[] = 'forceElementwiseVariant' in common && !args.includes('--scalar-only') ? ['scalar', 'auto'] : ['scalar'];
const force = (v: string) => {
  if ('forceElementwiseVariant' in common) (common as any).forceElementwiseVariant(v === 'auto' ? null : v);
};

g.setDevice('webgpu');
const M = 1024;
const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 2);
const x = g.tensor(rnd(M * M), { shape: [M, M] });
const y = g.tensor(rnd(M * M).reverse(), { shape: [M, M] });
const bias = g.tensor(rnd(M), { shape: [M] });
const col = g.tensor(rnd(M), { shape: [M, 1] });
const pos = x.abs();
const cases: [string, () => g.Tensor][] = [
  ['add 1M', () => x.add(y)],
  ['relu 1M', () => x.relu()],
  ['add bias [1024,1024]+[1024]', () => x.add(bias)],
  ['add column [1024,1024]+[1024,1]', () => x.add(col)],
  ['mul scalar 1M', () => x.mul(2)],
  ['where 1M', () => g.where(x, y, bias)],
  // the special-value guards (select()s and bit tests, src/kernels/wgsl/common.ts ieeeWgsl)
  ['exp 1M', () => x.exp()],
  ['log 1M', () => pos.log()],
];

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`reps ${reps}; variants ${variants.join(', ')}; ${g.deviceInfo?.() ? JSON.stringify(g.deviceInfo()) : ''}`);
for (const [name, f] of cases) {
  const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const outs: Float32Array[] = [];
  for (const v of variants) { // warm-up (compiles the pipeline) and check
    force(v);
    const o = f();
    outs.push((await o.data()) as Float32Array);
    o.dispose();
  }
  for (let i = 1; i < outs.length; i++) {
    if (!outs[i].every((u, k) => Object.is(u, outs[0][k]) || u === outs[0][k])) throw new Error(`${name}: variants disagree`);
  }
  for (let r = 0; r < reps; r++) {
    for (const v of variants) {
      force(v);
      await g.sync();
      const t0 = performance.now();
      const o = f();
      await g.sync();
      times[v].push(performance.now() - t0);
      o.dispose();
    }
  }
  const cols = variants.map((v) => `${v} ${median(times[v]).toFixed(2)} ms`);
  const speedup = variants.length > 1 ? `  ×${(median(times.scalar) / median(times.auto)).toFixed(2)}` : '';
  console.log(`${name.padEnd(34)} ${cols.join('   ')}${speedup}`);
}
force('auto');
await g.shutdown();
