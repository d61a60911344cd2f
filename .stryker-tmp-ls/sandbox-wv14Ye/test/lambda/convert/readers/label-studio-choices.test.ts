import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import type { ExportItem } from '../../../../lambda/convert/export-item';
import { labelStudioReader } from '../../../../lambda/convert/readers/label-studio';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { H, jpeg, W } from '../../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-ls-choices-'));
const store = new FolderObjectStore();

function exportOf(tasks: unknown[]): string {
  const location = join(work, `export-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(location, JSON.stringify(tasks));
  return location;
}

/** A polygon result in Label Studio's percent coordinates. */
const polygonOf = (label: string, points: number[][]) => ({
  id: `p-${label}`,
  type: 'polygonlabels',
  from_name: 'label',
  to_name: 'image',
  original_width: W,
  original_height: H,
  value: { points, polygonlabels: [label] },
});

describe('Label Studio: which annotation, and which class', () => {
  test('two annotations with the same time stamp: the later in the export wins', async () => {
    const winner = async (annotations: unknown[]) => {
      const items: unknown[] = [];
      for await (const item of labelStudioReader({
        store,
        location: exportOf([{ id: 1, data: { image: 'a.jpg' }, annotations }]),
        images: { store, root: work },
      }).items())
        items.push(item);
      return ((items[0] as ExportItem).mask as { readonly shapes: readonly { className: string }[] }).shapes.map((s) => s.className);
    };
    const square = [
      [0, 0],
      [50, 0],
      [50, 50],
      [0, 50],
    ];
    expect(
      await winner([
        { id: 1, updated_at: '2024-06-01T10:00:00Z', result: [polygonOf('first', square)] },
        { id: 2, updated_at: '2024-06-01T10:00:00Z', result: [polygonOf('second', square)] },
      ]),
    ).toEqual(['second']);
    expect(
      await winner([
        { id: 1, result: [polygonOf('first', square)] },
        { id: 2, result: [polygonOf('second', square)] },
      ]),
    ).toEqual(['second']);
  });

  test('a label named "Background" is the background (index 0), not a class of its own', async () => {
    writeFileSync(join(work, 'beach.jpg'), await jpeg(7));
    const location = exportOf([
      {
        id: 1,
        data: { image: '/data/upload/1/beach.jpg' },
        annotations: [
          {
            id: 1,
            result: [
              polygonOf('turtle', [
                [0, 0],
                [100, 0],
                [100, 100],
                [0, 100],
              ]),
              polygonOf('Background', [
                [50, 0],
                [100, 0],
                [100, 100],
                [50, 100],
              ]),
            ],
          },
        ],
      },
    ]);
    const report = await convertExport({
      reader: labelStudioReader({ store, location, images: { store, root: work } }),
      out: join(work, 'out'),
      output: store,
    });
    expect(report.skipped).toEqual([]);
    expect(report.classes).toEqual(['Background', 'turtle']);
    const counts = report.items[0].pixelsPerClass;
    expect(Object.keys(counts).sort()).toEqual(['Background', 'turtle']);
    expect(counts.Background + counts.turtle).toBe(W * H);
    expect(counts.Background).toBeGreaterThan(0);
  });
});
