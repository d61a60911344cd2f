import { cut, declaredSizeProblem, itemMemoryEstimate, MemoryBudget, pngBytesBound } from '../../../lambda/convert/limits';

describe('conversion limits', () => {
  test.each([
    [[64, 64, 4096], undefined],
    [[64, 65, 4096], 'mask declares 64×65 pixels, more than the 4096 accepted (a decompression bomb?)'],
    [[0, 10, 4096], 'mask declares an empty 0×10 size'],
    [[1.5, 10, 4096], 'mask declares a size of 1.5×10, not whole numbers of pixels'],
    [[-1, 10, 4096], 'mask declares a size of -1×10, not whole numbers of pixels'],
    [[Number.NaN, 10, 4096], 'mask declares a size of NaN×10, not whole numbers of pixels'],
  ] as const)('declared size %j', ([width, height, maxPixels], problem) => {
    expect(declaredSizeProblem('mask', width, height, maxPixels)).toBe(problem);
  });

  test('a PNG can need its rows stored uncompressed plus room for metadata, no more', () => {
    // 64×64 RGBA: 64 rows of 1 + 256 bytes, one stored block (5 bytes), 4 MiB of metadata.
    expect(pngBytesBound(64, 64)).toBe(64 * 257 + 5 + 4 * 1024 * 1024);
    expect(pngBytesBound(64, 64, 1)).toBe(64 * 65 + 5 + 4 * 1024 * 1024);
  });

  test("an item's memory grows with its declared pixels and files, and a copied image costs nothing", () => {
    expect(itemMemoryEstimate({ pixels: 100, fileBytes: 10 })).toBe(10 + 700);
    expect(itemMemoryEstimate({ pixels: 100, fileBytes: 10 }, { pixels: 50, fileBytes: 5 })).toBe(710 + 5 + 400);
  });

  test('uploaded text is cut with a note of what was left out', () => {
    expect(cut('abc', 5)).toBe('abc');
    expect(cut('abcdefgh', 5)).toBe('abcde...(3 more characters)');
    expect(cut('x'.repeat(5_000_000))).toHaveLength(300 + '...(4999700 more characters)'.length);
  });

  describe('a memory budget', () => {
    test('grants what is free at once, makes the rest wait, first come first served, and refuses more than all of it', async () => {
      const budget = new MemoryBudget(100);
      const order: string[] = [];
      const a = await budget.reserve(60);
      const b = budget.reserve(50).then((release) => {
        order.push('b');
        return release;
      });
      const c = budget.reserve(10).then((release) => {
        order.push('c');
        return release;
      });
      await new Promise((resolve) => setImmediate(resolve));
      // c would fit now, but b asked first: nothing is granted until b can be.
      expect(order).toEqual([]);
      a();
      a(); // releasing twice gives nothing back twice
      const releaseB = await b;
      const releaseC = await c;
      expect(order).toEqual(['b', 'c']);
      await expect(budget.reserve(101)).rejects.toThrow('needs about 1 MiB, more than the 1 MiB the items in flight may hold');
      releaseB();
      releaseC();
      (await budget.reserve(100))();
    });
  });
});
