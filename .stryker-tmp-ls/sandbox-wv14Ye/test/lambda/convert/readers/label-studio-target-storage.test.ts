import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openExport, sniffFormat } from '../../../../lambda/convert/export-input';
import type { ExportItem, ExportSkip } from '../../../../lambda/convert/export-item';
import { type LabelStudioExpectations, labelStudioReader } from '../../../../lambda/convert/readers/label-studio';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { AllowListedStore } from '../../../../lambda/convert/stores/source-allow-list';
import { maskPrediction } from '../../../../lambda/labelstudio/tasks';
import { writeTree } from '../../../helpers/files';
import { zipFolder } from '../../../helpers/format-fixtures';

/**
 * Label Studio's S3 target storage as its code writes it: by default one file per annotation, named by
 * the annotation id with no extension, holding the annotation with its task nested; with
 * FUTURE_SAVE_TASK_TO_STORAGE, `<task id>.json` holding the task with its annotations.
 */
const root = mkdtempSync(join(tmpdir(), 'segpipe-ls-target-'));
const local = new FolderObjectStore();
const s3 = new FolderObjectStore(root);
const ALLOW = [
  { bucket: 'inbox', prefix: 'images/' },
  { bucket: 'inbox', prefix: 'labelstudio/annotations/' },
];
const sources = new AllowListedStore(s3, ALLOW);

/** A 4×2 brush region of `label` covering the pixels where `on` is true, as the frontend serializes it. */
function brush(label: string, on: (p: number) => boolean, id = `r-${label}`) {
  const mask = Uint8Array.from({ length: 8 }, (_, p) => (on(p) ? 1 : 0));
  const [result] = maskPrediction({ mask, width: 4, height: 2, classes: [label], modelVersion: 'm' }).prediction.result;
  return { ...result, id };
}

const task = (id: number, image: string, extra: Record<string, unknown> = {}) => ({
  id,
  data: { image },
  meta: { batch: 'turtles', generation: '1', run: 'r1' },
  project: 4,
  ...extra,
});
const annotationFile = (id: number, taskOf: Record<string, unknown>, result: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    result,
    was_cancelled: false,
    ground_truth: false,
    created_at: '2026-12-01T10:00:00.000000Z',
    updated_at: '2026-12-01T10:00:00.000000Z',
    lead_time: 3.2,
    task: taskOf,
    completed_by: { id: 1, first_name: '', last_name: '', email: 'a@example.com' },
    ...extra,
  });

async function readAll(input: string, expect?: LabelStudioExpectations): Promise<(ExportItem | ExportSkip)[]> {
  const { reader } = await openExport({ input, local, s3: sources, sources, labelStudio: expect });
  expect_(reader.format).toBe('labelstudio');
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of reader.items()) items.push(item);
  return items;
}
const expect_ = expect;
/** A shape's pixels, row by row: brushes are kept as row spans `[y, x0, x1)`. */
function bitmapOf(shape: { width: number; height: number; spans?: Int32Array; pixels?: Uint8Array }): number[] {
  if (!shape.spans) return Array.from(shape.pixels ?? []);
  const pixels = new Array<number>(shape.width * shape.height).fill(0);
  for (let k = 0; k < shape.spans.length; k += 3)
    pixels.fill(1, shape.spans[k] * shape.width + shape.spans[k + 1], shape.spans[k] * shape.width + shape.spans[k + 2]);
  return pixels;
}
const pixelsOf = (item: ExportItem | ExportSkip) =>
  (
    (item as ExportItem).mask as {
      shapes: readonly { className: string; width: number; height: number; spans?: Int32Array; pixels?: Uint8Array }[];
    }
  ).shapes.map((s) => [s.className, bitmapOf(s)]);

