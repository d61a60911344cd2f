import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { LabelingClass } from './ground-truth-output';
import { randomGenerator } from './synthetic-scenes';

/**
 * Labeling exports as other tools write them, generated for the benchmark and the tests: CVAT's
 * "Segmentation mask 1.1" folder and a COCO instance-segmentation JSON with polygons.
 */

/** CVAT's default colours for new labels, after a black background. */
export const CVAT_BACKGROUND_RGB = 0x000000;
export const CVAT_LABEL_COLOURS = [0xfa3253, 0x3d3df5, 0xb83df5, 0xfafa37, 0x24b353, 0xff6a4d, 0x2a7dd1, 0x66ff66];

/** A label map in CVAT's order: `background` (black) first, then each label with its colour. */
export function cvatLabels(labels: readonly string[], colours: readonly number[] = CVAT_LABEL_COLOURS): LabelingClass[] {
  return [{ name: 'background', rgb: CVAT_BACKGROUND_RGB }, ...labels.map((name, i) => ({ name, rgb: colours[i % colours.length] }))];
}

/** `labelmap.txt` as CVAT writes it: a comment, then `name:r,g,b:parts:actions` lines. */
export function cvatLabelmapText(labels: readonly LabelingClass[]): string {
  const lines = labels.map(({ name, rgb }) => `${name}:${(rgb >> 16) & 0xff},${(rgb >> 8) & 0xff},${rgb & 0xff}::`);
  return `# label:color_rgb:parts:actions\n${lines.join('\n')}\n`;
}

/**
 * An RGB colour mask: each pixel painted with `colours[positions[i]]`. With the label map's colours,
 * `positions` are label-map positions; a colour the label map lacks makes an unknown colour. Rows
 * are filtered adaptively, as the libpng behind CVAT's and PIL's writers filters RGB rows.
 */
export function colourMaskPng(positions: Uint8Array, width: number, height: number, colours: readonly number[]): Promise<Buffer> {
  if (positions.length !== width * height) throw new Error(`expected ${width * height} pixels, received ${positions.length}`);
  const rgb = Buffer.alloc(positions.length * 3);
  for (let i = 0; i < positions.length; i++) {
    const colour = colours[positions[i]];
    if (colour === undefined) throw new Error(`pixel ${i} is position ${positions[i]}, which has no colour`);
    rgb[i * 3] = (colour >> 16) & 0xff;
    rgb[i * 3 + 1] = (colour >> 8) & 0xff;
    rgb[i * 3 + 2] = colour & 0xff;
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ adaptiveFiltering: true })
    .toBuffer();
}

export interface CvatExportItem {
  /** The name without extension, as `ImageSets/Segmentation/default.txt` lists it; may hold `/`. */
  readonly stem: string;
  /** Written as `JPEGImages/<stem><imageExtension>`; without it the image is listed but absent, as in real exports. */
  readonly image?: Buffer;
  /** @default '.jpg' */
  readonly imageExtension?: string;
  /** Written as `SegmentationClass/<stem>.png`; without it the mask is absent. */
  readonly mask?: Buffer;
}

/** A CVAT "Segmentation mask 1.1" export folder: labelmap.txt, ImageSets/Segmentation/default.txt, JPEGImages/, SegmentationClass/. */
export function writeCvatExport(dir: string, items: readonly CvatExportItem[], labels: readonly LabelingClass[]): void {
  const write = (path: string, body: string | Buffer) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  };
  write(join(dir, 'labelmap.txt'), cvatLabelmapText(labels));
  write(join(dir, 'ImageSets', 'Segmentation', 'default.txt'), `${items.map((item) => item.stem).join('\n')}\n`);
  mkdirSync(join(dir, 'JPEGImages'), { recursive: true });
  mkdirSync(join(dir, 'SegmentationClass'), { recursive: true });
  for (const item of items) {
    if (item.image) write(join(dir, 'JPEGImages', `${item.stem}${item.imageExtension ?? '.jpg'}`), item.image);
    if (item.mask) write(join(dir, 'SegmentationClass', `${item.stem}.png`), item.mask);
  }
}

