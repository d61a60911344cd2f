import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportItem, ExportSkip } from '../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../lambda/convert/folder-object-store';
import { labelStudioReader } from '../../../lambda/convert/readers/label-studio';
import { labelStudioRle } from '../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-ls-reader-'));
const store = new FolderObjectStore();

async function read(tasks: unknown[]): Promise<(ExportItem | ExportSkip)[]> {
  const location = join(work, `export-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(location, JSON.stringify(tasks));
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of labelStudioReader({ store, location, images: { store, root: work } }).items()) items.push(item);
  return items;
}

const task = (result: unknown[], extra: Record<string, unknown> = {}) => ({ id: 1, data: { image: '/data/upload/1/abc-turtle.jpg' }, annotations: [{ id: 1, result, ...extra }] });
const brush = (rle: number[] | undefined, size: { original_width?: number; original_height?: number }, labels: unknown = ['turtle']) =>
  ({ id: 'b', type: 'brushlabels', ...size, value: { format: 'rle', rle, brushlabels: labels } });

describe('Label Studio reader: results it cannot paint are counted by reason', () => {
  test('each brush or polygon that cannot be painted is counted under its own reason, and the rest still paints', async () => {
    const opaque = new Uint8Array(4).fill(255);
    const [item] = await read([task([
      brush(labelStudioRle(opaque), { original_width: 2, original_height: 2 }),
      brush(labelStudioRle(opaque), { original_width: 2, original_height: 2 }, []),
      brush(undefined, { original_width: 2, original_height: 2 }),
      brush(labelStudioRle(opaque), {}),
      brush(labelStudioRle(new Uint8Array(3).fill(255)), { original_width: 2, original_height: 2 }),
      { id: 'p', type: 'polygonlabels', original_width: 2, original_height: 2, value: { points: [[0, 0], [50, 50]], polygonlabels: ['turtle'] } },
      { id: 'q', type: 'polygonlabels', original_width: 2, original_height: 2, value: { points: [[0, 0], [50, 'x'], [0, 50]], polygonlabels: ['turtle'] } },
      { id: 'r', type: 'rectanglelabels', value: { x: 0, y: 0, width: 5, height: 5, rectanglelabels: ['turtle'] } },
      { id: 'c', type: 'choices', value: { choices: ['good'] } },
    ])]) as ExportItem[];
    expect(item.notPainted).toEqual({
      'brushlabels without a label': 1,
      'brushlabels without rle': 1,
      'brushlabels without original_width and original_height': 1,
      'brushlabels whose rle holds 3 pixels, not 2×2': 1,
      'polygon with fewer than 3 points': 2,
      rectanglelabels: 1,
    });
    expect(item.mask).toMatchObject({ kind: 'shapes', size: { width: 2, height: 2 }, shapes: [{ kind: 'bitmap', className: 'turtle', width: 2, height: 2 }] });
  });

  test('a task whose results all paint reports nothing unpainted; brush pixels are the label from alpha 128', async () => {
    const alpha = Uint8Array.from([127, 128, 0, 255]);
    const [item] = await read([task([brush(labelStudioRle(alpha), { original_width: 2, original_height: 2 })])]) as ExportItem[];
    expect(item.notPainted).toBeUndefined();
    expect(item.mask).toMatchObject({ shapes: [{ pixels: Uint8Array.from([0, 1, 0, 1]) }] });
  });

  test('tasks without one image to label are skipped with the reason', async () => {
    expect(await read([
      'not a task',
      { id: 2, data: { image: ['a.jpg', 'b.jpg'] }, annotations: [] },
      { id: 3, data: { text: 'no image' }, annotations: [] },
      { id: 4, data: { image: 'a.jpg' } },
      { id: 5, data: { image: 'a.jpg' }, annotations: [{ id: 1, was_cancelled: true, result: [] }] },
    ])).toEqual([
      { line: 1, source: null, reason: 'task is not a JSON object' },
      { line: 2, source: null, reason: 'data.image is a list (a multi-image task); segpipe takes one image per task' },
      { line: 3, source: null, reason: 'task has no data.image' },
      { line: 4, source: 'a.jpg', reason: 'task has no annotations' },
      { line: 5, source: 'a.jpg', reason: 'every annotation of the task was cancelled' },
    ]);
  });

  test('an image named under another data key is found by its extension', async () => {
    const [item] = await read([{ id: 1, data: { photo: 's3://bucket/photos/a.PNG?version=2' }, annotations: [{ id: 1, result: [] }] }]);
    expect(item.source).toBe('s3://bucket/photos/a.PNG?version=2');
  });
});
