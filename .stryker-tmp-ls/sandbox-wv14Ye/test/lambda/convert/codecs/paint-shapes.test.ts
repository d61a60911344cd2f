import { paintShapes, paintWork, spansOfBitmap } from '../../../../lambda/convert/codecs/shapes';
import { centreInside, grid } from '../../../helpers/format-fixtures';

/** The mask as rows of digits, to compare at a glance. */
const rows = (indices: Buffer, width: number) =>
  Array.from({ length: indices.length / width }, (_, y) => Array.from(indices.subarray(y * width, (y + 1) * width)).join(''));
const square = (index: number, x0: number, y0: number, x1: number, y1: number) => ({
  kind: 'polygon' as const,
  index,
  rings: [[x0, y0, x1, y0, x1, y1, x0, y1]],
});

describe('painting shapes into a class-index mask', () => {
  test('a square paints the pixels whose centres it holds, in whichever direction its points go', () => {
    const clockwise = paintShapes([square(1, 1, 1, 3, 3)], 4, 4);
    const anticlockwise = paintShapes([{ kind: 'polygon', index: 1, rings: [[3, 1, 1, 1, 1, 3, 3, 3].reverse()] }], 4, 4);
    for (const mask of [clockwise, anticlockwise]) expect(rows(mask.indices, 4)).toEqual(['0000', '0110', '0110', '0000']);
    expect(clockwise.pixelsPerIndex[1]).toBe(4);
  });

  test('crossings past 9 are ordered as numbers, not as text', () => {
    expect(rows(paintShapes([square(1, 5, 0, 15, 1)], 16, 1).indices, 16)).toEqual(['0000011111111110']);
  });

  test('a shape running past the image is cut at its edges', () => {
    expect(rows(paintShapes([square(2, -3, 2, 9, 9)], 4, 4).indices, 4)).toEqual(['0000', '0000', '2222', '2222']);
  });

  test('the larger shape is painted first, whatever the export order, so a small one on it stays visible', () => {
    const big = { kind: 'bitmap' as const, index: 1, width: 4, height: 4, pixels: new Uint8Array(16).fill(1) };
    expect(rows(paintShapes([square(2, 1, 1, 2, 2), big], 4, 4).indices, 4)).toEqual(['1111', '1211', '1111', '1111']);
  });

  test("a bitmap's area is its pixel count, wherever they lie: one pixel at the far right stays on a larger square", () => {
    const dot = { kind: 'bitmap' as const, index: 3, width: 10, height: 1, pixels: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) };
    expect(rows(paintShapes([dot, square(1, 0, 0, 10, 1)], 10, 1).indices, 10)).toEqual(['1111111113']);
  });

  test('of two shapes of the same area, the later in the export is painted over the earlier', () => {
    expect(rows(paintShapes([square(1, 0, 0, 2, 1), square(2, 1, 0, 3, 1)], 3, 1).indices, 3)).toEqual(['122']);
  });

  test('a bitmap smaller than the mask paints only its own pixels; a larger one is cut', () => {
    const small = { kind: 'bitmap' as const, index: 3, width: 2, height: 2, pixels: Uint8Array.from([1, 1, 1, 1]) };
    expect(rows(paintShapes([small], 4, 3).indices, 4)).toEqual(['3300', '3300', '0000']);
    const large = { kind: 'bitmap' as const, index: 4, width: 3, height: 3, pixels: Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 0, 1]) };
    expect(rows(paintShapes([large], 2, 2).indices, 2)).toEqual(['40', '04']);
  });
});

describe('painting polygons by an active edge list', () => {
  /** Random polygons (often self-crossing) with fractional points, partly outside the mask. */
  function randomRing(seed: number, points: number, width: number, height: number): number[] {
    let state = seed;
    const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
    return Array.from({ length: points * 2 }, (_, i) => Math.round((random() * (i % 2 === 0 ? width + 10 : height + 10) - 5) * 4) / 4);
  }

  test('paints exactly the pixels whose centres are inside, by the even-odd rule, as a per-pixel test does', () => {
    const [width, height] = [37, 23];
    for (let seed = 1; seed <= 40; seed++) {
      const ring = randomRing(seed, 3 + (seed % 9), width, height);
      const painted = paintShapes([{ kind: 'polygon', index: 1, rings: [ring] }], width, height);
      const expected = grid((x, y) => (centreInside(ring, x, y) ? 1 : 0), width, height);
      expect([...painted.indices]).toEqual([...expected]);
    }
  });

  test('its work is counted before painting: the rows each edge crosses, within the mask; and the vertices', () => {
    // A square from row 1 to row 3: its two vertical edges cross rows 1 and 2 (centres 1.5, 2.5).
    expect(paintWork([square(1, 1, 1, 3, 3)], 4, 4)).toEqual({ vertices: 4, work: 4 });
    // Rows past the mask are not work: a zigzag of 1,000 points over 2,000 rows on a 10-row mask.
    const zigzag = Array.from({ length: 1000 }, (_, k) => [k / 10, k % 2 === 0 ? 0 : 2000]).flat();
    expect(paintWork([{ kind: 'polygon', index: 1, rings: [zigzag] }], 100, 10)).toEqual({ vertices: 1000, work: 10_000 });
    const spans = { kind: 'spans' as const, index: 1, width: 4, height: 4, spans: Int32Array.from([0, 0, 4, 1, 0, 4]), area: 8 };
    expect(paintWork([spans], 4, 4)).toEqual({ vertices: 0, work: 2 });
  });

  test('spans larger than the mask are cut to it', () => {
    const spans = { kind: 'spans' as const, index: 5, width: 6, height: 3, spans: Int32Array.from([0, 1, 6, 2, 0, 2]), area: 7 };
    expect(rows(paintShapes([spans], 4, 2).indices, 4)).toEqual(['0555', '0000']);
  });

  test('a bitmap becomes its row spans, unless it has more than allowed', () => {
    const pixels = Uint8Array.from([1, 1, 0, 1, 0, 0, 0, 0, 1]);
    expect(spansOfBitmap(pixels, 3, 3)).toEqual({ spans: Int32Array.from([0, 0, 2, 1, 0, 1, 2, 2, 3]), area: 4 });
    expect(spansOfBitmap(pixels, 3, 3, 2)).toBeUndefined();
  });
});