describe('Label Studio target storage: an S3 prefix of annotation files and task files', () => {
  const prefix = 'labelstudio/annotations/turtles/';
  beforeAll(() => {
    writeTree(join(root, 'inbox'), {
      'images/turtles/a.jpg': 'a',
      'images/turtles/b.jpg': 'b',
      'images/turtles/c.jpg': 'c',
      // Annotation files: the default, no extension.
      [`${prefix}11`]: annotationFile(11, task(1, 's3://inbox/images/turtles/a.jpg'), [brush('turtle', (p) => p < 3)]),
      // Task 2 annotated twice: annotation 12 is older than 13, whatever the names' order.
      [`${prefix}13`]: annotationFile(13, task(2, 's3://inbox/images/turtles/b.jpg'), [brush('rock', (p) => p >= 4)], {
        updated_at: '2026-12-02T09:00:00.000000Z',
      }),
      [`${prefix}12`]: annotationFile(12, task(2, 's3://inbox/images/turtles/b.jpg'), [brush('turtle', () => true)], {
        updated_at: '2026-12-01T11:00:00.000000Z',
      }),
      // A task file (FUTURE_SAVE_TASK_TO_STORAGE): the task with its annotations.
      [`${prefix}3.json`]: JSON.stringify({
        ...task(3, 's3://inbox/images/turtles/c.jpg'),
        annotations: [{ id: 14, result: [brush('turtle', (p) => p % 2 === 0)], was_cancelled: false, updated_at: '2026-12-01T10:00:00Z' }],
        predictions: [],
      }),
    });
  });

  test('each file is read: an annotation with its nested task, and a task with its annotations; the newer annotation of a task wins and the older is reported', async () => {
    const items = await readAll(`s3://inbox/${prefix}`);
    expect(items.map((i) => [i.source, 'reason' in i ? i.reason : 'item'])).toEqual([
      ['s3://inbox/images/turtles/a.jpg', 'item'],
      [
        's3://inbox/images/turtles/b.jpg',
        `s3://inbox/${prefix}12: task 2 is annotated again, in s3://inbox/${prefix}13, which is newer and kept`,
      ],
      ['s3://inbox/images/turtles/b.jpg', 'item'],
      ['s3://inbox/images/turtles/c.jpg', 'item'],
    ]);
    expect(pixelsOf(items[0])).toEqual([['turtle', [1, 1, 1, 0, 0, 0, 0, 0]]]);
    expect(pixelsOf(items[2])).toEqual([['rock', [0, 0, 0, 0, 1, 1, 1, 1]]]);
    expect(pixelsOf(items[3])).toEqual([['turtle', [1, 0, 1, 0, 1, 0, 1, 0]]]);
    // The images are found where the run may read them.
    expect((await (items[0] as ExportItem).findImage()).locations).toContain('s3://inbox/images/turtles/a.jpg');
  });

  test('the same files zipped (as a person downloads them with aws s3 sync and zips them) are read in place', async () => {
    const zip = join(root, 'annotations.zip');
    zipFolder(join(root, 'inbox', prefix), zip);
    const items = await readAll(zip);
    expect(items.map((i) => ('reason' in i ? 'skip' : pixelsOf(i)[0][0]))).toEqual(['turtle', 'skip', 'rock', 'turtle']);
  });

  test('a single annotation file or task object given alone is a Label Studio export, not COCO', async () => {
    const [item] = await readAll(`s3://inbox/${prefix}11`);
    expect(pixelsOf(item)).toEqual([['turtle', [1, 1, 1, 0, 0, 0, 0, 0]]]);
    const [fromTask] = await readAll(`s3://inbox/${prefix}3.json`);
    expect(pixelsOf(fromTask)).toEqual([['turtle', [1, 0, 1, 0, 1, 0, 1, 0]]]);
    expect(sniffFormat(Buffer.from('{"id":1,"data":{"image":"a.jpg"},"annotations":[]}'), 'x')).toBe('labelstudio');
    expect(sniffFormat(Buffer.from('{"id":7,"result":[],"task":{"id":1,"data":{}}}'), 'x')).toBe('labelstudio');
    expect(sniffFormat(Buffer.from('{"info":{},"images":[{"id":1}],"annotations":[],"categories":[]}'), 'x')).toBe('coco');
  });
});

