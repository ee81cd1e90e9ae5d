/**
 * HessianPool and hessianSpectra (library, Node): the spectra of small MLPs' float64 Hessians, in the calling thread
 * or in worker threads (the same arithmetic, the same numbers), one network alone (hessian) or several together
 * (ensembleHessian); a bad group fails with the fix in the message and leaves no tensor behind; a worker that dies
 * fails only its own group.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

/** minimal-ratio's deep 571-parameter model */
const DEEP = [1, 5, 10, 10, 10, 10, 10, 5, 1];

test('the Hessian pool: worker threads give the spectra the main thread gives, in order; a failing job rejects', async () => {
  const points = { ...g.f1() };
  const keep = (a: Float64Array) => a.filter((_, k) => k % 50 === 0);
  const { x, y } = g.functionDataset({ ...points, x: keep(points.x), y: keep(points.y) }, { device: 'cpu', dtype: 'float64' });
  const nets = await Promise.all([1, 2, 3].map(async (seed) => {
    const m = new g.MLPEnsemble(1, DEEP, { device: 'cpu', dtype: 'float64', generators: [new g.Generator(seed)] });
    const p: Record<string, Float64Array> = {};
    for (const [k, t] of m.namedParameters()) p[k] = Float64Array.from(await t.data());
    m.dispose();
    return p;
  }));
  const inThread = new g.HessianPool(DEEP, x, y, { tauRel: 1e-6, workers: 1 });
  const pool = new g.HessianPool(DEEP, x, y, { tauRel: 1e-6, workers: 2 });
  assert.is(inThread.workers, 0);
  assert.is(pool.workers, 2);
  try {
    const live = g.memory().cpu.tensors;
    const want = await Promise.all([inThread.spectra([nets[0]]), inThread.spectra([nets[1], nets[2]])]);
    await inThread.spectra([{ ...nets[0], '2.bias': new Float64Array(3) }]).then(() => assert.unreachable('a bad group must throw'),
      (e: Error) => assert.match(e.message, /hessianSpectra: network 0 gives 3 values for '2\.bias', the MLP \[1,5,10,10,10,10,10,5,1\] needs 10/));
    assert.is(g.memory().cpu.tensors, live, 'no tensor left behind, after a failure either');
    const got = await Promise.all([pool.spectra([nets[0]]), pool.spectra([nets[1], nets[2]])]);
    assert.equal(got, want, 'the same float64 arithmetic in a worker');
    assert.is(got[1].length, 2);
    assert.ok(got[0][0].nPositive > 0 && got[0][0].nPositive !== got[1][0].nPositive, 'different networks, different spectra');
    const bad = { ...nets[0], '0.weight': new Float64Array(2) }; // the wrong size for the layer
    await pool.spectra([bad]).then(() => assert.unreachable('a bad job must reject'), (e: Error) => assert.match(e.message, /Hessian worker: .*network 0 gives 2 values for '0\.weight', the MLP \[1,5,10,10,10,10,10,5,1\] needs 5/));
    assert.equal(await pool.spectra([nets[0]]), want[0], 'the pool still works after a failed job');
    // a worker thread that dies fails its own group only; the others carry on
    const a = pool.spectra([nets[0]]), b = pool.spectra([nets[1]]);
    await new Promise((r) => setTimeout(r, 50)); // both posted (571 backward passes take far longer than this)
    const [victim] = [...(pool as unknown as { busy: Map<{ terminate(): Promise<number> }, number> }).busy.keys()];
    await victim.terminate();
    const settled = await Promise.allSettled([a, b]);
    const died = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.is(died.length, 1, 'exactly the dead worker\'s group fails');
    assert.match(String(died[0].reason), /a worker thread died while computing this group/);
    assert.is(pool.workers, 1);
    assert.equal(await pool.spectra([nets[2]]), [want[1][1]], 'the remaining worker takes new groups');
  } finally {
    await pool.close();
    x.dispose(); y.dispose();
  }
});

test('one network through hessian and the same network in a group through ensembleHessian: the same spectrum', async () => {
  const { x, y } = g.functionDataset({ ...g.f1(), x: g.f1().x.filter((_, k) => k % 50 === 0), y: g.f1().y.filter((_, k) => k % 50 === 0) }, { device: 'cpu', dtype: 'float64' });
  const host = async (seed: number) => {
    const m = new g.MLPEnsemble(1, DEEP, { device: 'cpu', dtype: 'float64', generators: [new g.Generator(seed)] });
    const p: Record<string, Float64Array> = {};
    for (const [k, t] of m.namedParameters()) p[k] = Float64Array.from(await t.data());
    m.dispose();
    return p;
  };
  const [a, b] = [await host(4), await host(5)];
  const [alone] = await g.hessianSpectra(DEEP, [a], x, y, 1e-6);
  const [together] = await g.hessianSpectra(DEEP, [a, b], x, y, 1e-6);
  for (const k of ['nPositive', 'nNegative', 'nNearZero'] as const) assert.is(together[k], alone[k], k);
  assert.ok(Math.abs(together.lambdaMax - alone.lambdaMax) <= 1e-9 * Math.abs(alone.lambdaMax), 'λmax');
  assert.throws(() => new g.HessianPool(DEEP, x, y, { tauRel: 1e-6, workers: -1 }), /HessianPool: workers must be 0 \(one per core\) or a positive integer, got -1/);
  x.dispose(); y.dispose();
});

test.run();
