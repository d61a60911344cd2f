import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openExport, sniffFormat, UnrecognisedExportError } from '../../../lambda/convert/export-input';
import type { ExportFormat, ExportItem } from '../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { ZipObjectStore } from '../../../lambda/convert/stores/zip-object-store';
import { writeTree } from '../../helpers/files';
import { zipFolder } from '../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-export-input-'));
const store = new FolderObjectStore();
const GT_LINE = `${JSON.stringify({ 'source-ref': 's3://in/a.jpg' })}\n`;
const LS_TASKS = '[{"id":1,"data":{"image":"a.jpg"},"annotations":[]}]';

const folder = (name: string, files: Record<string, string>) => writeTree(join(work, name), files);

async function refusal(input: string, format?: ExportFormat): Promise<string> {
  const failure = await openExport({ input, format, local: store, sources: store }).then(
    () => undefined,
    (err: Error) => err,
  );
  expect(failure).toBeInstanceOf(UnrecognisedExportError);
  return (failure as Error).message;
}

describe('opening an export: what is refused, and why', () => {
  test('an empty file, and a path that holds nothing', async () => {
    const root = folder('empty', { 'output.manifest': '' });
    expect(await refusal(join(root, 'output.manifest'))).toBe(`${join(root, 'output.manifest')} is empty`);
    expect(await refusal(join(root, 'nothing'))).toBe(`${join(root, 'nothing')} not found, or an empty folder`);
  });

  test('a folder of photos only names every format it reads', async () => {
    const root = folder('photos', { 'a.jpg': 'x' });
    expect(await refusal(root)).toMatch(
      new RegExp(
        `^${root} holds no export: it reads groundtruth \\(Ground Truth output manifest .*labelstudio \\(Label Studio JSON export \\(a list of tasks, one task, or a folder of target-storage files\\)\\)$`,
      ),
    );
  });

  test('a folder of several exports of different formats asks for one, naming the first three', async () => {
    const root = folder('several', { 'a.manifest': GT_LINE, 'b.json': LS_TASKS, 'c.json': LS_TASKS, 'd.json': LS_TASKS });
    const files = ['a.manifest', 'b.json', 'c.json'].map((f) => join(root, f)).join(', ');
    expect(await refusal(root)).toBe(`${root} holds 4 export files (${files}, ...); give one with --input`);
    const three = folder('three', { 'a.manifest': GT_LINE, 'b.json': LS_TASKS, 'c.json': LS_TASKS });
    expect(await refusal(three)).toBe(
      `${three} holds 3 export files (${['a.manifest', 'b.json', 'c.json'].map((f) => join(three, f)).join(', ')}); give one with --input`,
    );
  });

  test('an empty export file beside a good one is named', async () => {
    const root = folder('one-empty', { 'a.manifest': GT_LINE, 'b.json': '' });
    expect(await refusal(root)).toBe(`${join(root, 'b.json')} is empty`);
  });

  test('macOS shadow files are not exports', async () => {
    const root = folder('macos', { 'output.manifest': GT_LINE, '__MACOSX/._output.manifest': 'junk', '._output.manifest': 'junk' });
    const opened = await openExport({ input: root, local: store, sources: store });
    expect(opened.reader.format).toBe('groundtruth');
  });

  test('two SegmentationClass/ folders are two exports', async () => {
    const root = folder('two-layouts', { 'a/SegmentationClass/x.png': 'x', 'b/SegmentationClass/y.png': 'y' });
    expect(await refusal(root)).toBe(`${root} holds 2 SegmentationClass/ folders (a/, b/); give one export`);
    const four = folder('four-layouts', Object.fromEntries(['a', 'b', 'c', 'd'].map((f) => [`${f}/SegmentationClass/x.png`, 'x'])));
    expect(await refusal(four)).toBe(`${four} holds 4 SegmentationClass/ folders (a/, b/, c/); give one export`);
  });

  test('a format that needs a layout the input lacks says what it lacks', async () => {
    const voc = folder('voc-only', { 'SegmentationClass/x.png': 'x', 'JPEGImages/x.jpg': 'x' });
    expect(await refusal(voc, 'cvat')).toBe(
      `${voc} has no labelmap.txt: a CVAT "Segmentation mask 1.1" export holds one (use --format voc for Pascal VOC palette masks)`,
    );
    const flat = folder('flat', { 'output.manifest': GT_LINE });
    expect(await refusal(flat, 'voc')).toBe(
      `${flat} has no SegmentationClass/ folder, which a Pascal VOC (SegmentationClass/ palette masks, JPEGImages/) export holds`,
    );
    expect(await refusal(flat, 'cvat')).toBe(
      `${flat} has no SegmentationClass/ folder, which a CVAT "Segmentation mask 1.1" (labelmap.txt, SegmentationClass/, JPEGImages/) export holds`,
    );
    expect(await refusal(join(flat, 'output.manifest'), 'cvat')).toBe(
      `${join(flat, 'output.manifest')} is a file; a CVAT "Segmentation mask 1.1" (labelmap.txt, SegmentationClass/, JPEGImages/) export is a folder or a zip`,
    );
  });

  test('a zip that holds no export is refused like a folder', async () => {
    const root = folder('zip-source', { 'photos/a.jpg': 'x' });
    zipFolder(root, join(work, 'photos.zip'));
    expect(await refusal(join(work, 'photos.zip'))).toMatch(/holds no export: it reads groundtruth/);
  });
});

