import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeBinary } from '@thi.ng/rle-pack';
import sharp from 'sharp';
import { encodePalettePng } from '../../local/png';
import { SYSTEM_PYTHON } from './pil';

/**
 * Exports of the labeling tools segpipe reads, written the way those tools write them, with the
 * quirks real exports have, and the class-index mask each item must become (the truth).
 */

export const W = 48;
export const H = 32;

export interface Truth {
  /** The item's `source` in the report: the reference as the export wrote it. */
  readonly source: string;
  /** Class index (or 255) per pixel, row by row, in the report's class order. */
  readonly indices: Uint8Array;
}

export interface FormatFixture {
  /** What to pass as --input. */
  readonly input: string;
  readonly images?: string;
  readonly classes: readonly string[];
  readonly truths: readonly Truth[];
  /** Skipped entries: the source (or null) and a pattern of the reason. */
  readonly skips: readonly { readonly source: string | null; readonly reason: RegExp }[];
}

function write(path: string, body: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

/** A photo-like JPEG of the fixture's size (its content does not matter to the masks). */
export function jpeg(seed: number, width = W, height = H): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + seed * 31) & 0xff;
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Pixel values by a rule of the coordinates. */
export function grid(rule: (x: number, y: number) => number, width = W, height = H): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = rule(x, y);
  return out;
}

/** An indexed PNG with a tRNS chunk (alpha per palette entry), as Lookout for Vision wrote masks. */
export function palettePngWithAlpha(
  indices: Uint8Array,
  palette: readonly number[],
  alpha: readonly number[],
  width = W,
  height = H,
): Buffer {
  const png = encodePalettePng(indices, width, height, palette);
  const plteAt = png.indexOf('PLTE', 0, 'latin1') - 4;
  const plteEnd = plteAt + 12 + png.readUInt32BE(plteAt);
  const body = Buffer.concat([Buffer.from('tRNS', 'latin1'), Buffer.from(alpha)]);
  const chunk = Buffer.alloc(12 + alpha.length);
  chunk.writeUInt32BE(alpha.length, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 8 + alpha.length);
  return Buffer.concat([png.subarray(0, plteEnd), chunk, png.subarray(plteEnd)]);
}

/** An RGB(A) PNG from per-pixel colours (0xRRGGBB) and optional alphas. */
export function colourPng(colours: readonly number[], alpha?: readonly number[], width = W, height = H): Promise<Buffer> {
  const channels = alpha ? 4 : 3;
  const data = Buffer.alloc(width * height * channels);
  colours.forEach((rgb, i) => {
    data[i * channels] = rgb >> 16;
    data[i * channels + 1] = (rgb >> 8) & 0xff;
    data[i * channels + 2] = rgb & 0xff;
    if (alpha) data[i * channels + 3] = alpha[i];
  });
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}

/**
 * Zips a folder with Python's zipfile (an independent writer), entries under `wrapper/` when given,
 * with an entry for each folder as `zip -r`, Windows and macOS write them.
 */
export function zipFolder(folder: string, zipPath: string, wrapper = ''): void {
  execFileSync(SYSTEM_PYTHON, [
    '-c',
    `
import os, sys, zipfile
folder, target, wrapper = sys.argv[1:4]
with zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(folder):
        folder_name = os.path.normpath(os.path.join(wrapper, os.path.relpath(root, folder)))
        if folder_name != '.':
            z.write(root, folder_name)
        for f in sorted(files):
            path = os.path.join(root, f)
            z.write(path, os.path.join(wrapper, os.path.relpath(path, folder)))
`,
    folder,
    zipPath,
    wrapper,
  ]);
}

/**
 * Lookout for Vision: a classification attribute beside the mask, key "0" a defect, no BACKGROUND,
 * upper-case hex, transparent masks; a normal image (no mask: all background) and one whose class is
 * neither normal nor anomaly (unlabeled, as Lookout for Vision adds it).
 */
