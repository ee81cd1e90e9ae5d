/**
 * The data-movement kernels around the gemm, in wasm too: packing A and B panels from any strides, im2col and col2im.
 * Written first in JavaScript over typed arrays, they cost more than the gemm itself on a conv (CNN-B's 5×5 conv,
 * batch 64: ~420 ms of packing against ~210 ms of multiply, measured under load): scalar wasm with no allocation and
 * no bounds-check deopts moves an element in about a nanosecond. Addresses are bytes; strides and sizes elements.
 */
import { Fn, type Float, floatBytes } from './emit.js';
import { MR, nr } from './tile.js';

/** `local += n · size` bytes, where n is a local (an element stride). */
function advance(f: Fn, ptr: string, strideLocal: string, size: number): void {
  f.get(ptr).get(strideLocal).i32(size).mul().add().set(ptr);
}

/** packA(src, dst, sRow, sK, m, k, panelStride): rows into MR-row panels [k][MR], rows past m zero. */
export function packA(t: Float): Fn {
  const size = floatBytes(t);
  const f = new Fn(`packA_${t}`, [['src', 'i32'], ['dst', 'i32'], ['sRow', 'i32'], ['sK', 'i32'], ['m', 'i32'], ['k', 'i32'],
    ['panelStride', 'i32']]);
  f.local('i32', 'row', 'q', 'd', 's', 'panelBytes');
  f.get('panelStride').i32(size).mul().set('panelBytes');
  // row r of panel i lands at dst + i·panelBytes + r·size, then every MR·size bytes
  f.local('i32', 'rows').get('m').i32(MR - 1).add().i32(MR).divS().i32(MR).mul().set('rows');
  f.for('row', 0, 'rows', 1, () => {
    f.get('dst').get('row').i32(MR).divS().get('panelBytes').mul().add()
      .get('row').i32(MR).remS().i32(size).mul().add().set('d');
    f.get('row').get('m').ltS().if();
    f.get('src').get('row').get('sRow').mul().i32(size).mul().add().set('s');
    f.for('q', 0, 'k', 1, () => {
      f.get('d').get('s').fload(t).fstore(t);
      f.inc('d', MR * size);
      advance(f, 's', 'sK', size);
    });
    f.else();
    f.for('q', 0, 'k', 1, () => { f.get('d').fzero(t).fstore(t).inc('d', MR * size); });
    f.end();
  });
  return f;
}

/** packB(src, dst, sK, sCol, k, n, panelStride): columns into NR-column panels [k][NR], columns past n zero. */
export function packB(t: Float): Fn {
  const size = floatBytes(t), NR = nr(t);
  const f = new Fn(`packB_${t}`, [['src', 'i32'], ['dst', 'i32'], ['sK', 'i32'], ['sCol', 'i32'], ['k', 'i32'], ['n', 'i32'],
    ['panelStride', 'i32']]);
  f.local('i32', 'j0', 'q', 'c', 'cols', 'base', 'd', 's', 'row');
  f.for('j0', 0, 'n', NR, () => {
    // cols = min(NR, n − j0)
    f.get('n').get('j0').sub().set('cols');
    f.get('cols').i32(NR).geS().if().i32(NR).set('cols').end();
    f.get('dst').get('j0').i32(NR).divS().get('panelStride').mul().i32(size).mul().add().set('base');
    f.get('src').get('j0').get('sCol').mul().i32(size).mul().add().set('row');
    f.for('q', 0, 'k', 1, () => {
      f.get('base').get('q').i32(NR * size).mul().add().set('d');
      // a whole panel row read with unit stride: two vector copies
      f.get('sCol').i32(1).eq().get('cols').i32(NR).eq().and().if();
      for (let v = 0; v < NR * size / 16; v++) f.get('d').get('row').vload(v * 16).vstore(v * 16);
      f.else();
      f.get('row').set('s');
      f.for('c', 0, 'cols', 1, () => {
        f.get('d').get('c').i32(size).mul().add().get('s').fload(t).fstore(t);
        advance(f, 's', 'sCol', size);
      });
      f.local('i32', 'nr').i32(NR).set('nr');
      f.for('c', 'cols', 'nr', 1, () => { f.get('d').get('c').i32(size).mul().add().fzero(t).fstore(t); });
      f.end();
      advance(f, 'row', 'sK', size);
    });
  });
  return f;
}

