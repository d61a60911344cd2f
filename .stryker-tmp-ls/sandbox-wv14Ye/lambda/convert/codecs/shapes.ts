// @ts-nocheck
import type { ClassIndexMask } from './mask';

/** A shape resolved to its class index, ready to paint. */
export type IndexedShape =
  | { readonly kind: 'polygon'; readonly index: number; readonly rings: readonly (readonly number[])[] }
  | { readonly kind: 'bitmap'; readonly index: number; readonly width: number; readonly height: number; readonly pixels: Uint8Array }
  | {
      readonly kind: 'spans';
      readonly index: number;
      readonly width: number;
      readonly height: number;
      readonly spans: Int32Array;
      readonly area: number;
    };

/**
 * A bitmap's row spans `[y, x0, x1)`, so that an item holds its shapes in the size of their outlines,
 * not of the image: `undefined` past `maxSpans` (a noise pattern, not a drawn shape).
 */
export function spansOfBitmap(
  pixels: Uint8Array,
  width: number,
  height: number,
  maxSpans = Infinity,
): { spans: Int32Array; area: number } | undefined {
  const found = bitmapSpans({ kind: 'bitmap', index: 0, width, height, pixels }, width, height, maxSpans);
  return found && { spans: found.spans, area: found.area };
}

/**
 * The work of painting shapes into a `width`×`height` mask, known before any of it is done: the
 * polygons' vertices, and the row crossings of their edges plus the bitmaps' spans (each costs a
 * sort place and a fill).
 */
export function paintWork(shapes: readonly IndexedShape[], width: number, height: number): { vertices: number; work: number } {
  let vertices = 0;
  let work = 0;
  for (const shape of shapes) {
    if (shape.kind === 'spans') work += shape.spans.length / 3;
    else if (shape.kind === 'bitmap') work += Math.min(shape.height, height) * Math.ceil(Math.min(width, shape.width) / 2);
    else {
      for (const ring of shape.rings) {
        const n = ring.length >> 1;
        vertices += n;
        for (let p = 0, q = n - 1; p < n; q = p++) {
          const rows = edgeRows(ring[2 * q + 1], ring[2 * p + 1], height);
          if (rows) work += rows.last - rows.first + 1;
        }
      }
    }
  }
  return { vertices, work };
}

/**
 * The rows whose centre line `y + 0.5` an edge from `y1` to `y2` crosses (`min <= y + 0.5 < max`),
 * within the mask; `undefined` for none.
 */
function edgeRows(y1: number, y2: number, height: number): { first: number; last: number } | undefined {
  if (y1 === y2) return undefined;
  const first = Math.max(0, Math.ceil(Math.min(y1, y2) - 0.5));
  const last = Math.min(height - 1, Math.ceil(Math.max(y1, y2) - 0.5) - 1);
  return last >= first ? { first, last } : undefined;
}

/** Row spans `[y, x0, x1)` of a shape, and how many pixels they cover. */
interface Spans {
  readonly index: number;
  readonly spans: Int32Array;
  readonly area: number;
}

/**
 * Paints shapes into one class-index mask on the background (0): the largest first, so a small
 * object drawn on a large one stays visible. A pixel belongs to a polygon when its centre
 * (x + 0.5, y + 0.5) is inside (even-odd rule per ring; the rings of one shape are a union).
 */
export function paintShapes(shapes: readonly IndexedShape[], width: number, height: number): ClassIndexMask {
  const spanned = shapes.map((shape) => {
    if (shape.kind === 'polygon') return polygonSpans(shape.index, shape.rings, width, height);
    if (shape.kind === 'spans') return shape.width <= width && shape.height <= height ? shape : clipSpans(shape, width, height);
    return bitmapSpans(shape, width, height)!;
  });
  // A stable sort keeps the export's order among shapes of equal area.
  const order = spanned.map((s, i) => ({ s, i })).sort((a, b) => b.s.area - a.s.area || a.i - b.i);
  const indices = Buffer.alloc(width * height);
  for (const { s } of order) {
    for (let k = 0; k < s.spans.length; k += 3) {
      const row = s.spans[k] * width;
      indices.fill(s.index, row + s.spans[k + 1], row + s.spans[k + 2]);
    }
  }
  const pixelsPerIndex = new Uint32Array(256);
  for (let i = 0; i < indices.length; i++) pixelsPerIndex[indices[i]]++;
  return { indices, width, height, pixelsPerIndex };
}