/** One object of a COCO image: its category and its polygons, each `[x1, y1, x2, y2, ...]` in pixels. */
export interface CocoObject {
  readonly categoryId: number;
  readonly polygons: readonly (readonly number[])[];
}

export interface CocoImage {
  readonly fileName: string;
  readonly width: number;
  readonly height: number;
  readonly objects: readonly CocoObject[];
}

export interface CocoCategory {
  readonly id: number;
  readonly name: string;
  readonly supercategory?: string;
}

export interface CocoDataset {
  readonly info: Record<string, unknown>;
  readonly images: { id: number; file_name: string; width: number; height: number }[];
  readonly annotations: {
    id: number;
    image_id: number;
    category_id: number;
    segmentation: number[][];
    area: number;
    bbox: number[];
    iscrowd: 0;
  }[];
  readonly categories: CocoCategory[];
}

/** The shoelace area of a polygon `[x1, y1, x2, y2, ...]`. */
export function polygonArea(polygon: readonly number[]): number {
  let twice = 0;
  for (let i = 0; i < polygon.length; i += 2) {
    const j = (i + 2) % polygon.length;
    twice += polygon[i] * polygon[j + 1] - polygon[j] * polygon[i + 1];
  }
  return Math.abs(twice) / 2;
}

/** A COCO instances JSON of polygon annotations (iscrowd 0), with `area` and `bbox` as COCO exporters fill them. */
export function cocoPolygonExport(images: readonly CocoImage[], categories: readonly CocoCategory[]): CocoDataset {
  const dataset: CocoDataset = {
    info: { description: 'segpipe fixture' },
    images: [],
    annotations: [],
    categories: categories.map((c) => ({ ...c })),
  };
  images.forEach((image, i) => {
    dataset.images.push({ id: i + 1, file_name: image.fileName, width: image.width, height: image.height });
    for (const object of image.objects) {
      const xs = object.polygons.flatMap((p) => p.filter((_, k) => k % 2 === 0));
      const ys = object.polygons.flatMap((p) => p.filter((_, k) => k % 2 === 1));
      const [left, top] = [Math.min(...xs), Math.min(...ys)];
      dataset.annotations.push({
        id: dataset.annotations.length + 1,
        image_id: i + 1,
        category_id: object.categoryId,
        segmentation: object.polygons.map((p) => [...p]),
        area: object.polygons.reduce((sum, p) => sum + polygonArea(p), 0),
        bbox: [left, top, Math.max(...xs) - left, Math.max(...ys) - top],
        iscrowd: 0,
      });
    }
  });
  return dataset;
}

/**
 * Two to five objects of the given categories, each a star-shaped polygon of 8 to 24 vertices with
 * fractional coordinates, of sizes that make small objects overlap large ones; one in four objects
 * comes in two parts (two polygons), as an occluded object does. The same seed draws the same objects.
 */
export function randomPolygonObjects(seed: number, width: number, height: number, categoryIds: readonly number[]): CocoObject[] {
  const random = randomGenerator(seed);
  const star = (cx: number, cy: number, radius: number): number[] => {
    const vertices = 8 + Math.floor(random() * 17);
    return Array.from({ length: vertices }, (_, v) => {
      const angle = (2 * Math.PI * (v + random() * 0.8)) / vertices;
      const r = radius * (0.55 + random() * 0.45);
      const clamp = (value: number, limit: number) => Math.round(Math.max(0, Math.min(limit, value)) * 100) / 100;
      return [clamp(cx + r * Math.cos(angle), width), clamp(cy + r * Math.sin(angle), height)];
    }).flat();
  };
  return Array.from({ length: 2 + Math.floor(random() * 4) }, () => {
    const radius = Math.min(width, height) * (0.05 + random() * 0.3);
    const cx = width * (0.1 + random() * 0.8);
    const cy = height * (0.1 + random() * 0.8);
    const polygons = [star(cx, cy, radius)];
    if (random() < 0.25) polygons.push(star(cx + radius * 1.6, cy, radius * 0.5));
    return { categoryId: categoryIds[Math.floor(random() * categoryIds.length)], polygons };
  });
}
