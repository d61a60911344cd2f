import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { INVOKE_BODY_LIMIT } from '../../../../lambda/common/endpoint-payload';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import type { ConversionReport } from '../../../../lambda/convert/conversion/report';
import type { ExportItem, ExportReader } from '../../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';

const work = mkdtempSync(join(tmpdir(), 'segpipe-endpoint-ready-'));
const files = new FolderObjectStore();

/** Converts one image with a rectangle of `turtle` over its left half; the output folder. */
async function convertImage(image: Buffer, width: number, height: number): Promise<{ report: ConversionReport; out: string }> {
  const path = join(work, `source-${Math.random().toString(36).slice(2)}.jpg`);
  writeFileSync(path, image);
  const item: ExportItem = {
    line: 1,
    source: 'photo.jpg',
    findImage: async () => ({ store: files, locations: [path] }),
    mask: {
      kind: 'shapes',
      size: { width, height },
      shapes: [{ kind: 'polygon', className: 'turtle', rings: [[0, 0, width / 2, 0, width / 2, height, 0, height]] }],
    },
  };
  const reader: ExportReader = {
    format: 'voc',
    input: 'in-memory',
    declaredClasses: async () => [],
    items: async function* () {
      yield item;
    },
  };
  const out = join(work, `out-${Math.random().toString(36).slice(2)}`);
  return { report: await convertExport({ reader, out, output: files, validationFraction: 0.5 }), out };
}

/** The same JPEG with its frame header (SOF0) declaring 12-bit samples, as 12-bit JPEGs do. */
function twelveBit(jpeg: Buffer): Buffer {
  const patched = Buffer.from(jpeg);
  for (let at = 2; at < patched.length; ) {
    if (patched[at + 1] === 0xc0) {
      patched[at + 4] = 12;
      return patched;
    }
    at += 2 + patched.readUInt16BE(at + 2);
  }
  throw new Error('no SOF0');
}

describe('the converter copies only what the algorithm and the endpoint take as they are', () => {
  test("a JPEG past InvokeEndpoint's 6 MiB is re-encoded and scaled, its mask with it, instead of copied", async () => {
    const [width, height] = [3000, 2400];
    const big = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    expect(big.length).toBeGreaterThan(INVOKE_BODY_LIMIT);
    const { report, out } = await convertImage(big, width, height);
    expect(report.skipped).toEqual([]);
    const [item] = report.items;
    expect(item.image).toBe('re-encoded');
    const folder = item.split === 'train' ? 'train' : 'validation';
    const written = readFileSync(join(out, folder, `${item.name}.jpg`));
    expect(written.length).toBeLessThanOrEqual(INVOKE_BODY_LIMIT);
    const image = await sharp(written).metadata();
    const mask = await sharp(join(out, `${folder}_annotation`, `${item.name}.png`)).metadata();
    expect(image.width).toBeLessThan(width);
    expect({ width: mask.width, height: mask.height }).toEqual({ width: image.width, height: image.height });
    expect({ width: item.width, height: item.height }).toEqual({ width: image.width, height: image.height });
    // The left half is still the turtle's.
    expect(item.pixelsPerClass.turtle / (item.width * item.height)).toBeCloseTo(0.5, 2);
  });

  test("a JPEG of 12-bit precision, which the algorithm's decoder refuses, is never copied as it is", async () => {
    const eightBit = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const { report: copied } = await convertImage(eightBit, 64, 48);
    expect(copied.items[0].image).toBe('copied');
    const { report } = await convertImage(twelveBit(eightBit), 64, 48);
    // sharp's decoder refuses 12-bit samples as the algorithm's does: reported, not copied into the dataset.
    expect(report.items).toEqual([]);
    expect(report.skipped).toEqual([
      expect.objectContaining({
        reason: "image cannot be decoded: a JPEG of 12-bit precision, which neither this decoder nor the algorithm's reads (8-bit only)",
      }),
    ]);
  });
});