/**
 * A polygon's row spans, by an active edge list: each row visits only the edges that cross it, so the
 * work is the edges' row crossings (`paintWork`), not rows times vertices.
 */
function polygonSpans(index: number, rings: readonly (readonly number[])[], width: number, height: number): Spans {
  const spans: number[] = [];
  let area = 0;
  for (const ring of rings) {
    const n = ring.length >> 1;
    if (n < 3) continue;
    // Edges crossing at least one row: their rows, ends, sorted by first row.
    const edges: { first: number; last: number; x1: number; y1: number; slope: number }[] = [];
    for (let p = 0, q = n - 1; p < n; q = p++) {
      const y1 = ring[2 * q + 1];
      const y2 = ring[2 * p + 1];
      const rows = edgeRows(y1, y2, height);
      if (!rows) continue;
      const x1 = ring[2 * q];
      edges.push({ ...rows, x1, y1, slope: (ring[2 * p] - x1) / (y2 - y1) });
    }
    if (edges.length === 0) continue;
    edges.sort((a, b) => a.first - b.first);
    let active: typeof edges = [];
    const crossings = new Float64Array(edges.length);
    let next = 0;
    const lastRow = edges.reduce((m, e) => Math.max(m, e.last), 0);
    for (let y = edges[0].first; y <= lastRow; y++) {
      while (next < edges.length && edges[next].first === y) active.push(edges[next++]);
      if (active.length === 0) {
        if (next < edges.length) y = edges[next].first - 1;
        continue;
      }
      const yc = y + 0.5;
      let count = 0;
      for (const e of active) crossings[count++] = e.x1 + (yc - e.y1) * e.slope;
      const sorted = crossings.subarray(0, count).sort();
      for (let c = 0; c + 1 < count; c += 2) {
        // Pixel x is inside when its centre x + 0.5 lies in [left, right).
        const x0 = Math.max(0, Math.ceil(sorted[c] - 0.5));
        const x1 = Math.min(width, Math.ceil(sorted[c + 1] - 0.5));
        if (x1 <= x0) continue;
        spans.push(y, x0, x1);
        area += x1 - x0;
      }
      if (active.some((e) => e.last === y)) active = active.filter((e) => e.last > y);
    }
  }
  return { index, spans: Int32Array.from(spans), area };
}

/** Spans cut to a smaller mask. */
function clipSpans(shape: Extract<IndexedShape, { kind: 'spans' }>, width: number, height: number): Spans {
  const spans: number[] = [];
  let area = 0;
  for (let k = 0; k < shape.spans.length; k += 3) {
    const y = shape.spans[k];
    const x0 = shape.spans[k + 1];
    const x1 = Math.min(width, shape.spans[k + 2]);
    if (y >= height || x1 <= x0) continue;
    spans.push(y, x0, x1);
    area += x1 - x0;
  }
  return { index: shape.index, spans: Int32Array.from(spans), area };
}

function bitmapSpans(
  shape: Extract<IndexedShape, { kind: 'bitmap' }>,
  width: number,
  height: number,
  maxSpans = Infinity,
): Spans | undefined {
  const spans: number[] = [];
  let area = 0;
  const rows = Math.min(height, shape.height);
  const columns = Math.min(width, shape.width);
  for (let y = 0; y < rows; y++) {
    const row = y * shape.width;
    for (let x = 0; x < columns; ) {
      if (shape.pixels[row + x] === 0) {
        x++;
        continue;
      }
      const start = x;
      while (x < columns && shape.pixels[row + x] !== 0) x++;
      spans.push(y, start, x);
      area += x - start;
      if (spans.length > maxSpans * 3) return undefined;
    }
  }
  return { index: shape.index, spans: Int32Array.from(spans), area };
}