const GEOM: [string, 'i32'][] = ['C', 'H', 'W', 'kH', 'kW', 'outH', 'outW', 'sH', 'sW', 'pH', 'pW', 'dH', 'dW']
  .map((n) => [n, 'i32']);
/**
 * Where element (q, p) of the column matrix lives (q = tap (c, kh, kw), p = output pixel (oh, ow)), in elements from
 * `col`: (q / qWidth)·qPanel + (q % qWidth)·qStep + (p / pWidth)·pPanel + (p % pWidth)·pStep. One walker serves a
 * plain [K, P] matrix, B panels (im2col straight into the gemm's packed layout, never stored twice), A panels (the
 * weight gradient's) and col2im's reading of a gemm result.
 */
const LAYOUT: [string, 'i32'][] = ['qWidth', 'qPanel', 'qStep', 'pWidth', 'pPanel', 'pStep'].map((n) => [n, 'i32']);

/**
 * Walks the column matrix against the image: `inside` runs with the image element's byte address in local `xa` and
 * the column element's in `ca`; `outside` for taps in the padding. Per element: one add for each address and two
 * unsigned compares — the row's base address and the tap's column offset are computed once per row.
 */
function walkCol(f: Fn, size: number, inside: () => void, outside: () => void): void {
  f.local('i32', 'ch', 'kh', 'kw', 'q', 'oh', 'ow', 'ih', 'iw', 'ca', 'xa', 'rowBase', 'rowOk', 'pc', 'pStepB', 'pJumpB', 'plane');
  f.get('H').get('W').mul().set('plane');
  f.get('pStep').i32(size).mul().set('pStepB');
  // bytes from a panel's last column to the next panel's first
  f.get('pPanel').get('pWidth').get('pStep').mul().sub().i32(size).mul().set('pJumpB');
  f.i32(0).set('q');
  f.for('ch', 0, 'C', 1, () => f.for('kh', 0, 'kH', 1, () => f.for('kw', 0, 'kW', 1, () => {
    f.get('col')
      .get('q').get('qWidth').divS().get('qPanel').mul()
      .get('q').get('qWidth').remS().get('qStep').mul().add()
      .i32(size).mul().add().set('ca');
    f.i32(0).set('pc');
    f.for('oh', 0, 'outH', 1, () => {
      f.get('oh').get('sH').mul().get('pH').sub().get('kh').get('dH').mul().add().set('ih');
      f.get('ih').get('H').ltU().set('rowOk');
      f.get('x').get('ch').get('plane').mul().get('ih').get('W').mul().add().i32(size).mul().add().set('rowBase');
      f.get('kw').get('dW').mul().get('pW').sub().set('iw');
      f.for('ow', 0, 'outW', 1, () => {
        f.get('rowOk').get('iw').get('W').ltU().and().if();
        f.get('rowBase').get('iw').i32(size).mul().add().set('xa');
        inside();
        f.else();
        outside();
        f.end();
        f.inc('iw', 'sW').inc('ca', 'pStepB').inc('pc', 1);
        f.get('pc').get('pWidth').eq().if().i32(0).set('pc').inc('ca', 'pJumpB').end();
      });
    });
    f.inc('q', 1);
  })));
}

/** im2col(x, col, layout…, geometry…): element (q, p) = the image element tap q of pixel p reads, 0 in the padding. */
export function im2col(t: Float): Fn {
  const size = floatBytes(t);
  const f = new Fn(`im2col_${t}`, [['x', 'i32'], ['col', 'i32'], ...LAYOUT, ...GEOM]);
  walkCol(f, size, () => { f.get('ca').get('xa').fload(t).fstore(t); }, () => { f.get('ca').fzero(t).fstore(t); });
  return f;
}

/** col2im(x, col, layout…, geometry…): adds element (q, p) into the image element it was read from (im2col's adjoint). */
export function col2im(t: Float): Fn {
  const size = floatBytes(t);
  const f = new Fn(`col2im_${t}`, [['x', 'i32'], ['col', 'i32'], ...LAYOUT, ...GEOM]);
  walkCol(f, size, () => { f.get('xa').get('xa').fload(t).get('ca').fload(t).fop(t, 'add').fstore(t); }, () => {});
  return f;
}