describe('opening an export: what is chosen', () => {
  const open = (input: string, format?: ExportFormat | 'auto') => openExport({ input, format, local: store, sources: store });

  test('a format given wins over the layout and the content', async () => {
    const cvatLayout = folder('chosen-cvat', {
      'labelmap.txt': '# label:color_rgb:parts:actions\nbackground:0,0,0::\n',
      'SegmentationClass/x.png': 'x',
      'JPEGImages/x.jpg': 'x',
    });
    expect((await open(cvatLayout)).reader.format).toBe('cvat');
    expect((await open(cvatLayout, 'voc')).reader.format).toBe('voc');
    const both = folder('chosen-manifest', { 'SegmentationClass/x.png': 'x', 'output.manifest': GT_LINE });
    expect((await open(both)).reader.format).toBe('voc');
    expect((await open(both, 'groundtruth')).reader.format).toBe('groundtruth');
    const tasks = folder('chosen-file', { 'tasks.json': LS_TASKS });
    expect((await open(join(tasks, 'tasks.json'), 'coco')).reader.format).toBe('coco');
    expect((await open(join(tasks, 'tasks.json'), 'auto')).reader.format).toBe('labelstudio');
  });

  test('export files are .manifest, .jsonl and .json in any case, by their last extension', async () => {
    const root = folder('extensions', { 'tasks.JSON': LS_TASKS, 'old.json.bak': LS_TASKS, 'notes.txt': LS_TASKS });
    expect((await open(root)).reader.format).toBe('labelstudio');
    const lines = folder('jsonl', { 'output.jsonl': GT_LINE });
    expect((await open(lines)).reader.format).toBe('groundtruth');
  });

  test('several COCO files are read as one; the same with one other format is refused', async () => {
    const coco = '{"images":[],"annotations":[],"categories":[]}';
    const split = folder('coco-splits', { 'train/_annotations.coco.json': coco, 'valid/_annotations.coco.json': coco });
    const opened = await open(split);
    expect(opened.reader).toMatchObject({ format: 'coco', input: split });
    const mixed = folder('coco-mixed', { 'train/_annotations.coco.json': coco, 'tasks.json': LS_TASKS });
    expect(await refusal(mixed)).toMatch(/holds 2 export files/);
  });
});

describe("sniffing a file's format from its first bytes", () => {
  test.each([
    ['\ufeff  [{"id":1}]', 'labelstudio'],
    [GT_LINE, 'groundtruth'],
    [
      '{"source-ref":"s3://l4v/a.jpg","anomaly-label":1,"anomaly-label-metadata":{"type":"groundtruth/image-classification"}}\n',
      'lookoutvision',
    ],
    ['{\n "info": {},\n "images": []\n}', 'coco'],
    ['{"categories": [], "annotations": []}', 'coco'],
    ['{"images" : []}', 'coco'],
    ['{"source-ref":"s3://in/a.jpg"}', 'groundtruth'],
  ])('%j is %s', (text, format) => {
    expect(sniffFormat(Buffer.from(text), 'x')).toBe(format);
  });

  test.each(['{"neither": 1}', 'hello', '{"source-ref" broken'])('%j is none of them', (text) => {
    expect(() => sniffFormat(Buffer.from(text), 'export.json')).toThrow(
      /^export\.json is not an export segpipe recognises: it reads groundtruth/,
    );
  });
});

