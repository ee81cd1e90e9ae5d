/**
 * Max pooling on the wasm device as scalar wasm kernels, with the reference's rules (./cpu/vision.ts): padding is −∞,
 * the first maximum in scan order wins, NaN wins over numbers (the first NaN), and the index is h·W + w in the plane
 * (−1 when a window lies wholly in the padding). In JavaScript over the memory's typed arrays these loops were 11 % of
 * a CNN-A step (~37 ns per output); here an output costs a few nanoseconds. Addresses are bytes; sizes elements.
 */
import { Fn, type Float, floatBytes } from './emit.js';

const ints = (...names: string[]) => names.map((n): [string, 'i32'] => [n, 'i32']);

/** maxpool(x, out, ind, planes, H, W, outH, outW, kH, kW, sH, sW, pH, pW): out and its int32 indices, plane by plane. */
export function maxPool(t: Float): Fn {
  const size = floatBytes(t);
  const f = new Fn(`maxpool_${t}`, ints('x', 'out', 'ind', 'planes', 'H', 'W', 'outH', 'outW', 'kH', 'kW', 'sH', 'sW', 'pH', 'pW'));
  f.local('i32', 'nc', 'oh', 'ow', 'kh', 'kw', 'h0', 'w0', 'ih', 'iw', 'base', 'at', 'arg', 'take', 'planeBytes')
    .local(t, 'v', 'best');
  f.get('H').get('W').mul().i32(size).mul().set('planeBytes');
  f.get('x').set('base');
  f.for('nc', 0, 'planes', 1, () => {
    f.for('oh', 0, 'outH', 1, () => {
      f.get('oh').get('sH').mul().get('pH').sub().set('h0');
      f.for('ow', 0, 'outW', 1, () => {
        f.get('ow').get('sW').mul().get('pW').sub().set('w0');
        f.f64const(-Infinity).fromF64(t).set('best');
        f.i32(-1).set('arg');
        f.for('kh', 0, 'kH', 1, () => {
          f.get('h0').get('kh').add().tee('ih').get('H').ltU().if();
          f.for('kw', 0, 'kW', 1, () => {
            f.get('w0').get('kw').add().tee('iw').get('W').ltU().if();
            f.get('ih').get('W').mul().get('iw').add().set('at');
            f.get('base').get('at').i32(size).mul().add().fload(t).set('v');
            // arg < 0 || v > best || (v is NaN && best is not)
            f.get('arg').i32(0).ltS()
              .get('v').get('best').fop(t, 'gt').or()
              .get('v').get('v').fop(t, 'ne').get('best').get('best').fop(t, 'eq').and().or();
            // which tap wins is data: selects, not a branch (mispredicted, it cost ~6 ns a tap), on the float's bits
            f.set('take');
            f.get('v').toBits(t).get('best').toBits(t).get('take').select().fromBits(t).set('best');
            f.get('at').get('arg').get('take').select().set('arg');
            f.end();
          });
          f.end();
        });
        f.get('out').get('best').fstore(t).inc('out', size);
        f.get('ind').get('arg').istore().inc('ind', 4);
      });
    });
    f.inc('base', 'planeBytes');
  });
  return f;
}

/** maxpoolBack(g, ind, dx, planes, outPlane, plane): dx (zeroed) += each output's gradient at the input it chose. */
export function maxPoolBackward(t: Float): Fn {
  const size = floatBytes(t);
  const f = new Fn(`maxpoolBack_${t}`, ints('g', 'ind', 'dx', 'planes', 'outPlane', 'plane'));
  f.local('i32', 'nc', 'j', 'k', 'a', 'planeBytes');
  f.get('plane').i32(size).mul().set('planeBytes');
  f.for('nc', 0, 'planes', 1, () => {
    f.for('j', 0, 'outPlane', 1, () => {
      f.get('ind').iload().set('k');
      // −1: a window wholly in the padding chose nothing
      f.get('k').i32(0).geS().if();
      f.get('dx').get('k').i32(size).mul().add().tee('a').get('a').fload(t).get('g').fload(t).fop(t, 'add').fstore(t);
      f.end();
      f.inc('ind', 4).inc('g', size);
    });
    f.inc('dx', 'planeBytes');
  });
  return f;
}
