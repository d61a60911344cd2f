import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { parsePositiveInteger } from '../../bin/commands/convert';
import { replaceSdkNodeVersionNotice } from '../../bin/node-support';
import { forEachLimited } from '../../lambda/common/concurrency';
import { CLASS_MASK_PNG_OPTIONS, useSharpForConcurrentItems } from '../../lambda/convert/codecs/mask';
import { convertGroundTruthManifest } from '../../lambda/convert/conversion/convert-export';
import { FolderObjectStore } from '../../lambda/convert/stores/folder-object-store';
import { cocoPolygonExport, colourMaskPng, cvatLabels, randomPolygonObjects, writeCvatExport } from '../../local/export-fixtures';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../local/ground-truth-output';
import { renderSyntheticScene, type SyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';

const DISTINCT_SCENES = 16;
const REPOSITORY = resolve(__dirname, '..', '..');
const DEFAULT_REFERENCE = join(__dirname, 'ref_convert.py');

interface BenchOptions {
  images: number;
  compareImages: number;
  width: number;
  height: number;
  classes: number;
  concurrency: number;
  repeat: number;
  reference: string;
  python: string;
  keep: boolean;
}

interface BenchScene {
  readonly scene: SyntheticScene;
  readonly jpeg: Buffer;
}

async function renderScenes(options: BenchOptions): Promise<BenchScene[]> {
  return Promise.all(
    Array.from({ length: DISTINCT_SCENES }, async (_, i) => {
      const scene = renderSyntheticScene(i + 1, options.width, options.height, options.classes);
      return { scene, jpeg: await sceneToJpeg(scene) };
    }),
  );
}

const classNames = (options: BenchOptions) => Array.from({ length: options.classes }, (_, i) => `class-${i + 1}`);

/** A downloaded Ground Truth job of `count` items: JPEGs, indexed colour masks and output.manifest. */
function writeGroundTruthJob(root: string, count: number, scenes: readonly BenchScene[], options: BenchOptions): string {
  const classes = labelingClasses(classNames(options));
  const masks = scenes.map(({ scene }) => groundTruthMaskPng(scene.classIndices, options.width, options.height, classes));
  mkdirSync(join(root, 'inbox', 'images', 'bench'), { recursive: true });
  mkdirSync(join(root, 'gt', 'job', 'annotations'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    writeFileSync(join(root, 'inbox', 'images', 'bench', `img-${i}.jpg`), scenes[i % scenes.length].jpeg);
    writeFileSync(join(root, 'gt', 'job', 'annotations', `${i}.png`), masks[i % masks.length]);
    lines.push(
      JSON.stringify(
        groundTruthManifestLine({
          source: `s3://inbox/images/bench/img-${i}.jpg`,
          mask: `s3://gt/job/annotations/${i}.png`,
          attribute: 'bench-ref',
          jobName: 'bench',
          classes,
        }),
      ),
    );
  }
  const manifest = join(root, 'output.manifest');
  writeFileSync(manifest, `${lines.join('\n')}\n`);
  return manifest;
}

/** A CVAT "Segmentation mask 1.1" export of `count` items: RGB colour masks in the label map's colours. */
async function writeCvatJob(dir: string, count: number, scenes: readonly BenchScene[], options: BenchOptions): Promise<void> {
  const labels = cvatLabels(classNames(options));
  const masks = await Promise.all(
    scenes.map(({ scene }) =>
      colourMaskPng(
        scene.classIndices,
        options.width,
        options.height,
        labels.map((l) => l.rgb),
      ),
    ),
  );
  const items = Array.from({ length: count }, (_, i) => ({
    stem: `img-${i}`,
    image: scenes[i % scenes.length].jpeg,
    mask: masks[i % masks.length],
  }));
  writeCvatExport(dir, items, labels);
}

/** A COCO export of `count` images (`images/img-<i>.jpg`) with a few polygon objects each; returns the JSON's path. */
function writeCocoJob(dir: string, count: number, scenes: readonly BenchScene[], options: BenchOptions): string {
  const categories = classNames(options).map((name, i) => ({ id: i + 1, name, supercategory: '' }));
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'annotations'), { recursive: true });
  const images = Array.from({ length: count }, (_, i) => {
    writeFileSync(join(dir, 'images', `img-${i}.jpg`), scenes[i % scenes.length].jpeg);
    return {
      fileName: `img-${i}.jpg`,
      width: options.width,
      height: options.height,
      objects: randomPolygonObjects(
        i + 1,
        options.width,
        options.height,
        categories.map((c) => c.id),
      ),
    };
  });
  const json = join(dir, 'annotations', 'instances_default.json');
  writeFileSync(json, JSON.stringify(cocoPolygonExport(images, categories)));
  return json;
}

