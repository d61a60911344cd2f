import type { ClassIndexMask } from './mask';

/** A shape resolved to its class index, ready to paint. */
export type IndexedShape =
  | { readonly kind: 'polygon'; readonly index: number; readonly rings: readonly (readonly number[])[] }
  | { readonly kind: 'bitmap'; readonly index: number; readonly width: number; readonly height: number; readonly pixels: Uint8Array };

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
  const spanned = shapes.map((shape) => (shape.kind === 'polygon' ? polygonSpans(shape.index, shape.rings, width, height) : bitmapSpans(shape, width, height)));
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

function polygonSpans(index: number, rings: readonly (readonly number[])[], width: number, height: number): Spans {
  const spans: number[] = [];
  let area = 0;
  const crossings: number[] = [];
  for (const ring of rings) {
    const n = ring.length >> 1;
    if (n < 3) continue;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let p = 0; p < n; p++) {
      minY = Math.min(minY, ring[2 * p + 1]);
      maxY = Math.max(maxY, ring[2 * p + 1]);
    }
    const firstRow = Math.max(0, Math.ceil(minY - 0.5));
    const lastRow = Math.min(height - 1, Math.ceil(maxY - 0.5) - 1);
    for (let y = firstRow; y <= lastRow; y++) {
      const yc = y + 0.5;
      crossings.length = 0;
      for (let p = 0, q = n - 1; p < n; q = p++) {
        const y1 = ring[2 * q + 1];
        const y2 = ring[2 * p + 1];
        if ((y1 <= yc) === (y2 <= yc)) continue;
        const x1 = ring[2 * q];
        const x2 = ring[2 * p];
        crossings.push(x1 + ((yc - y1) * (x2 - x1)) / (y2 - y1));
      }
      crossings.sort((a, b) => a - b);
      for (let c = 0; c + 1 < crossings.length; c += 2) {
        // Pixel x is inside when its centre x + 0.5 lies in [left, right).
        const x0 = Math.max(0, Math.ceil(crossings[c] - 0.5));
        const x1 = Math.min(width, Math.ceil(crossings[c + 1] - 0.5));
        if (x1 <= x0) continue;
        spans.push(y, x0, x1);
        area += x1 - x0;
      }
    }
  }
  return { index, spans: Int32Array.from(spans), area };
}

function bitmapSpans(shape: Extract<IndexedShape, { kind: 'bitmap' }>, width: number, height: number): Spans {
  const spans: number[] = [];
  let area = 0;
  const rows = Math.min(height, shape.height);
  const columns = Math.min(width, shape.width);
  for (let y = 0; y < rows; y++) {
    const row = y * shape.width;
    for (let x = 0; x < columns;) {
      if (shape.pixels[row + x] === 0) {
        x++;
        continue;
      }
      const start = x;
      while (x < columns && shape.pixels[row + x] !== 0) x++;
      spans.push(y, start, x);
      area += x - start;
    }
  }
  return { index: shape.index, spans: Int32Array.from(spans), area };
}
