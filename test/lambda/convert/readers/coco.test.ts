import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportItem, ExportSkip } from '../../../../lambda/convert/export-item';
import { cocoReader, decodeCocoRleString, rleToBitmap } from '../../../../lambda/convert/readers/coco';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { cocoRleString } from '../../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-coco-reader-'));
const store = new FolderObjectStore();

async function read(coco: unknown): Promise<(ExportItem | ExportSkip)[]> {
  const location = join(work, `coco-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(location, JSON.stringify(coco));
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of cocoReader({ store, location, images: { store, root: work } }).items()) items.push(item);
  return items;
}

async function declared(coco: unknown): Promise<string[]> {
  const location = join(work, `coco-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(location, JSON.stringify(coco));
  return (await cocoReader({ store, location, images: { store, root: work } }).declaredClasses()).map((c) => c.name);
}

describe('COCO reader: annotations it cannot paint are counted by reason', () => {
  test('each kind of unpaintable segmentation has its own reason; a flat polygon paints', async () => {
    const annotation = (id: number, segmentation: unknown, category = 1) => ({
      id,
      image_id: 1,
      category_id: category,
      segmentation,
      iscrowd: 0,
    });
    const [item] = (await read({
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
        annotation(10, { size: [2], counts: [8] }),
        annotation(9, [0, 0, 4, 0, 4, 2], 42),
      ],
    })) as ExportItem[];
    expect(item.notPainted).toEqual({
      'annotation without a polygon of 3 points': 2,
      'RLE of 4×3 on an image of 4×2': 1,
      'RLE without counts': 1,
      'RLE cannot be decoded (RLE covers 30 pixels, its 4×2 size has 8)': 1,
      'annotation without segmentation': 3,
      'annotation of unknown category 42': 1,
    });
    expect(item.mask).toEqual({
      kind: 'shapes',
      size: { width: 4, height: 2 },
      shapes: [{ kind: 'polygon', className: 'turtle', rings: [[0, 0, 4, 0, 4, 2]] }],
    });
  });

  test('every entry is numbered by its place in images, whether it is an item or a problem; one listed twice is read once; one without a size has none', async () => {
    const items = await read({
      categories: [{ id: 1, name: 'turtle' }],
      images: [
        { id: 1, file_name: 'a.jpg' },
        { id: 2 },
        { id: 3, file_name: 'a.jpg', width: 4, height: 2 },
        { id: 4, file_name: 'b.jpg', width: 0, height: 2 },
      ],
      annotations: [],
    });
    expect(items).toEqual([
      { line: 2, source: null, reason: 'images[1] has no file_name' },
      expect.objectContaining({ line: 1, source: 'a.jpg', mask: { kind: 'shapes', size: undefined, shapes: [] } }),
      expect.objectContaining({ line: 4, source: 'b.jpg', mask: { kind: 'shapes', size: undefined, shapes: [] } }),
    ]);
  });
});

describe('COCO RLE', () => {
  test('compressed counts after the second are differences from the count two back, negative ones too', () => {
    // 0, 5, 10, then 2 stored as 2 - 5 = -3 (one group, sign bit set: 29 + 48 = "M").
    expect(decodeCocoRleString('05:M')).toEqual([0, 5, 10, 2]);
    const counts = [3, 70_000, 1_000, 2, 65_000, 1, 0, 40];
    expect(decodeCocoRleString(cocoRleString(counts))).toEqual(counts);
  });

  test('a compressed string that ends inside a count is refused, saying so', () => {
    // "P" is 32 + 48: its continuation bit says another group follows.
    expect(() => decodeCocoRleString('0P')).toThrow('compressed RLE ends inside a count');
  });

  test('a first run of 0 (an object in the top-left corner) paints; negative and fractional counts are refused, named', () => {
    expect([...rleToBitmap([0, 2, 2], 2, 2)]).toEqual([1, 0, 1, 0]);
    expect(() => rleToBitmap([1, -2], 2, 2)).toThrow('RLE count -2 is not a whole number of pixels');
    expect(() => rleToBitmap([1.5, 2.5], 2, 2)).toThrow('RLE count 1.5 is not a whole number of pixels');
  });
});

