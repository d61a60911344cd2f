import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportItem, ExportSkip } from '../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../lambda/convert/folder-object-store';
import { cocoReader } from '../../../lambda/convert/readers/coco';

const work = mkdtempSync(join(tmpdir(), 'segpipe-coco-reader-'));
const store = new FolderObjectStore();

async function read(coco: unknown): Promise<(ExportItem | ExportSkip)[]> {
  const location = join(work, `coco-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(location, JSON.stringify(coco));
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of cocoReader({ store, location, images: { store, root: work } }).items()) items.push(item);
  return items;
}

describe('COCO reader: annotations it cannot paint are counted by reason', () => {
  test('each kind of unpaintable segmentation has its own reason; a flat polygon paints', async () => {
    const annotation = (id: number, segmentation: unknown, category = 1) => ({ id, image_id: 1, category_id: category, segmentation, iscrowd: 0 });
    const [item] = await read({
      categories: [{ id: 1, name: 'turtle' }],
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 2 }],
      annotations: [
        annotation(1, [0, 0, 4, 0, 4, 2]),
        annotation(2, [[0, 0, 1, 1]]),
        annotation(3, [[0, 0, 1, 'x', 2, 2]]),
        annotation(4, { size: [3, 4], counts: [1, 2] }),
        annotation(5, { size: [2, 4] }),
        annotation(6, { size: [2, 4], counts: '\u007f\u007f' }),
        annotation(7, { counts: [8] }),
        annotation(8, undefined),
        annotation(9, [0, 0, 4, 0, 4, 2], 42),
      ],
    }) as ExportItem[];
    expect(item.notPainted).toEqual({
      'annotation without a polygon of 3 points': 2,
      'RLE of 4×3 on an image of 4×2': 1,
      'RLE without counts': 1,
      'RLE cannot be decoded (RLE covers 30 pixels, its 4×2 size has 8)': 1,
      'annotation without segmentation': 2,
      'annotation of unknown category 42': 1,
    });
    expect(item.mask).toEqual({ kind: 'shapes', size: { width: 4, height: 2 }, shapes: [{ kind: 'polygon', className: 'turtle', rings: [[0, 0, 4, 0, 4, 2]] }] });
  });

  test('every entry is numbered by its place in images, whether it is an item or a problem; one listed twice is read once; one without a size has none', async () => {
    const items = await read({
      categories: [{ id: 1, name: 'turtle' }],
      images: [{ id: 1, file_name: 'a.jpg' }, { id: 2 }, { id: 3, file_name: 'a.jpg', width: 4, height: 2 }, { id: 4, file_name: 'b.jpg', width: 0, height: 2 }],
      annotations: [],
    });
    expect(items).toEqual([
      { line: 2, source: null, reason: 'images[1] has no file_name' },
      expect.objectContaining({ line: 1, source: 'a.jpg', mask: { kind: 'shapes', size: undefined, shapes: [] } }),
      expect.objectContaining({ line: 4, source: 'b.jpg', mask: { kind: 'shapes', size: undefined, shapes: [] } }),
    ]);
  });
});