export async function lookoutForVisionFixture(dir: string): Promise<FormatFixture> {
  const scratch = 0x2ca02c;
  const dent = 0xd62728;
  const line = (name: string, anomalous: boolean) => ({
    'source-ref': `s3://l4v/dataset/${name}.jpg`,
    'anomaly-label': anomalous ? 1 : 0,
    'anomaly-label-metadata': {
      'class-name': anomalous ? 'anomaly' : 'normal',
      type: 'groundtruth/image-classification',
      'job-name': 'anomaly-label',
      'human-annotated': 'yes',
      'creation-date': '2021/04/01 10:00:00',
      confidence: 1,
    },
    ...(anomalous
      ? {
          'anomaly-mask-ref': `s3://l4v/masks/${name}.png`,
          'anomaly-mask-ref-metadata': {
            'internal-color-map': {
              0: { 'class-name': 'scratch', 'hex-color': '#2CA02C', confidence: 0 },
              1: { 'class-name': 'dent', 'hex-color': '#D62728', confidence: 0 },
            },
            type: 'groundtruth/semantic-segmentation',
            'human-annotated': 'yes',
            'creation-date': 'Thu, 01 Apr 2021 10:00:00 GMT',
            'job-name': 'labeling-job/anomaly-mask',
          },
        }
      : {}),
  });
  const root = join(dir, 'buckets');
  for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) write(join(root, 'l4v', 'dataset', `${name}.jpg`), await jpeg(i));
  // Palette: transparent background, two defects, and anti-aliased edges of each (alpha 100 and 200).
  const entries = grid((x, y) => (x < 4 ? 0 : x < 16 ? 1 : x < 20 ? 3 : x < 30 ? 2 : x < 34 ? 4 : y < 8 ? 0 : 1));
  write(
    join(root, 'l4v', 'masks', 'a.png'),
    palettePngWithAlpha(entries, [0x000000, scratch, dent, scratch, dent], [0, 255, 255, 100, 200]),
  );
  const classOfEntry = [0, 1, 2, 0, 2];
  // RGBA: a transparent black background, a dent, and a scratch with a faint (alpha 60) halo.
  const rgbaClass = grid((x) => (x < 10 ? 0 : x < 20 ? 2 : x < 24 ? 3 : 1));
  const colours = [...rgbaClass].map((c) => [0x000000, scratch, dent, scratch][c]);
  const alphas = [...rgbaClass].map((c) => [0, 255, 255, 60][c]);
  write(join(root, 'l4v', 'masks', 'b.png'), await colourPng(colours, alphas));
  const manifest = join(root, 'l4v', 'manifests', 'output.manifest');
  const unlabeled = {
    ...line('d', false),
    'anomaly-label-metadata': { ...line('d', false)['anomaly-label-metadata'], 'class-name': 'to-review' },
  };
  write(manifest, `${[line('a', true), line('b', true), line('c', false), unlabeled].map((l) => JSON.stringify(l)).join('\n')}\n`);
  return {
    input: manifest,
    classes: ['BACKGROUND', 'scratch', 'dent'],
    truths: [
      { source: 's3://l4v/dataset/a.jpg', indices: entries.map((e) => classOfEntry[e]) },
      { source: 's3://l4v/dataset/b.jpg', indices: rgbaClass.map((c) => [0, 1, 2, 0][c]) },
      { source: 's3://l4v/dataset/c.jpg', indices: new Uint8Array(W * H) },
    ],
    skips: [{ source: 's3://l4v/dataset/d.jpg', reason: /no semantic-segmentation label/ }],
  };
}

