/**
 * Small builders of Vega-Lite specs, so an experiment's figures read as "loss vs iteration, coloured by model, log y"
 * instead of forty lines of JSON. They return plain spec objects; report/render.ts adds the title and draws them.
 * They live on the run floor because experiments declare their figures with them and the report draws them.
 */
import type { Row } from './types.js';

type Spec = Record<string, unknown>;

export interface Axis {
  field: string;
  title: string;
  log?: boolean;
  /** 'quantitative' unless given */
  type?: 'quantitative' | 'ordinal' | 'nominal';
  /** d3 number format for the axis labels, e.g. '.0e' or '~s' */
  format?: string;
  /** include zero in the scale (default: no, so curves fill the panel) */
  zero?: boolean;
  domain?: [number, number];
  /** the axis ends at the data's first and last values (iterations 0…N), no rounding out, no padding */
  tight?: boolean;
  /** integer ticks only (epochs) */
  integer?: boolean;
  /**
   * keep noise from looking like a result: a log axis spans at least this many decades below the data's top (an
   * untrained loss of 2.24–2.30 stays a flat line)
   */
  minDecades?: number;
  /** a linear axis includes this value (chance level) when the data stay below `baselineUntil` (not yet trained) */
  baseline?: number;
  baselineUntil?: number;
}

export interface Series {
  field: string;
  title: string;
  /** the order of the groups in the legend (and, with `colors`, their colours) */
  sort?: string[];
  scheme?: string;
  /** colours for the groups named in `sort`, in that order (e.g. black for the ground truth) */
  colors?: string[];
}

export interface ChartOptions {
  x: Axis;
  y: Axis;
  color?: Series;
  /** a second grouping drawn as dashes (e.g. train vs test) */
  dash?: Series;
  /** draw points on the line too */
  points?: boolean;
  /** a text label per point from this field */
  label?: string;
  /** join points with lines in this field's order (for paths); default: along x */
  order?: string;
  /** one line per value of this field, without a legend (e.g. 100 trainings coloured by alive/dead) */
  detail?: string;
  /** tooltip-free subtitle for one panel */
  panelTitle?: string;
  width?: number;
  height?: number;
}

function encodeAxis(a: Axis): Spec {
  // log axes end at the data (not at the next power of ten): nice ticks on a log scale can leave a decade empty
  const scale: Spec = a.log ? { type: 'log', nice: false, padding: 8 } : { zero: a.zero ?? false, padding: 6 };
  if (a.tight) Object.assign(scale, { nice: false, padding: 0 });
  if (a.domain) scale.domain = a.domain;
  const axis: Spec = a.format ? { format: a.format } : {};
  if (a.integer) Object.assign(axis, { tickMinStep: 1, format: 'd' });
  return {
    field: a.field,
    type: a.type ?? 'quantitative',
    title: a.title,
    scale: a.type && a.type !== 'quantitative' ? undefined : scale,
    axis,
  };
}

/** The y axis with its domain widened from the data where `minDecades` or `baseline` ask for it. */
function fitAxis(a: Axis, rows: Row[]): Axis {
  if (a.domain || (a.minDecades === undefined && a.baseline === undefined)) return a;
  const v = rows.map((r) => Number(r[a.field])).filter((x) => Number.isFinite(x) && (!a.log || x > 0));
  if (!v.length) return a;
  const lo = Math.min(...v), hi = Math.max(...v);
  if (a.log && a.minDecades !== undefined && hi / lo < 10 ** a.minDecades) return { ...a, domain: [hi / 10 ** a.minDecades, hi] };
  if (!a.log && a.baseline !== undefined && hi < (a.baselineUntil ?? Infinity)) {
    return { ...a, domain: [Math.min(lo, a.baseline), Math.max(hi, a.baselineUntil ?? hi)] };
  }
  return a;
}

function encodeSeries(s: Series, channel: 'color' | 'strokeDash'): Spec {
  const scale = channel !== 'color' ? undefined
    : s.colors && s.sort ? { domain: s.sort, range: s.colors }
      : s.scheme ? { scheme: s.scheme } : undefined;
  // a dash legend shows strokes, also where the lines carry points (else both entries are the same black dot)
  const legend = channel === 'strokeDash'
    ? { legend: { symbolType: 'stroke', symbolSize: 300, symbolStrokeWidth: 1.6, labelLimit: 400, encode: { symbols: { update: { stroke: { value: '#444' } } } } } } : {};
  return { field: s.field, type: 'nominal', title: s.title, ...(s.sort ? { sort: s.sort } : {}), ...(scale ? { scale } : {}), ...legend };
}