describe('COCO reader: what the JSON holds that is not a class, an image or an annotation', () => {
  test('a JSON with neither images nor categories is refused as not COCO', async () => {
    await expect(read({ info: {}, licenses: [] })).rejects.toThrow(/ is not a COCO export: it has no "images" nor "categories"$/);
  });

  test('a split with its categories but no images (an empty test split of a Roboflow export) is empty, not refused', async () => {
    await expect(read({ categories: [{ id: 1, name: 'turtle' }], images: [], annotations: [] })).resolves.toEqual([]);
  });

  test('categories without a name or an id are no classes, an id may be a string; a category that groups only some others is a class', async () => {
    const coco = {
      categories: [
        { id: 0, name: 'shapes', supercategory: 'none' },
        { id: 1, name: 'cat', supercategory: 'shapes' },
        { id: 2, name: 'dog', supercategory: 'shapes' },
        { id: 3, name: '' },
        { name: 'no id' },
        'not an object',
        null,
        { id: 8, name: 8 },
        { id: 5, name: 'pets', supercategory: 'shapes' },
        { id: 6, name: 'kitten', supercategory: 'pets' },
        { id: '7', name: 'seven' },
      ],
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 2 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: [0, 0, 4, 0, 4, 2] }],
    };
    expect(await declared(coco)).toEqual(['shapes', 'cat', 'dog', 'pets', 'kitten', 'seven']);
  });

  test("Roboflow's data set category (every other category's supercategory, labelling nothing) is not a class", async () => {
    const categories = [
      { id: 0, name: 'turtles', supercategory: 'none' },
      { id: 1, name: 'turtle', supercategory: 'turtles' },
      { id: 2, name: 'rock', supercategory: 'turtles' },
    ];
    const annotations = [{ id: 1, image_id: 1, category_id: 2, segmentation: [0, 0, 4, 0, 4, 2] }];
    expect(await declared({ categories, images: [], annotations })).toEqual(['turtle', 'rock']);
    // One that labels something is a class after all.
    expect(await declared({ categories, images: [], annotations: [...annotations, { ...annotations[0], id: 2, category_id: 0 }] })).toEqual(
      ['turtles', 'turtle', 'rock'],
    );
  });

  test('standard COCO keeps every declared class at its place whether or not this export uses it: person (its own supercategory) stays, bus stays 6th', async () => {
    const categories = [
      { supercategory: 'person', id: 1, name: 'person' },
      { supercategory: 'vehicle', id: 2, name: 'bicycle' },
      { supercategory: 'vehicle', id: 3, name: 'car' },
      { supercategory: 'vehicle', id: 4, name: 'motorcycle' },
      { supercategory: 'vehicle', id: 5, name: 'airplane' },
      { supercategory: 'vehicle', id: 6, name: 'bus' },
    ];
    // A batch without people: only a bus.
    const coco = {
      categories,
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 2 }],
      annotations: [{ id: 1, image_id: 1, category_id: 6, segmentation: [0, 0, 4, 0, 4, 2] }],
    };
    expect((await declared(coco)).indexOf('bus') + 1).toBe(6);
    // Label Studio's COCO export makes every category its own supercategory; a single one stays too.
    const labelStudio = [
      { id: 0, name: 'turtle', supercategory: 'turtle' },
      { id: 1, name: 'rock', supercategory: 'rock' },
    ];
    expect(await declared({ categories: labelStudio, images: [], annotations: [] })).toEqual(['turtle', 'rock']);
    expect(await declared({ categories: [labelStudio[0]], images: [], annotations: [] })).toEqual(['turtle']);
  });

  test('annotations that are no objects are passed over; an image without annotations has nothing unpainted', async () => {
    const items = (await read({
      categories: [{ id: 1, name: 'turtle' }],
      images: [
        { id: 1, file_name: 'a.jpg', width: 4, height: 2 },
        { id: 2, file_name: 'b.jpg', width: 4, height: 2 },
      ],
      annotations: [null, 7, [1, 2], { id: 1, image_id: 1, category_id: 1, segmentation: [0, 0, 4, 0, 4, 2] }],
    })) as ExportItem[];
    expect(items.map((i) => [i.source, i.notPainted, (i.mask as { shapes: readonly unknown[] }).shapes.length])).toEqual([
      ['a.jpg', undefined, 1],
      ['b.jpg', undefined, 0],
    ]);
  });

  test("an image's size is kept only when both sides are positive numbers; an RLE on an image of unknown size paints", async () => {
    const rle = { size: [2, 2], counts: [0, 2, 2] };
    const items = (await read({
      categories: [{ id: 1, name: 'turtle' }],
      images: [
        { id: 1, file_name: 'a.jpg', width: 2, height: 0 },
        { id: 2, file_name: 'b.jpg', width: 2, height: '2' },
        { id: 3, file_name: 'c.jpg', height: 2 },
        { id: 4, file_name: 'd.jpg', width: 2, height: 2 },
        { id: 5, file_name: 'e.jpg', width: '2', height: 2 },
      ],
      annotations: [1, 2, 3, 4, 5].map((image) => ({ id: image, image_id: image, category_id: 1, segmentation: rle })),
    })) as ExportItem[];
    const bitmap = { kind: 'spans', className: 'turtle', width: 2, height: 2, spans: Int32Array.from([0, 0, 1, 1, 0, 1]), area: 2 };
    expect(items.map((i) => i.mask)).toEqual([
      { kind: 'shapes', size: undefined, shapes: [bitmap] },
      { kind: 'shapes', size: undefined, shapes: [bitmap] },
      { kind: 'shapes', size: undefined, shapes: [bitmap] },
      { kind: 'shapes', size: { width: 2, height: 2 }, shapes: [bitmap] },
      { kind: 'shapes', size: undefined, shapes: [bitmap] },
    ]);
  });

  test("an RLE whose width alone differs from its image's is counted, not painted", async () => {
    const [item] = (await read({
      categories: [{ id: 1, name: 'turtle' }],
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 2 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: { size: [2, 5], counts: [10] } }],
    })) as ExportItem[];
    expect(item.notPainted).toEqual({ 'RLE of 5×2 on an image of 4×2': 1 });
  });

  test('an image with an empty file_name is a problem of its own', async () => {
    expect(await read({ categories: [{ id: 1, name: 'turtle' }], images: [{ id: 1, file_name: '' }], annotations: [] })).toEqual([
      { line: 1, source: null, reason: 'images[0] has no file_name' },
    ]);
  });

  test('images without categories (every annotation then of an unknown category) are read, not refused as not COCO', async () => {
    const items = await read({
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 2 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: [0, 0, 4, 0, 4, 2] }],
    });
    expect(items.map((i) => i.source)).toEqual(['a.jpg']);
  });
});

