import { paintShapes } from '../../../lambda/convert/shapes';

/** The mask as rows of digits, to compare at a glance. */
const rows = (indices: Buffer, width: number) => Array.from({ length: indices.length / width }, (_, y) => Array.from(indices.subarray(y * width, (y + 1) * width)).join(''));
const square = (index: number, x0: number, y0: number, x1: number, y1: number) => ({ kind: 'polygon' as const, index, rings: [[x0, y0, x1, y0, x1, y1, x0, y1]] });

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

  test('a bitmap\'s area is its pixel count, wherever they lie: one pixel at the far right stays on a larger square', () => {
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