/** CVAT "Segmentation mask 1.1": comments and blank lines, a grey background that is not first, a PNG image, a listed image that is absent. */
export async function cvatFixture(dir: string): Promise<FormatFixture> {
  const colours = { turtle: 0xfa3253, background: 0x0a0a0a, rock: 0x3d3df5, unknown: 0x123456 };
  write(
    join(dir, 'labelmap.txt'),
    '# label:color_rgb:parts:actions\nturtle:250,50,83::\n\nBackground:10,10,10::\n  # rocks\nrock:61,61,245::\n',
  );
  write(join(dir, 'ImageSets', 'Segmentation', 'default.txt'), 'frame_000\nframe_001\nmissing_002\n');
  write(join(dir, 'JPEGImages', 'frame_000.jpg'), await jpeg(1));
  write(
    join(dir, 'JPEGImages', 'frame_001.png'),
    await sharp(await jpeg(2))
      .png()
      .toBuffer(),
  );
  const first = grid((x, y) => (x + y < 20 ? 1 : y > 20 ? 2 : x === 40 && y === 5 ? 3 : 0));
  const second = grid((x) => (x % 7 === 0 ? 2 : 0));
  const palette = [colours.background, colours.turtle, colours.rock, colours.unknown];
  write(join(dir, 'SegmentationClass', 'frame_000.png'), await colourPng([...first].map((p) => palette[p])));
  write(join(dir, 'SegmentationClass', 'frame_001.png'), await colourPng([...second].map((p) => palette[p])));
  // Class order: Background, then turtle and rock in label-map order; the unknown colour is 255.
  const index = [0, 1, 2, 255];
  return {
    input: dir,
    classes: ['Background', 'turtle', 'rock'],
    truths: [
      { source: 'JPEGImages/frame_000.jpg', indices: first.map((p) => index[p]) },
      { source: 'JPEGImages/frame_001.png', indices: second.map((p) => index[p]) },
    ],
    skips: [{ source: 'JPEGImages/missing_002', reason: /no mask SegmentationClass\/missing_002\.png/ }],
  };
}

/** Pascal VOC's colour map: the palette its SegmentationClass PNGs carry. */
export function vocPalette(): number[] {
  return Array.from({ length: 256 }, (_, index) => {
    let r = 0,
      g = 0,
      b = 0,
      c = index;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    return (r << 16) | (g << 8) | b;
  });
}

/** Pascal VOC: palette masks whose indices are the classes, 255 on object borders, an image without a mask. */
export async function vocFixture(dir: string): Promise<FormatFixture> {
  const values = grid((x, y) => (x < 10 ? 0 : x === 10 ? 255 : x < 30 ? 15 : y < 16 ? 8 : 255));
  write(join(dir, 'JPEGImages', '2007_000032.jpg'), await jpeg(3));
  write(join(dir, 'JPEGImages', '2007_000033.jpg'), await jpeg(4));
  write(join(dir, 'SegmentationClass', '2007_000032.png'), encodePalettePng(values, W, H, vocPalette()));
  write(join(dir, 'ImageSets', 'Segmentation', 'train.txt'), '2007_000032\n');
  write(join(dir, 'ImageSets', 'Segmentation', 'val.txt'), '2007_000033\n');
  return {
    input: dir,
    classes: [
      'background',
      'aeroplane',
      'bicycle',
      'bird',
      'boat',
      'bottle',
      'bus',
      'car',
      'cat',
      'chair',
      'cow',
      'diningtable',
      'dog',
      'horse',
      'motorbike',
      'person',
      'pottedplant',
      'sheep',
      'sofa',
      'train',
      'tvmonitor',
    ],
    truths: [{ source: 'JPEGImages/2007_000032.jpg', indices: values }],
    skips: [{ source: 'JPEGImages/2007_000033.jpg', reason: /no mask/ }],
  };
}