test('entries nested too deep are reported, not read: an image at its own line, an annotation or category after every image', async () => {
  let deep: unknown = 0;
  for (let i = 0; i < 105; i++) deep = [deep];
  const items = await read({
    categories: [
      { id: 1, name: 'turtle' },
      { id: 2, name: 'rock', extra: deep },
    ],
    images: [
      { id: 1, file_name: 'a.jpg', width: 4, height: 2 },
      { id: 2, file_name: 'b.jpg', extra: deep },
      { id: 3, file_name: 'c.jpg', width: 4, height: 2 },
    ],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, segmentation: [0, 0, 4, 0, 4, 2] },
      { id: 2, image_id: 1, category_id: 1, segmentation: deep },
      { id: 3, image_id: 3, category_id: 1, segmentation: deep },
    ],
  });
  const unread = ': not read (its image, unknown, is converted without it)';
  expect(items.map((item) => ({ line: item.line, source: item.source, reason: 'reason' in item ? item.reason : undefined }))).toEqual([
    { line: 2, source: null, reason: 'images[1] nests deeper than 100 levels: not read' },
    { line: 1, source: 'a.jpg', reason: undefined },
    { line: 3, source: 'c.jpg', reason: undefined },
    { line: 4, source: null, reason: 'categories[1] nests deeper than 100 levels: not read' },
    { line: 5, source: null, reason: `annotations[1] nests deeper than 100 levels${unread}` },
    { line: 6, source: null, reason: `annotations[2] nests deeper than 100 levels${unread}` },
  ]);
});