/** Rows with a non-positive value can not sit on a log axis: keep them out (and out of the domain). */
function logFilter(o: ChartOptions): Spec[] {
  const f: Spec[] = [];
  for (const a of [o.x, o.y]) if (a.log) f.push({ filter: `isValid(datum['${a.field}']) && datum['${a.field}'] > 0` });
  return f;
}

function encoding(o: ChartOptions): Spec {
  const e: Spec = { x: encodeAxis(o.x), y: encodeAxis(o.y) };
  if (o.color) e.color = encodeSeries(o.color, 'color');
  if (o.dash) e.strokeDash = encodeSeries(o.dash, 'strokeDash');
  if (o.order) e.order = { field: o.order, type: 'quantitative' };
  if (o.detail) e.detail = { field: o.detail, type: 'nominal' };
  return e;
}

function frame(o: ChartOptions, rows: Row[]): Spec {
  return {
    width: o.width ?? 480,
    height: o.height ?? 280,
    data: { values: rows },
    ...(o.panelTitle ? { title: o.panelTitle } : {}),
    transform: logFilter(o),
  };
}

/** Lines (one per colour/dash group), optionally with points and per-point labels. */
export function line(rows: Row[], opts: ChartOptions): Spec {
  const o = { ...opts, y: fitAxis(opts.y, rows) };
  const layers: Spec[] = [{ mark: { type: 'line', point: o.points ?? false, strokeWidth: 1.6, clip: true }, encoding: encoding(o) }];
  if (o.label) layers.push(labels(o));
  return { ...frame(o, rows), layer: layers };
}

/** Points (one colour per group), optionally labelled. */
export function scatter(rows: Row[], opts: ChartOptions & { shape?: Series; size?: number }): Spec {
  const o = { ...opts, y: fitAxis(opts.y, rows) };
  const enc = encoding(o);
  if (o.shape) enc.shape = { field: o.shape.field, type: 'nominal', title: o.shape.title };
  const layers: Spec[] = [{ mark: { type: 'point', filled: true, size: o.size ?? 40, opacity: 0.8, clip: true }, encoding: enc }];
  if (o.label) layers.push(labels(o));
  return { ...frame(o, rows), layer: layers };
}

function labels(o: ChartOptions): Spec {
  return {
    mark: { type: 'text', align: 'left', dx: 4, dy: -4, fontSize: 9, clip: true },
    encoding: { x: encodeAxis(o.x), y: encodeAxis(o.y), text: { field: o.label }, ...(o.color ? { color: encodeSeries(o.color, 'color') } : {}) },
  };
}

/**
 * Side-by-side panels (wrapped after `columns`), each with its own axes. Colours and dashes share one legend unless
 * `independentLegends` (panels whose groups differ, e.g. train/test in one and three measures in the other).
 */
export function panels(specs: Spec[], columns = 2, independentLegends = false): Spec {
  const mode = independentLegends ? 'independent' : 'shared';
  return { concat: specs, columns, resolve: { scale: { color: mode, strokeDash: mode } } };
}

/**
 * At most `max` rows per group (every k-th, always keeping the first and last): a 20 000-step curve drawn with 2 000
 * points looks the same and keeps the SVG small.
 */
export function thin(rows: Row[], max = 1500, groupBy?: string): Row[] {
  const groups = new Map<unknown, Row[]>();
  for (const r of rows) {
    const k = groupBy ? r[groupBy] : '';
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const out: Row[] = [];
  for (const g of groups.values()) {
    const k = Math.max(1, Math.ceil(g.length / max));
    g.forEach((r, i) => { if (i % k === 0 || i === g.length - 1) out.push(r); });
  }
  return out;
}

/** Rows with the given fraction fields as percentages (accuracy is drawn in %, as the text states it). */
export function percent(rows: Row[], fields: string[]): Row[] {
  return rows.map((r) => {
    const o: Row = { ...r };
    for (const f of fields) if (typeof r[f] === 'number') o[f] = 100 * (r[f] as number);
    return o;
  });
}

/** Turns wide rows ({epoch, trainLoss, testLoss}) into long ones ({epoch, split: 'train', value}) for colour/dash. */
export function melt(rows: Row[], keep: string[], columns: Record<string, string>, nameField = 'series', valueField = 'value'): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    for (const [col, name] of Object.entries(columns)) {
      if (r[col] === undefined) continue;
      const o: Row = {};
      for (const k of keep) o[k] = r[k];
      o[nameField] = name;
      o[valueField] = r[col];
      out.push(o);
    }
  }
  return out;
}