/** Whether the centre of pixel (x, y) is inside a polygon: a ray cast, independent of the converter's scanline. */
export function centreInside(ring: readonly number[], x: number, y: number): boolean {
  const px = x + 0.5;
  const py = y + 0.5;
  let inside = false;
  for (let i = 0, j = ring.length - 2; i < ring.length; j = i, i += 2) {
    const [xi, yi, xj, yj] = [ring[i], ring[i + 1], ring[j], ring[j + 1]];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** COCO's uncompressed RLE of a row-major bitmap: runs column by column, starting with zeros. */
export function cocoRle(bitmap: Uint8Array, width: number, height: number): number[] {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = bitmap[y * width + x] ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** pycocotools' `rleToString`: LEB128-like groups of 5 bits, offset by 48, deltas after the second count. */
export function cocoRleString(counts: readonly number[]): string {
  let out = '';
  counts.forEach((count, i) => {
    let x = i > 2 ? count - counts[i - 2] : count;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  });
  return out;
}

/** COCO: categories out of id order, overlapping polygons (the small one listed first), both RLE kinds, iscrowd, an unknown category, a missing image. */
export async function cocoFixture(dir: string): Promise<FormatFixture> {
  const big = [2.5, 2.5, 45.2, 3.1, 44.7, 29.4, 3.3, 28.8];
  const small = [10.2, 8.7, 22.9, 9.4, 16.1, 20.6];
  const twoParts = [
    [30, 4, 40, 4, 40, 12],
    [5.5, 20, 12.5, 20, 9, 30.5],
  ];
  const blob = grid((x, y) => ((x - 24) ** 2 + (y - 16) ** 2 < 81 ? 1 : 0));
  const crowd = grid((x, y) => (y > 24 && x > 30 ? 1 : 0));
  const coco = {
    info: { description: 'fixture' },
    categories: [
      { id: 7, name: 'turtle', supercategory: 'animal' },
      { id: 2, name: 'rock', supercategory: 'thing' },
    ],
    images: [
      { id: 11, file_name: 'photos/c1.jpg', width: W, height: H },
      { id: 12, file_name: 'c2.jpg', width: W, height: H },
      { id: 13, file_name: 'absent.jpg', width: W, height: H },
    ],
    annotations: [
      { id: 1, image_id: 11, category_id: 7, segmentation: [small], area: 80, bbox: [], iscrowd: 0 },
      { id: 2, image_id: 11, category_id: 2, segmentation: [big], area: 1100, bbox: [], iscrowd: 0 },
      { id: 3, image_id: 11, category_id: 99, segmentation: [small], area: 80, bbox: [], iscrowd: 0 },
      { id: 4, image_id: 12, category_id: 7, segmentation: { counts: cocoRle(blob, W, H), size: [H, W] }, area: 250, bbox: [], iscrowd: 0 },
      {
        id: 5,
        image_id: 12,
        category_id: 2,
        segmentation: { counts: cocoRleString(cocoRle(crowd, W, H)), size: [H, W] },
        area: 100,
        bbox: [],
        iscrowd: 1,
      },
      { id: 6, image_id: 12, category_id: 2, segmentation: twoParts, area: 60, bbox: [], iscrowd: 0 },
    ],
  };
  write(join(dir, 'annotations', 'instances_default.json'), JSON.stringify(coco, null, 1));
  write(join(dir, 'images', 'photos', 'c1.jpg'), await jpeg(5));
  write(join(dir, 'images', 'c2.jpg'), await jpeg(6));
  // Classes by category id: rock (2) before turtle (7).
  const first = grid((x, y) => (centreInside(small, x, y) ? 2 : centreInside(big, x, y) ? 1 : 0));
  const second = grid((x, y) => (twoParts.some((r) => centreInside(r, x, y)) ? 1 : blob[y * W + x] ? 2 : crowd[y * W + x] ? 1 : 0));
  return {
    input: join(dir, 'annotations', 'instances_default.json'),
    images: join(dir, 'images'),
    classes: ['BACKGROUND', 'rock', 'turtle'],
    truths: [
      { source: 'photos/c1.jpg', indices: first },
      { source: 'c2.jpg', indices: second },
    ],
    skips: [{ source: 'absent.jpg', reason: /image not found: absent\.jpg/ }],
  };
}

/** Label Studio's brush RLE of a mask: RGBA pixels whose alpha is the stroke, encoded as its front end does. */
export function labelStudioRle(alpha: Uint8Array): number[] {
  const rgba = new Uint8Array(alpha.length * 4);
  alpha.forEach((a, i) => {
    rgba[i * 4] = 255;
    rgba[i * 4 + 3] = a;
  });
  return [...encodeBinary(rgba, rgba.length)];
}

/** Label Studio: uploads prefixed with a hash, an s3:// reference, brush and polygon labels, paired results, rectangles, cancelled and older annotations. */
export async function labelStudioFixture(dir: string): Promise<FormatFixture> {
  write(join(dir, 'media', 'ls1.jpg'), await jpeg(7));
  write(join(dir, 'media', 'nested', 'ls2.jpg'), await jpeg(8));
  const brushAlpha = grid((x, y) => (x < 12 ? 255 : x < 14 ? 100 : x < 16 ? 200 : y === 31 ? 255 : 0));
  const polygonPercent = [
    [50, 10],
    [90, 10],
    [90, 60],
    [50, 60],
  ];
  const polygonPixels = polygonPercent.flatMap(([x, y]) => [(x * W) / 100, (y * H) / 100]);
  const result = (type: string, value: Record<string, unknown>, id: string, sized = true) => ({
    id,
    type,
    from_name: 'tag',
    to_name: 'image',
    ...(sized ? { original_width: W, original_height: H, image_rotation: 0 } : {}),
    value,
  });
  const tasks = [
    {
      id: 1,
      data: { image: '/data/upload/3/1a2b3c4d-ls1.jpg' },
      annotations: [
        {
          id: 10,
          was_cancelled: true,
          created_at: '2026-03-05T10:00:00Z',
          updated_at: '2026-03-05T10:00:00Z',
          result: [result('brushlabels', { format: 'rle', rle: labelStudioRle(grid(() => 255)), brushlabels: ['rock'] }, 'x')],
        },
        {
          id: 11,
          was_cancelled: false,
          created_at: '2026-03-01T10:00:00Z',
          updated_at: '2026-03-04T10:00:00Z',
          result: [
            result('brushlabels', { format: 'rle', rle: labelStudioRle(brushAlpha), brushlabels: ['turtle'] }, 'b1'),
            result('polygonlabels', { points: polygonPercent, closed: true, polygonlabels: ['rock'] }, 'p1'),
            result('rectanglelabels', { x: 1, y: 1, width: 5, height: 5, rectanglelabels: ['turtle'] }, 'r1'),
            { type: 'relation', from_id: 'b1', to_id: 'p1', direction: 'right' },
          ],
        },
        { id: 12, was_cancelled: false, created_at: '2026-03-02T10:00:00Z', updated_at: '2026-03-02T10:00:00Z', result: [] },
      ],
      predictions: [],
    },
    {
      id: 2,
      data: { image: 's3://label-bucket/raw/ls2.jpg' },
      annotations: [
        {
          id: 20,
          was_cancelled: false,
          created_at: '2026-03-01T10:00:00Z',
          result: [result('polygon', { points: polygonPercent }, 'q1', false), result('labels', { labels: ['turtle'] }, 'q1', false)],
        },
      ],
    },
    { id: 3, data: { image: ['/data/upload/3/a.jpg', '/data/upload/3/b.jpg'] }, annotations: [] },
    { id: 4, data: { image: '/data/upload/3/ls1.jpg' }, annotations: [{ id: 40, was_cancelled: true, result: [] }] },
  ];
  write(join(dir, 'export', 'project-1-at-2026-03-06.json'), JSON.stringify(tasks));
  const brush = (x: number, y: number) => brushAlpha[y * W + x] >= 128;
  return {
    input: join(dir, 'export', 'project-1-at-2026-03-06.json'),
    images: join(dir, 'media'),
    classes: ['BACKGROUND', 'turtle', 'rock'],
    truths: [
      // The brush (area 16×32+) is larger than the polygon (19×16), so the polygon is painted over it.
      { source: '/data/upload/3/1a2b3c4d-ls1.jpg', indices: grid((x, y) => (centreInside(polygonPixels, x, y) ? 2 : brush(x, y) ? 1 : 0)) },
      { source: 's3://label-bucket/raw/ls2.jpg', indices: grid((x, y) => (centreInside(polygonPixels, x, y) ? 1 : 0)) },
    ],
    skips: [
      { source: null, reason: /data\.image is a list/ },
      { source: '/data/upload/3/ls1.jpg', reason: /every annotation of the task was cancelled/ },
    ],
  };
}

/**
 * Lookout for Vision's sample data set as its repository ships it (aws-samples/amazon-lookout-for-vision,
 * cookie-dataset/dataset-files): `manifests/template.manifest` whose `source-ref`s and mask references
 * are relative to `dataset-files/` (`training-images/…`, `mask-images/…`), one class `cracked` at key
 * "0" and no BACKGROUND, RGBA masks whose background is transparent black and whose class colour
 * fades at the edges (alpha 0 to 255), and a normal image (a classification, no mask).
 */
export async function lookoutForVisionTemplateFixture(dir: string): Promise<FormatFixture> {
  const cracked = 0x23a436;
  const line = (name: string) =>
    JSON.stringify({
      'source-ref': `training-images/${name}.jpg`,
      'anomaly-label-metadata': {
        'job-name': 'anomaly-label',
        'class-name': 'anomaly',
        'human-annotated': 'yes',
        'creation-date': '2022-08-22T20:52:51.851Z',
        type: 'groundtruth/image-classification',
      },
      'anomaly-label': 1,
      'anomaly-mask-ref-metadata': {
        'internal-color-map': { 0: { 'class-name': 'cracked', 'hex-color': '#23A436' } },
        'job-name': 'labeling-job/object-mask-ref',
        'human-annotated': 'yes',
        'creation-date': 'Mon Aug 22 2022 13:52:52 GMT-0700 (Pacific Daylight Time)',
        type: 'groundtruth/semantic-segmentation',
      },
      'anomaly-mask-ref': `mask-images/${name}.png`,
    });
  const root = join(dir, 'dataset-files');
  const alphas = grid((x, y) => (x < 20 ? 0 : x < 22 ? 90 : x < 24 ? 200 : y < 30 ? 255 : 3));
  for (const [i, name] of ['anomaly-1', 'anomaly-2'].entries()) {
    write(join(root, 'training-images', `${name}.jpg`), await jpeg(20 + i));
    if (i === 0)
      write(
        join(root, 'mask-images', `${name}.png`),
        await colourPng(
          [...alphas].map((a) => (a === 0 ? 0 : cracked)),
          [...alphas],
        ),
      );
  }
  // A normal image, as the sample writes it: a classification and no mask.
  write(join(root, 'training-images', 'normal-1.jpg'), await jpeg(22));
  const normal = JSON.stringify({
    'source-ref': 'training-images/normal-1.jpg',
    'anomaly-label-metadata': {
      confidence: 1,
      'job-name': 'labeling-job/auto-label',
      'class-name': 'normal',
      'human-annotated': 'yes',
      'creation-date': '2022-08-22T20:49:51.427',
      type: 'groundtruth/image-classification',
    },
    'anomaly-label': 0,
  });
  write(join(root, 'manifests', 'template.manifest'), `${[...['anomaly-1', 'anomaly-2'].map(line), normal].join('\n')}\n`);
  return {
    input: join(root, 'manifests', 'template.manifest'),
    classes: ['BACKGROUND', 'cracked'],
    truths: [
      { source: 'training-images/anomaly-1.jpg', indices: alphas.map((a) => (a >= 128 ? 1 : 0)) },
      { source: 'training-images/normal-1.jpg', indices: new Uint8Array(W * H) },
    ],
    skips: [
      {
        source: 'training-images/anomaly-2.jpg',
        reason: /^mask not found: mask-images\/anomaly-2\.png \(a relative reference; looked under /,
      },
    ],
  };
}

/**
 * COCO panoptic as COCO ships panoptic_val2017 (and Datumaro writes it): `annotations/panoptic_val.json`
 * whose annotations hold `file_name` (a PNG) and `segments_info`, the PNGs in `annotations/panoptic_val/`
 * with each pixel's segment id as RGB (id = R + 256·G + 256²·B, 0 unlabelled), the images apart.
 * Large ids (every byte in use), a PNG colour no segment lists, a segment of an unknown category.
 * With `stuff`, a stuff category (`isthing: 0`) is declared and unlabelled pixels are ignored (255);
 * without, they are the background.
 */
export async function cocoPanopticFixture(dir: string, stuff: boolean): Promise<FormatFixture> {
  const segment = { person: 0x0a0b0c + 1, car: 3_000_000, grass: 77, stray: 5_000_000, unknown: 12 };
  const rgbOfId = (id: number) => ((id & 0xff) << 16) | (id & 0xff00) | (id >>> 16);
  const categories = [
    { id: 1, name: 'person', supercategory: 'person', isthing: 1, color: [220, 20, 60] },
    { id: 3, name: 'car', supercategory: 'vehicle', isthing: 1, color: [0, 0, 142] },
    ...(stuff ? [{ id: 125, name: 'grass', supercategory: 'plant', isthing: 0, color: [0, 255, 0] }] : []),
  ];
  // Segment ids take 24 bits: a plain array, not grid()'s bytes.
  const ids = (rule: (x: number, y: number) => number) => Array.from({ length: W * H }, (_, i) => rule(i % W, Math.floor(i / W)));
  const first = ids((x, y) =>
    y > 24 ? (stuff ? segment.grass : 0) : x < 10 ? segment.person : x < 30 ? segment.car : x === 40 && y === 3 ? segment.stray : 0,
  );
  const second = ids((x) => (x < 8 ? segment.unknown : x < 20 ? segment.person : 0));
  write(join(dir, 'annotations', 'panoptic_val', 'p1.png'), await colourPng(first.map(rgbOfId)));
  write(join(dir, 'annotations', 'panoptic_val', 'p2.png'), await colourPng(second.map(rgbOfId)));
  write(join(dir, 'images', 'p1.jpg'), await jpeg(30));
  write(join(dir, 'images', 'p2.jpg'), await jpeg(31));
  const info = (id: number, category: number) => ({ id, category_id: category, area: 1, bbox: [0, 0, 1, 1], iscrowd: 0 });
  write(
    join(dir, 'annotations', 'panoptic_val.json'),
    JSON.stringify({
      info: { description: 'panoptic fixture' },
      licenses: [],
      images: [
        { id: 1, file_name: 'p1.jpg', width: W, height: H },
        { id: 2, file_name: 'p2.jpg', width: W, height: H },
      ],
      annotations: [
        {
          image_id: 1,
          file_name: 'p1.png',
          segments_info: [info(segment.person, 1), info(segment.car, 3), ...(stuff ? [info(segment.grass, 125)] : [])],
        },
        { image_id: 2, file_name: 'p2.png', segments_info: [info(segment.unknown, 99), info(segment.person, 1)] },
      ],
      categories,
    }),
  );
  const voidIndex = stuff ? 255 : 0;
  const classOf = new Map([
    [segment.person, 1],
    [segment.car, 2],
    [segment.grass, 3],
    [0, voidIndex],
  ]);
  return {
    input: join(dir, 'annotations', 'panoptic_val.json'),
    images: join(dir, 'images'),
    classes: ['BACKGROUND', 'person', 'car', ...(stuff ? ['grass'] : [])],
    truths: [
      { source: 'p1.jpg', indices: Uint8Array.from(first, (id) => classOf.get(id) ?? 255) },
      { source: 'p2.jpg', indices: Uint8Array.from(second, (id) => classOf.get(id) ?? 255) },
    ],
    skips: [],
  };
}
