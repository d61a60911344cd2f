import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import type { ConversionReport } from '../../../../lambda/convert/conversion/report';
import type { ExportClass, ExportItem, ExportReader, ObjectRef } from '../../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { encodePalettePng } from '../../../../local/png';
import { grid, H, jpeg, vocPalette, W } from '../../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-class-numbers-'));
const files = new FolderObjectStore();
const VOC = vocPalette();
const turtle: ExportClass = { name: 'turtle', background: false };
const background: ExportClass = { name: 'background', background: true };

function at(name: string, body: Buffer): ObjectRef {
  writeFileSync(join(work, name), body);
  return { store: files, locations: [join(work, name)] };
}

/** Values 0 in the left half, `value` in the right half. */
const halves = (value: number, width = W, height = H) => grid((x) => (x < width / 2 ? 0 : value), width, height);

async function convertOne(mask: ExportItem['mask'], extra: { resizeMasks?: boolean; image?: ObjectRef } = {}): Promise<ConversionReport> {
  const image = extra.image ?? at('photo.jpg', await jpeg(4));
  const item: ExportItem = { line: 1, source: 'photo.jpg', findImage: async () => image, mask };
  const reader: ExportReader = {
    format: 'voc',
    input: 'in-memory',
    declaredClasses: async () => [],
    items: async function* () {
      yield item;
    },
  };
  return convertExport({
    reader,
    out: join(work, `out-${Math.random().toString(36).slice(2)}`),
    output: files,
    resizeMasks: extra.resizeMasks,
  });
}

const indexMask = (file: ObjectRef, classOfValue: (ExportClass | undefined)[]) =>
  ({ kind: 'index-png', file, classOfValue, colourOfValue: VOC }) as const;

describe('class-number masks (VOC) as other tools save them', () => {
  test("an 8-bit grey mask is read by its values, not by the palette's colours", async () => {
    const grey = await sharp(Buffer.from(halves(2)), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect(grey[25]).toBe(0);
    const report = await convertOne(indexMask(at('grey.png', grey), [background, undefined, turtle]));
    expect(report.skipped).toEqual([]);
    expect(report.items[0].pixelsPerClass).toEqual({ background: (W * H) / 2, turtle: (W * H) / 2 });
  });

  test('a palette mask is read by its indices whatever colours its palette holds', async () => {
    const greyPalette = Array.from({ length: 256 }, (_, v) => v * 0x010101);
    const report = await convertOne(indexMask(at('own-palette.png', encodePalettePng(halves(1), W, H, greyPalette)), [background, turtle]));
    expect(report.items[0].pixelsPerClass).toEqual({ background: (W * H) / 2, turtle: (W * H) / 2 });
  });

  test('a 16-bit grey mask is no class-number mask: it is read by colour, and its unknown colours are ignored pixels', async () => {
    const deep = await sharp(Buffer.from(halves(1)), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect(deep[24]).toBe(16);
    const report = await convertOne(indexMask(at('deep.png', deep), [background, turtle]));
    expect(report.items[0]).toMatchObject({ ignoredPixels: (W * H) / 2 });
  });

  test('a smaller class-number mask, palette or RGB, is resized to its image when masks may be resized', async () => {
    const small = halves(1, W / 2, H / 2);
    const palette = await convertOne(indexMask(at('small-palette.png', encodePalettePng(small, W / 2, H / 2, VOC)), [background, turtle]), {
      resizeMasks: true,
    });
    const rgb = await sharp(encodePalettePng(small, W / 2, H / 2, VOC))
      .toColourspace('srgb')
      .png()
      .toBuffer();
    expect(rgb[25]).toBe(2);
    const fromRgb = await convertOne(indexMask(at('small-rgb.png', rgb), [background, turtle]), { resizeMasks: true });
    for (const report of [palette, fromRgb]) {
      expect(report.items[0]).toMatchObject({ width: W, height: H, pixelsPerClass: { background: (W * H) / 2, turtle: (W * H) / 2 } });
    }
  });

  test('shapes without a size take the size of a PNG image', async () => {
    const png = at(
      'photo.png',
      await sharp({ create: { width: W, height: H, channels: 3, background: '#336699' } })
        .png()
        .toBuffer(),
    );
    const report = await convertOne(
      { kind: 'shapes', size: undefined, shapes: [{ kind: 'polygon', className: 'turtle', rings: [[0, 0, W, 0, W, H, 0, H]] }] },
      { image: png },
    );
    expect(report.items[0]).toMatchObject({ width: W, height: H, image: 're-encoded' });
  });
});