describe('opening an export: where it and its images are read from', () => {
  const cocoOf = (files: string[], categories: { id: number; name: string }[]) =>
    JSON.stringify({ images: files.map((file_name, i) => ({ id: i + 1, file_name })), annotations: [], categories });
  /** A store for S3 that must not be asked: a local input read through it would fail. */
  const unreachableS3 = new Proxy({} as FolderObjectStore, {
    get: (_target, name) =>
      name === 'then'
        ? undefined
        : () => {
            throw new Error(`S3 asked for ${String(name)}`);
          },
  });
  const itemsOf = async (reader: Awaited<ReturnType<typeof openExport>>['reader']) => {
    const items = [];
    for await (const item of reader.items()) items.push(item);
    return items;
  };

  test('a local export is read from the folder even when an S3 store is given, and so are local images', async () => {
    const root = folder('local-with-s3', {
      'coco.json': cocoOf(['a.jpg', 'b.jpg'], [{ id: 1, name: 'cat' }]),
      'photos/a.jpg': 'x',
      'batch/b.jpg': 'x',
    });
    const opened = await openExport({
      input: root,
      images: join(root, 'photos'),
      fallbackImages: join(root, 'batch'),
      local: store,
      s3: unreachableS3,
      sources: store,
    });
    const [a, b] = (await itemsOf(opened.reader)) as ExportItem[];
    expect(await a.findImage()).toEqual({ store, locations: [join(root, 'photos', 'a.jpg')] });
    expect(await b.findImage()).toEqual({ store, locations: [join(root, 'batch', 'b.jpg')] });
  });

  test('images and fallback images on S3 are read through the S3 store', async () => {
    const root = folder('images-on-s3', { 'coco.json': cocoOf(['a.jpg', 'b.jpg'], [{ id: 1, name: 'cat' }]) });
    const bucketRoot = folder('images-on-s3-buckets', { 'inbox/photos/a.jpg': 'x', 'inbox/batch/b.jpg': 'x' });
    const s3 = new FolderObjectStore(bucketRoot);
    const opened = await openExport({
      input: root,
      images: 's3://inbox/photos',
      fallbackImages: 's3://inbox/batch',
      local: store,
      s3,
      sources: store,
    });
    const [a, b] = (await itemsOf(opened.reader)) as ExportItem[];
    expect(await a.findImage()).toEqual({ store: s3, locations: ['s3://inbox/photos/a.jpg'] });
    expect(await b.findImage()).toEqual({ store: s3, locations: ['s3://inbox/batch/b.jpg'] });
  });

  test("a COCO file at a zip's top level finds its images beside it in the zip", async () => {
    const source = folder('zip-top-coco', { '_annotations.coco.json': cocoOf(['a.jpg'], [{ id: 1, name: 'cat' }]), 'a.jpg': 'x' });
    zipFolder(source, join(work, 'top-coco.zip'));
    const opened = await openExport({ input: join(work, 'top-coco.zip'), local: store, sources: store });
    const [item] = (await itemsOf(opened.reader)) as ExportItem[];
    expect((await item.findImage()).locations).toEqual(['a.jpg']);
    opened.close();
  });

  test('closing an opened zip closes the zip', async () => {
    const source = folder('zip-to-close', { 'output.manifest': GT_LINE });
    zipFolder(source, join(work, 'to-close.zip'));
    const close = jest.spyOn(ZipObjectStore.prototype, 'close');
    try {
      const opened = await openExport({ input: join(work, 'to-close.zip'), local: store, sources: store });
      expect(close).not.toHaveBeenCalled();
      opened.close();
      expect(close).toHaveBeenCalledTimes(1);
    } finally {
      close.mockRestore();
    }
  });

  test('one export file is its own reader, named by its own path', async () => {
    const root = folder('single-file', { 'output.manifest': GT_LINE });
    expect((await openExport({ input: root, local: store, sources: store })).reader.input).toBe(join(root, 'output.manifest'));
  });

  test('several COCO files: classes merged by name in file order, the first kept; lines numbered on', async () => {
    const root = folder('coco-merged', {
      'train/_annotations.coco.json': cocoOf(
        ['t1.jpg', 't2.jpg', 't3.jpg'],
        [
          { id: 1, name: 'cat' },
          { id: 2, name: 'dog' },
        ],
      ),
      'valid/_annotations.coco.json': cocoOf(
        ['v1.jpg', 'v2.jpg'],
        [
          { id: 1, name: 'dog' },
          { id: 2, name: 'Background' },
          { id: 3, name: 'bird' },
        ],
      ),
    });
    const { reader } = await openExport({ input: root, local: store, sources: store });
    expect(await reader.declaredClasses()).toEqual([
      { name: 'cat', background: false },
      { name: 'dog', background: false },
      { name: 'Background', background: true },
      { name: 'bird', background: false },
    ]);
    expect((await itemsOf(reader)).map((i) => [i.line, i.source])).toEqual([
      [1, 't1.jpg'],
      [2, 't2.jpg'],
      [3, 't3.jpg'],
      [4, 'v1.jpg'],
      [5, 'v2.jpg'],
    ]);
  });

  test('a CVAT export wrapped two folders deep is found', async () => {
    const root = folder('deep-cvat', {
      'outer/inner/labelmap.txt': '# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:255,0,0::\n',
      'outer/inner/SegmentationClass/x.png': 'x',
    });
    const { reader } = await openExport({ input: root, local: store, sources: store });
    expect(reader.format).toBe('cvat');
    expect((await reader.declaredClasses()).map((c) => c.name)).toEqual(['background', 'car']);
  });

  test('a folder under SegmentationClass/ is no layout', async () => {
    const root = folder('nested-masks', { 'SegmentationClass/old/x.png': 'x', 'output.manifest': GT_LINE });
    expect((await openExport({ input: root, local: store, sources: store })).reader.format).toBe('groundtruth');
  });
});
