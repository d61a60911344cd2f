import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import type { ExportItem, ExportReader } from '../../../../lambda/convert/export-item';
import { splitFor } from '../../../../lambda/convert/naming';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';

describe('the converter splits an item by its source', () => {
  test("each item's split is the one its source draws, not its output name's", async () => {
    const work = mkdtempSync(join(tmpdir(), 'segpipe-split-source-'));
    const files = new FolderObjectStore();
    const image = join(work, 'photo.jpg');
    writeFileSync(
      image,
      await sharp({ create: { width: 8, height: 6, channels: 3, background: '#446688' } })
        .jpeg()
        .toBuffer(),
    );
    const sources = Array.from({ length: 60 }, (_, i) => `s3://inbox/images/shore/day ${i % 3}/IMG_${1000 + i}.JPG`);
    const items: ExportItem[] = sources.map((source, i) => ({
      line: i + 1,
      source,
      findImage: async () => ({ store: files, locations: [image] }),
      mask: {
        kind: 'shapes',
        size: { width: 8, height: 6 },
        shapes: [{ kind: 'polygon', className: 'turtle', rings: [[0, 0, 4, 0, 4, 6, 0, 6]] }],
      },
    }));
    const reader: ExportReader = {
      format: 'voc',
      input: 'in-memory',
      declaredClasses: async () => [],
      items: async function* () {
        yield* items;
      },
    };
    const report = await convertExport({ reader, out: join(work, 'out'), output: files, validationFraction: 0.3, seed: 'turtles' });
    expect(report.items).toHaveLength(60);
    for (const item of report.items)
      expect({ source: item.source, split: item.split }).toEqual({ source: item.source, split: splitFor(item.source, 'turtles', 0.3) });
    // The test can tell: the names draw other splits for some of these items.
    expect(report.items.filter((item) => splitFor(item.name, 'turtles', 0.3) !== item.split).length).toBeGreaterThan(5);
  });
});
