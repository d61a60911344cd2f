import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import type { ExportItem, ExportSkip } from '../../../../lambda/convert/export-item';
import { labelStudioReader } from '../../../../lambda/convert/readers/label-studio';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { grid, jpeg, labelStudioRle } from '../../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-ls-reader-'));
const store = new FolderObjectStore();

async function read(tasks: unknown[]): Promise<(ExportItem | ExportSkip)[]> {
  const location = join(work, `export-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(location, JSON.stringify(tasks));
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of labelStudioReader({ store, location, images: { store, root: work } }).items()) items.push(item);
  return items;
}

const task = (result: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 1,
  data: { image: '/data/upload/1/abc-turtle.jpg' },
  annotations: [{ id: 1, result, ...extra }],
});
const brush = (rle: number[] | undefined, size: { original_width?: number; original_height?: number }, labels: unknown = ['turtle']) => ({
  id: 'b',
  type: 'brushlabels',
  ...size,
  value: { format: 'rle', rle, brushlabels: labels },
});

describe('Label Studio reader: results it cannot paint are counted by reason', () => {
  test('each brush or polygon that cannot be painted is counted under its own reason, and the rest still paints', async () => {
    const opaque = new Uint8Array(4).fill(255);
    const [item] = (await read([
      task([
        brush(labelStudioRle(opaque), { original_width: 2, original_height: 2 }),
        brush(labelStudioRle(opaque), { original_width: 2, original_height: 2 }, []),
        brush(undefined, { original_width: 2, original_height: 2 }),
        brush(labelStudioRle(opaque), {}),
        brush(labelStudioRle(new Uint8Array(3).fill(255)), { original_width: 2, original_height: 2 }),
        {
          id: 'p',
          type: 'polygonlabels',
          original_width: 2,
          original_height: 2,
          value: {
            points: [
              [0, 0],
              [50, 50],
            ],
            polygonlabels: ['turtle'],
          },
        },
        {
          id: 'q',
          type: 'polygonlabels',
          original_width: 2,
          original_height: 2,
          value: {
            points: [
              [0, 0],
              [50, 'x'],
              [0, 50],
            ],
            polygonlabels: ['turtle'],
          },
        },
        { id: 'r', type: 'rectanglelabels', value: { x: 0, y: 0, width: 5, height: 5, rectanglelabels: ['turtle'] } },
        { id: 'c', type: 'choices', value: { choices: ['good'] } },
      ]),
    ])) as ExportItem[];
    expect(item.notPainted).toEqual({
      'brushlabels without a label': 1,
      'brushlabels without rle': 1,
      'brushlabels whose rle holds 12 values, not 2×2×4 (original_width×original_height)': 1,
      'polygon with fewer than 3 points': 2,
      rectanglelabels: 1,
    });
    // The brush without a size is painted at the image's, once the image is read.
    expect(item.mask).toMatchObject({
      kind: 'shapes',
      size: { width: 2, height: 2 },
      shapes: [
        { kind: 'spans', className: 'turtle', width: 2, height: 2 },
        { kind: 'image-sized-bitmap', className: 'turtle' },
      ],
    });
  });

  test('a task whose results all paint reports nothing unpainted; brush pixels are the label from alpha 128', async () => {
    const alpha = Uint8Array.from([127, 128, 0, 255]);
    const [item] = (await read([task([brush(labelStudioRle(alpha), { original_width: 2, original_height: 2 })])])) as ExportItem[];
    expect(item.notPainted).toBeUndefined();
    expect(item.mask).toMatchObject({ shapes: [{ spans: Int32Array.from([0, 1, 2, 1, 1, 2]), area: 2 }] });
  });

  test('tasks without one image to label are skipped with the reason', async () => {
    expect(
      await read([
        'not a task',
        { id: 2, data: { image: ['a.jpg', 'b.jpg'] }, annotations: [] },
        { id: 3, data: { text: 'no image' }, annotations: [] },
        { id: 4, data: { image: 'a.jpg' } },
        { id: 5, data: { image: 'a.jpg' }, annotations: [{ id: 1, was_cancelled: true, result: [] }] },
      ]),
    ).toEqual([
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

describe('Label Studio reader: what real exports hold besides the plain case', () => {
  const opaque = new Uint8Array(4).fill(255);
  const size = { original_width: 2, original_height: 2 };
  const polygon = (points: unknown, extra: Record<string, unknown> = {}) => ({
    id: 'p',
    type: 'polygonlabels',
    ...size,
    value: { points, polygonlabels: ['turtle'] },
    ...extra,
  });

  test('null tasks, annotations and results are skipped or ignored, not thrown on', async () => {
    const items = await read([
      null,
      {
        id: 2,
        data: { image: 'a.jpg' },
        annotations: [
          null,
          {
            id: 1,
            result: [
              null,
              polygon([
                [0, 0],
                [50, 0],
                [0, 50],
              ]),
            ],
          },
        ],
      },
    ]);
    expect(items[0]).toEqual({ line: 1, source: null, reason: 'task is not a JSON object' });
    expect((items[1] as ExportItem).mask).toMatchObject({ shapes: [{ kind: 'polygon', className: 'turtle' }] });
  });

  test('an empty data.image is no image', async () => {
    expect(await read([{ id: 1, data: { image: '' }, annotations: [{ id: 1, result: [] }] }])).toEqual([
      { line: 1, source: null, reason: 'task has no data.image' },
    ]);
  });

  test('under another data key, only a string ending in .jpg, .jpeg or .png (or one before a query) is the image', async () => {
    const sources = (
      await read([
        { id: 1, data: { refs: ['x.png'], photo: 'https://host/a.jpg' }, annotations: [{ id: 1, result: [] }] },
        { id: 2, data: { note: 'a.png.txt', photo: 'b.jpeg' }, annotations: [{ id: 1, result: [] }] },
      ])
    ).map((item) => item.source);
    expect(sources).toEqual(['https://host/a.jpg', 'b.jpeg']);
  });

  test('of several annotations the most recently updated wins, whatever its place; one without a stamp loses to one with', async () => {
    const polygonOf = (label: string) => ({
      ...polygon([
        [0, 0],
        [50, 0],
        [0, 50],
      ]),
      value: {
        points: [
          [0, 0],
          [50, 0],
          [0, 50],
        ],
        polygonlabels: [label],
      },
    });
    const winner = async (annotations: unknown[]) =>
      ((await read([{ id: 1, data: { image: 'a.jpg' }, annotations }]))[0] as ExportItem).mask;
    expect(
      await winner([
        { id: 1, updated_at: '2024-05-01T10:00:00Z', result: [polygonOf('old')] },
        { id: 2, updated_at: '2024-06-01T10:00:00Z', result: [polygonOf('new')] },
      ]),
    ).toMatchObject({ shapes: [{ className: 'new' }] });
    expect(
      await winner([
        { id: 1, updated_at: '2024-06-01T10:00:00Z', result: [polygonOf('new')] },
        { id: 2, created_at: '2024-05-01T10:00:00Z', result: [polygonOf('old')] },
      ]),
    ).toMatchObject({ shapes: [{ className: 'new' }] });
    expect(
      await winner([
        { id: 1, created_at: '2024-05-01T10:00:00Z', result: [polygonOf('stamped')] },
        { id: 2, result: [polygonOf('unstamped')] },
      ]),
    ).toMatchObject({ shapes: [{ className: 'stamped' }] });
  });

  test('shapes stored apart take their class from the `labels` result of the same id, and only from a string there', async () => {
    const [item] = (await read([
      task([
        { id: 'w', type: 'magicwand', ...size, value: { format: 'rle', rle: labelStudioRle(opaque) } },
        { id: 'w', type: 'labels', value: { labels: ['turtle'] } },
        {
          id: 'n',
          type: 'polygon',
          ...size,
          value: {
            points: [
              [0, 0],
              [50, 0],
              [0, 50],
            ],
            labels: ['not a labels result'],
          },
        },
        {
          id: 'm',
          type: 'polygon',
          ...size,
          value: {
            points: [
              [0, 0],
              [50, 0],
              [0, 50],
            ],
          },
        },
        { id: 'm', type: 'labels', value: { labels: [5] } },
        { id: 'e', type: 'brush', ...size, value: { format: 'rle', rle: labelStudioRle(opaque) } },
        { id: 'e', type: 'labels', value: {} },
      ]),
    ])) as ExportItem[];
    expect(item.mask).toMatchObject({ shapes: [{ kind: 'spans', className: 'turtle' }] });
    expect((item.mask as { shapes: readonly unknown[] }).shapes).toHaveLength(1);
    expect(item.notPainted).toEqual({ 'polygon without a label': 2, 'brush without a label': 1 });
  });

  test('a brush whose label list is missing or holds no string is counted without a label', async () => {
    const [item] = (await read([
      task([
        { id: 'b', type: 'brushlabels', ...size, value: { format: 'rle', rle: labelStudioRle(opaque) } },
        brush(labelStudioRle(opaque), size, [7]),
      ]),
    ])) as ExportItem[];
    expect(item.notPainted).toEqual({ 'brushlabels without a label': 2 });
  });

  test('rectangles, ellipses and keypoints stored apart from their label are counted, not painted', async () => {
    const [item] = (await read([
      task([
        { id: 'r', type: 'rectangle', value: { x: 0, y: 0, width: 5, height: 5 } },
        { id: 'e', type: 'ellipse', value: { x: 5, y: 5, radiusX: 2, radiusY: 2 } },
        { id: 'k', type: 'keypoint', value: { x: 5, y: 5 } },
        { id: 'r', type: 'labels', value: { labels: ['turtle'] } },
      ]),
    ])) as ExportItem[];
    expect(item.notPainted).toEqual({ rectangle: 1, ellipse: 1, keypoint: 1 });
  });

  test('the image size comes only from a positive width and height', async () => {
    const sizeOf = async (original: Record<string, unknown>) =>
      (
        (
          (
            await read([
              task([
                {
                  ...polygon([
                    [0, 0],
                    [50, 0],
                    [0, 50],
                  ]),
                  original_width: undefined,
                  original_height: undefined,
                  ...original,
                },
              ]),
            ])
          )[0] as ExportItem
        ).mask as { size?: unknown }
      ).size;
    expect(await sizeOf({ original_width: 0, original_height: 2 })).toBeUndefined();
    expect(await sizeOf({ original_width: 2, original_height: 0 })).toBeUndefined();
    expect(await sizeOf({ original_width: 3, original_height: 2 })).toEqual({ width: 3, height: 2 });
  });

  test('a polygon of exactly three points paints; points that are not pairs are left out; no points is fewer than three', async () => {
    const [item] = (await read([
      task([
        polygon([
          [0, 0],
          [50, 0],
          [0, 50],
        ]),
        polygon([[0, 0], [50], 7, [50, 0], [0, 50]]),
        polygon(undefined),
      ]),
    ])) as ExportItem[];
    expect(item.mask).toMatchObject({
      shapes: [
        { kind: 'polygon', rings: [[0, 0, 50, 0, 0, 50]] },
        { kind: 'polygon', rings: [[0, 0, 50, 0, 0, 50]] },
      ],
    });
    expect(item.notPainted).toEqual({ 'polygon with fewer than 3 points': 1 });
  });
});

describe("Label Studio conversion: a brush region without original_width and original_height (as Label Studio's own examples and its SDK's predictions write it)", () => {
  const convert = async (results: unknown[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'segpipe-ls-sizeless-'));
    writeFileSync(join(dir, 'turtle.jpg'), await jpeg(1, 6, 4));
    const location = join(dir, 'export.json');
    writeFileSync(
      location,
      JSON.stringify([{ id: 1, data: { image: '/data/upload/1/abc12345-turtle.jpg' }, annotations: [{ id: 1, result: results }] }]),
    );
    const out = join(dir, 'out');
    const report = await convertExport({
      reader: labelStudioReader({ store, location, images: { store, root: dir } }),
      out,
      output: store,
      validationFraction: 0.5,
    });
    const masks = report.items.map((i) => readFileSync(join(out, `${i.split}_annotation`, `${i.name}.png`)));
    rmSync(dir, { recursive: true, force: true });
    return { report, masks: await Promise.all(masks.map(async (m) => [...(await sharp(m).extractChannel(0).raw().toBuffer())])) };
  };

  test("is painted at the image's size", async () => {
    const alpha = grid((x, y) => (x < 3 && y > 0 ? 255 : 0), 6, 4);
    const { report, masks } = await convert([brush(labelStudioRle(alpha), {})]);
    expect(report.skipped).toEqual([]);
    expect(masks).toEqual([[...alpha].map((a) => (a ? 1 : 0))]);
  });

  test('whose RLE header does not hold width × height × 4 of the image is not painted, and an item with nothing painted is skipped with the reason, not converted as background', async () => {
    const { report } = await convert([brush(labelStudioRle(new Uint8Array(5 * 4).fill(255)), {})]);
    expect(report.items).toEqual([]);
    expect(report.skipped).toEqual([
      {
        line: 1,
        source: '/data/upload/1/abc12345-turtle.jpg',
        reason: 'no annotation could be painted: 1 brushlabels whose rle holds 80 values, not 6×4×4 (the image)',
      },
    ]);
  });

  test('an item whose every annotation failed for reasons known on reading is skipped too; one with no annotation at all is background', async () => {
    const { report } = await convert([
      brush(labelStudioRle(new Uint8Array(3).fill(255)), { original_width: 6, original_height: 4 }),
      { id: 'r', type: 'rectanglelabels', value: { x: 0, y: 0, width: 5, height: 5, rectanglelabels: ['turtle'] } },
    ]);
    expect(report.skipped.map((s) => s.reason)).toEqual([
      'no annotation could be painted: 1 brushlabels whose rle holds 12 values, not 6×4×4 (original_width×original_height); 1 rectanglelabels',
    ]);
    const empty = await convert([]);
    expect(empty.report.items.map((i) => i.pixelsPerClass)).toEqual([{ BACKGROUND: 24 }]);
  });
});

test("a brush whose RLE ends before the values its header counts is not painted, with the decoder's reason", async () => {
  const rle = labelStudioRle(Uint8Array.from({ length: 16 }, (_, i) => i * 13));
  const [item] = (await read([task([brush(rle.slice(0, rle.length - 4), { original_width: 4, original_height: 4 })])])) as ExportItem[];
  expect(item.notPainted).toEqual({ "brushlabels whose rle cannot be decoded (illegal state: can't read past EOF)": 1 });
});