describe('Label Studio target storage: bad files are reported one by one, never fatal', () => {
  const prefix = 'labelstudio/annotations/bad/';
  beforeAll(() => {
    writeTree(join(root, 'inbox'), {
      'images/turtles/a.jpg': 'a',
      'private/secret.jpg': 'secret',
      [`${prefix}20`]: 'not json {',
      [`${prefix}21`]: annotationFile(21, task(5, 's3://inbox/images/turtles/a.jpg', { meta: { batch: 'seals' } }), [
        brush('turtle', () => true),
      ]),
      [`${prefix}22`]: annotationFile(22, task(6, 's3://inbox/images/turtles/a.jpg', { project: 9 }), [brush('turtle', () => true)]),
      [`${prefix}23`]: annotationFile(23, task(7, 's3://inbox/private/secret.jpg'), [brush('turtle', () => true)]),
      [`${prefix}24`]: annotationFile(24, task(8, 's3://inbox/images/turtles/a.jpg'), [
        brush('turtle', () => true),
        brush('whale', () => true),
      ]),
      [`${prefix}25`]: annotationFile(25, task(9, 's3://inbox/images/turtles/a.jpg'), [], { was_cancelled: true }),
    });
  });

  test('not JSON, another batch, another project, an image outside the allow-list, a label not configured, a skipped task', async () => {
    const items = await readAll(`s3://inbox/${prefix}`, { batch: 'turtles', project: 4, labels: ['turtle', 'rock'] });
    const at = (n: string) => `s3://inbox/${prefix}${n}`;
    expect(items.filter((i): i is ExportSkip => 'reason' in i).map((i) => i.reason)).toEqual([
      expect.stringMatching(new RegExp(`^${at('20')}: not JSON \\(`)),
      `${at('21')}: task 5 is of batch "seals", not turtles`,
      `${at('22')}: task 6 is of Label Studio project "9", not 4`,
      `${at('25')}: every annotation of the task was cancelled`,
    ]);
    const kept = items.filter((i): i is ExportItem => !('reason' in i));
    expect(kept.map((i) => i.source)).toEqual(['s3://inbox/private/secret.jpg', 's3://inbox/images/turtles/a.jpg']);
    // Outside the allow-list: refused when the image is looked for, before a byte is read.
    await expect(kept[0].findImage()).rejects.toThrow('"s3://inbox/private/secret.jpg" is outside what this run may read');
    expect(kept[1].notPainted).toEqual({ 'brushlabels labeled "whale", not in the labeling configuration': 1 });
    expect(pixelsOf(kept[1])).toEqual([['turtle', [1, 1, 1, 1, 1, 1, 1, 1]]]);
  });

  test('a file over the size limit is reported, not parsed, and the others still read', async () => {
    const files = [`s3://inbox/${prefix}21`, `s3://inbox/${prefix}25`];
    const items: (ExportItem | ExportSkip)[] = [];
    const maxFileBytes = Buffer.byteLength(readFileSync(join(root, 'inbox', prefix, '25'))) + 1;
    for await (const item of labelStudioReader({
      store: sources,
      location: `s3://inbox/${prefix}`,
      files,
      images: { store: sources, root: 's3://inbox/images/' },
      maxFileBytes,
    }).items())
      items.push(item);
    expect(items.map((i) => ('reason' in i ? i.reason : 'item'))).toEqual([
      `s3://inbox/${prefix}21: ${readFileSync(join(root, 'inbox', prefix, '21')).length} bytes, over the ${maxFileBytes}-byte limit of one Label Studio file`,
      `s3://inbox/${prefix}25: every annotation of the task was cancelled`,
    ]);
  });

  test('without expectations every task belongs', async () => {
    const items = await readAll(`s3://inbox/${prefix}`);
    expect(items.filter((i) => 'reason' in i)).toHaveLength(2);
  });
});

describe('Label Studio target storage: a round of many files', () => {
  const prefix = 'labelstudio/annotations/many/';
  const count = 40;
  beforeAll(() => {
    writeTree(join(root, 'inbox'), {
      'images/turtles/a.jpg': 'a',
      ...Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
          `${prefix}${100 + i}`,
          annotationFile(100 + i, task(100 + i, 's3://inbox/images/turtles/a.jpg'), [brush('turtle', (p) => p < 3)]),
        ]),
      ),
      // Past the few megabytes read ahead of their turn (as a very large image's brush RLEs are): read again whole.
      [`${prefix}200`]: annotationFile(200, task(200, 's3://inbox/images/turtles/a.jpg'), [brush('rock', () => true)], {
        comment: 'x'.repeat(5 * 1024 * 1024),
      }),
    });
  });

  test('files are read several at a time (each GET’s latency overlapping), converted in name order; a large one is read whole', async () => {
    let inFlight = 0;
    let most = 0;
    const slow = new Proxy(sources, {
      get(target, property, receiver) {
        if (property !== 'readStart') return Reflect.get(target, property, receiver);
        return async (...args: Parameters<typeof sources.readStart>) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          try {
            return await target.readStart(...args);
          } finally {
            inFlight -= 1;
          }
        };
      },
    });
    const files = Array.from({ length: count }, (_, i) => `s3://inbox/${prefix}${100 + i}`).concat(`s3://inbox/${prefix}200`);
    const items: (ExportItem | ExportSkip)[] = [];
    for await (const item of labelStudioReader({
      store: slow,
      location: `s3://inbox/${prefix}`,
      files,
      images: { store: sources, root: 's3://inbox/images/' },
    }).items())
      items.push(item);
    expect(items.map((i) => ('reason' in i ? i.reason : i.line))).toEqual(Array.from({ length: count + 1 }, (_, i) => i + 1));
    expect(pixelsOf(items[count])).toEqual([['rock', [1, 1, 1, 1, 1, 1, 1, 1]]]);
    expect(most).toBeGreaterThan(4);
    expect(most).toBeLessThanOrEqual(16);
  });
});
