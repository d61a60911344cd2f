import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type CocoImage,
  cocoPolygonExport,
  colourMaskPng,
  cvatLabelmapText,
  polygonArea,
  randomPolygonObjects,
  writeCvatExport,
} from '../../local/export-fixtures';
import type { LabelingClass } from '../../local/ground-truth-output';
import { randomGenerator, renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import { sha256 } from '../helpers/files';
import { readMasksWithPil, SYSTEM_PYTHON } from '../helpers/pil';

/**
 * The export writers checked through the benchmark's Python reference converter: each mask it writes
 * must hold, pixel for pixel, the classes the export says.
 */

const REFERENCE = resolve(__dirname, '..', '..', 'tools', 'bench', 'ref_convert.py');
const WIDTH = 64;
const HEIGHT = 48;

let work: string;
beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'segpipe-export-fixtures-'))));
afterEach(() => rmSync(work, { recursive: true, force: true }));

function runReference(args: string[], python = SYSTEM_PYTHON, pythonArgs: string[] = []) {
  return spawnSync(python, [...pythonArgs, REFERENCE, ...args, '--out', join(work, 'out')], { encoding: 'utf8' });
}

interface ReferenceReport {
  classes: string[];
  items: { source: string; name: string; split: string }[];
  skipped: { source: string; reason: string }[];
}

/** Each converted item's mask, read with PIL, by source. */
function masksBySource(report: ReferenceReport): Map<string, { mode: string; sha256: string }> {
  const files = report.items.map((item) => join(work, 'out', `${item.split}_annotation`, `${item.name}.png`));
  const readings = readMasksWithPil(files);
  return new Map(report.items.map((item, i) => [item.source, readings[i]]));
}

test('labelmap.txt is written as CVAT writes it', () => {
  expect(
    cvatLabelmapText([
      { name: 'background', rgb: 0 },
      { name: 'sea turtle', rgb: 0xfa3253 },
    ]),
  ).toBe('# label:color_rgb:parts:actions\nbackground:0,0,0::\nsea turtle:250,50,83::\n');
});

test('a CVAT export: classes by colour, the background (not first, not black) index 0, unknown colours 255, a listed image that is absent skipped', async () => {
  const labels: LabelingClass[] = [
    { name: 'turtle', rgb: 0xfa3253 },
    { name: 'Background', rgb: 0x808080 },
    { name: 'rock', rgb: 0x3d3df5 },
  ];
  const unknownColour = 0x123456;
  const classOfPosition = [1, 0, 2, 255];
  const random = randomGenerator(7);
  const items = await Promise.all(
    ['a', 'b', 'sub/c'].map(async (stem, i) => {
      const positions = renderSyntheticScene(i + 1, WIDTH, HEIGHT, 3).classIndices.map((cls) => (random() < 0.02 ? 3 : cls));
      return {
        stem,
        image: await sceneToJpeg(renderSyntheticScene(i + 1, WIDTH, HEIGHT)),
        mask: await colourMaskPng(positions, WIDTH, HEIGHT, [...labels.map((l) => l.rgb), unknownColour]),
        expected: Uint8Array.from(positions, (p) => classOfPosition[p]),
      };
    }),
  );
  writeCvatExport(join(work, 'export'), [...items, { stem: 'absent' }], labels);
  expect(readdirSync(join(work, 'export')).sort()).toEqual(['ImageSets', 'JPEGImages', 'SegmentationClass', 'labelmap.txt']);

  const run = runReference(['--cvat', join(work, 'export')]);
  expect(run.stderr).toBe('');
  const report: ReferenceReport = JSON.parse(readFileSync(join(work, 'out', 'report.json'), 'utf8'));
  expect(report.classes).toEqual(['background', 'turtle', 'rock']);
  expect(report.skipped).toEqual([{ source: 'absent', reason: 'image missing' }]);
  const masks = masksBySource(report);
  for (const item of items) {
    expect(masks.get(`JPEGImages/${item.stem}.jpg`)).toMatchObject({ mode: 'L', sha256: sha256(item.expected) });
  }
});

/** Independently of the reference's scanlines: each pixel centre tested against every edge (even-odd). */
function centreInside(polygon: readonly number[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 2; i < polygon.length; j = i, i += 2) {
    const [xi, yi, xj, yj] = [polygon[i], polygon[i + 1], polygon[j], polygon[j + 1]];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

test('a COCO export: categories in id order after the background, polygons by pixel centre, largest painted first, the rest background', async () => {
  const categories = [
    { id: 7, name: 'rock' },
    { id: 2, name: 'turtle' },
  ];
  const images: CocoImage[] = [1, 2, 3].map((seed) => ({
    fileName: `img-${seed}.jpg`,
    width: WIDTH,
    height: HEIGHT,
    objects: randomPolygonObjects(seed, WIDTH, HEIGHT, [2, 7]),
  }));
  const dataset = cocoPolygonExport(images, categories);
  expect(dataset.annotations.length).toBe(images.reduce((n, image) => n + image.objects.length, 0));
  expect(dataset.annotations[0]).toMatchObject({
    id: 1,
    image_id: 1,
    iscrowd: 0,
    area:
      polygonArea(images[0].objects[0].polygons[0]) +
      (images[0].objects[0].polygons[1] ? polygonArea(images[0].objects[0].polygons[1]) : 0),
  });
  writeFileSync(join(work, 'instances.json'), JSON.stringify(dataset));
  for (const image of images) writeFileSync(join(work, image.fileName), await sceneToJpeg(renderSyntheticScene(1, WIDTH, HEIGHT)));

  const run = runReference(['--coco', join(work, 'instances.json')]);
  expect(run.stderr).toBe('');
  const report: ReferenceReport = JSON.parse(readFileSync(join(work, 'out', 'report.json'), 'utf8'));
  expect(report.classes).toEqual(['background', 'turtle', 'rock']);
  const masks = masksBySource(report);
  const classOfCategory: Record<number, number> = { 2: 1, 7: 2 };
  for (const image of images) {
    const expected = new Uint8Array(WIDTH * HEIGHT);
    const largestFirst = [...image.objects].sort(
      (a, b) => b.polygons.reduce((s, p) => s + polygonArea(p), 0) - a.polygons.reduce((s, p) => s + polygonArea(p), 0),
    );
    for (const object of largestFirst) {
      for (let y = 0; y < HEIGHT; y++) {
        for (let x = 0; x < WIDTH; x++) {
          if (object.polygons.some((p) => centreInside(p, x + 0.5, y + 0.5))) expected[y * WIDTH + x] = classOfCategory[object.categoryId];
        }
      }
    }
    expect(new Set(expected).size).toBeGreaterThan(1);
    expect(masks.get(image.fileName)).toMatchObject({ mode: 'L', sha256: sha256(expected) });
  }
});

test('the reference converter says in one line what to install when PIL or numpy is missing', () => {
  // -S leaves out the site directories, where Debian's python3-pil and python3-numpy live.
  const run = runReference(['--coco', join(work, 'instances.json')], SYSTEM_PYTHON, ['-S']);
  expect(run.status).not.toBe(0);
  expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/is missing: install Debian's python3-pil and python3-numpy/)]);
});