/**
 * Runs `python reference --help`, which imports PIL and numpy first: a missing Python, reference or
 * module ends the benchmark before any data is generated, with the reason.
 */
function checkReference(python: string, reference: string): void {
  if (!existsSync(reference)) throw new Error(`the reference converter ${reference} is missing; pass --reference <path>`);
  const run = spawnSync(python, [reference, '--help'], { encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run Python at ${python} (${run.error.message}); install python3 or pass --python <path>`);
  if (run.status !== 0) throw new Error(run.stderr.trim() || `${python} ${reference} --help exited with ${run.status}`);
}

/**
 * The floor: sharp decodes each mask PNG to raw RGB and encodes a single-channel PNG of its size
 * (its first channel, taken by libvips), with no colour mapping, no image and no writes.
 */
async function floorPerSecond(root: string, count: number, concurrency: number): Promise<number> {
  const started = performance.now();
  await forEachLimited(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const png = readFileSync(join(root, 'gt', 'job', 'annotations', `${i}.png`));
      const { data, info } = await sharp(png).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .extractChannel(0)
        .toColourspace('b-w')
        .png(CLASS_MASK_PNG_OPTIONS)
        .toBuffer();
    },
  );
  return count / ((performance.now() - started) / 1000);
}

async function conversionPerSecond(root: string, manifest: string, out: string, concurrency: number): Promise<number> {
  rmSync(out, { recursive: true, force: true });
  const store = new FolderObjectStore(root);
  const started = performance.now();
  const report = await convertGroundTruthManifest({
    manifest,
    out,
    concurrency,
    stores: { manifest: store, sources: store, output: new FolderObjectStore() },
  });
  if (report.counts.skipped > 0) throw new Error(`benchmark data had skips: ${JSON.stringify(report.skipped.slice(0, 3))}`);
  return report.counts.converted / ((performance.now() - started) / 1000);
}

interface WholeCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly out: string;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Median wall times of segpipe's command and the reference's, in seconds, their runs alternating so
 * that other load on the machine falls on both. Each run starts from an empty output folder, and each
 * must have converted every item.
 */
function timeCommands(ours: WholeCommand, reference: WholeCommand, items: number, repeat: number): { ours: number; reference: number } {
  const times = { ours: [] as number[], reference: [] as number[] };
  for (let i = 0; i < repeat; i++) {
    for (const [side, run] of [
      ['ours', ours],
      ['reference', reference],
    ] as const) {
      rmSync(run.out, { recursive: true, force: true });
      const started = performance.now();
      const result = spawnSync(run.command, run.args, { encoding: 'utf8' });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 0) throw new Error(`${run.command} ${run.args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
      const converted = JSON.parse(readFileSync(join(run.out, 'report.json'), 'utf8')).counts.converted;
      if (converted !== items) throw new Error(`${run.command} ${run.args.join(' ')} converted ${converted} of ${items} items`);
      times[side].push(seconds);
    }
  }
  return { ours: median(times.ours), reference: median(times.reference) };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/**
 * `npm run bench:convert` (a maintainer's script run with tsx, not a segpipe command). The whole-command
 * figures run the built command, dist/segpipe.js, which the npm script builds first.
 */
const bench = new Command('npm run bench:convert --')
  .description(
    'conversion throughput against its floor, and whole commands against the Python/PIL reference converter (tools/bench/ref_convert.py)',
  )
  .option('--images <n>', 'items for the in-process figures', parsePositiveInteger, 200)
  .option('--compare-images <n>', 'items of each whole-command comparison (Ground Truth, CVAT, COCO)', parsePositiveInteger, 300)
  .option('--width <px>', 'image width', parsePositiveInteger, 1280)
  .option('--height <px>', 'image height', parsePositiveInteger, 720)
  .option('--classes <n>', 'label classes besides the background', parsePositiveInteger, 3)
  .option('--concurrency <n>', 'items in flight', parsePositiveInteger, 4)
  .option('--repeat <n>', 'runs of each whole command (the median counts)', parsePositiveInteger, 3)
  .option('--reference <path>', 'the Python reference converter', DEFAULT_REFERENCE)
  .option('--python <path>', 'Python with PIL and numpy', '/usr/bin/python3')
  .option('--keep', 'keep the generated data', false)
  .action(async (options: BenchOptions) => {
    checkReference(options.python, options.reference);
    useSharpForConcurrentItems();
    const work = mkdtempSync(join(tmpdir(), 'segpipe-bench-'));
    const say = (line: string) => process.stdout.write(`${line}\n`);
    try {
      const count = Math.max(options.images, options.compareImages);
      say(
        `generating ${count} Ground Truth-style items and ${options.compareImages} each of CVAT and COCO exports ` +
          `(${options.width}×${options.height}, ${options.classes} classes + background) in ${work}`,
      );
      const scenes = await renderScenes(options);
      const manifest = writeGroundTruthJob(work, count, scenes, options);
      const firstLines = (file: string, lines: number) => {
        writeFileSync(file, `${readFileSync(manifest, 'utf8').split('\n').slice(0, lines).join('\n')}\n`);
        return file;
      };
      const inProcess = firstLines(join(work, 'in-process.manifest'), options.images);
      const compared = firstLines(join(work, 'compared.manifest'), options.compareImages);
      const cvat = join(work, 'cvat');
      await writeCvatJob(cvat, options.compareImages, scenes, options);
      const coco = join(work, 'coco');
      const cocoJson = writeCocoJob(coco, options.compareImages, scenes, options);

      await floorPerSecond(work, Math.min(8, options.images), options.concurrency); // warm-up
      const floor = await floorPerSecond(work, options.images, options.concurrency);
      const conversion = await conversionPerSecond(work, inProcess, join(work, 'out-in-process'), options.concurrency);
      say(`\nin-process, Ground Truth, ${options.images} items, concurrency ${options.concurrency}:`);
      say(`  floor (decode mask PNG, encode single-channel PNG): ${fmt(floor)} items/s`);
      say(`  full conversion (folder to folder):                  ${fmt(conversion)} items/s`);
      say(`  conversion / floor:                                  ${fmt((conversion / floor) * 100, 0)}%  (target ≥ 80%)`);

      const segpipe = (out: string, ...args: string[]): WholeCommand => ({
        command: process.execPath,
        args: [join(REPOSITORY, 'dist', 'segpipe.js'), 'convert', ...args, '--out', out, '--concurrency', String(options.concurrency)],
        out,
      });
      const reference = (out: string, ...args: string[]): WholeCommand => ({
        command: options.python,
        args: [options.reference, ...args, '--out', out],
        out,
      });
      const ours = join(work, 'out-segpipe');
      const theirs = join(work, 'out-reference');
      const comparisons = [
        {
          what: 'Ground Truth, palette masks',
          target: 5,
          ours: segpipe(ours, '--input', compared, '--local-root', work),
          reference: reference(theirs, '--manifest', compared, '--local-root', work),
        },
        {
          what: 'CVAT, RGB colour masks',
          target: 4,
          ours: segpipe(ours, '--input', cvat, '--format', 'cvat'),
          reference: reference(theirs, '--cvat', cvat),
        },
        {
          what: 'COCO, polygons',
          target: undefined,
          ours: segpipe(ours, '--input', cocoJson, '--format', 'coco', '--images', join(coco, 'images')),
          reference: reference(theirs, '--coco', cocoJson, '--images', join(coco, 'images')),
        },
      ];
      say(
        `\nwhole command, ${options.compareImages} items each, median of ${options.repeat} runs (segpipe --concurrency ${options.concurrency}; the reference in one process):`,
      );
      say(`  ${'export'.padEnd(28)} ${'segpipe convert'.padEnd(20)} ${'Python/PIL/numpy'.padEnd(20)} segpipe / reference`);
      for (const comparison of comparisons) {
        const seconds = timeCommands(comparison.ours, comparison.reference, options.compareImages, options.repeat);
        const timing = (s: number) => `${fmt(s, 2)} s ${fmt(options.compareImages / s)}/s`.padEnd(20);
        const target = comparison.target === undefined ? '(no target)' : `(target ≥ ${comparison.target}×)`;
        say(
          `  ${comparison.what.padEnd(28)} ${timing(seconds.ours)} ${timing(seconds.reference)} ${fmt(seconds.reference / seconds.ours, 2)}×  ${target}`,
        );
      }
    } finally {
      if (options.keep) say(`data kept in ${work}`);
      else rmSync(work, { recursive: true, force: true });
    }
  });
bench.hook('preAction', replaceSdkNodeVersionNotice());
bench.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench:convert: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
