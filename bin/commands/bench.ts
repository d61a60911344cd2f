import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { convertGroundTruthManifest } from '../../lambda/convert/convert-manifest';
import { FolderObjectStore } from '../../lambda/convert/folder-object-store';
import { CLASS_MASK_PNG_OPTIONS, useSharpForConcurrentItems } from '../../lambda/convert/mask';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../lambda/local/ground-truth-output';
import { renderSyntheticScene, sceneToJpeg } from '../../lambda/local/synthetic-scenes';
import { forEachLimited } from '../../lambda/shared/concurrency';
import { parsePositiveInteger } from './convert';

const DISTINCT_SCENES = 16;
const DEFAULT_REFERENCE = resolve(__dirname, '..', '..', 'shared', 'bench', 'ref_convert.py');

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

/** A downloaded Ground Truth job of `count` items: JPEGs, indexed colour masks and output.manifest. */
async function writeGroundTruthJob(root: string, count: number, options: BenchOptions): Promise<string> {
  const classes = labelingClasses(Array.from({ length: options.classes }, (_, i) => `class-${i + 1}`));
  const scenes = await Promise.all(Array.from({ length: DISTINCT_SCENES }, async (_, i) => {
    const scene = renderSyntheticScene(i + 1, options.width, options.height, options.classes);
    return { jpeg: await sceneToJpeg(scene), mask: groundTruthMaskPng(scene.classIndices, options.width, options.height, classes) };
  }));
  mkdirSync(join(root, 'inbox', 'images', 'bench'), { recursive: true });
  mkdirSync(join(root, 'gt', 'job', 'annotations'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const scene = scenes[i % scenes.length];
    writeFileSync(join(root, 'inbox', 'images', 'bench', `img-${i}.jpg`), scene.jpeg);
    writeFileSync(join(root, 'gt', 'job', 'annotations', `${i}.png`), scene.mask);
    lines.push(JSON.stringify(groundTruthManifestLine({
      source: `s3://inbox/images/bench/img-${i}.jpg`, mask: `s3://gt/job/annotations/${i}.png`, attribute: 'bench-ref', jobName: 'bench', classes,
    })));
  }
  const manifest = join(root, 'output.manifest');
  writeFileSync(manifest, `${lines.join('\n')}\n`);
  return manifest;
}

/**
 * The floor: sharp decodes each mask PNG to raw RGB and encodes a single-channel PNG of its size
 * (its first channel, taken by libvips), with no colour mapping, no image and no writes.
 */
async function floorPerSecond(root: string, count: number, concurrency: number): Promise<number> {
  const started = performance.now();
  await forEachLimited(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
    const png = readFileSync(join(root, 'gt', 'job', 'annotations', `${i}.png`));
    const { data, info } = await sharp(png).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .extractChannel(0).toColourspace('b-w').png(CLASS_MASK_PNG_OPTIONS).toBuffer();
  });
  return count / ((performance.now() - started) / 1000);
}

async function conversionPerSecond(root: string, manifest: string, out: string, concurrency: number): Promise<number> {
  rmSync(out, { recursive: true, force: true });
  const store = new FolderObjectStore(root);
  const started = performance.now();
  const report = await convertGroundTruthManifest({ manifest, out, concurrency, stores: { manifest: store, sources: store, output: new FolderObjectStore() } });
  if (report.counts.skipped > 0) throw new Error(`benchmark data had skips: ${JSON.stringify(report.skipped.slice(0, 3))}`);
  return report.counts.converted / ((performance.now() - started) / 1000);
}

/** Median wall time of a whole command, in seconds. */
function timeCommand(command: string, args: string[], repeat: number, before: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    before();
    const started = performance.now();
    const run = spawnSync(command, args, { encoding: 'utf8' });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
    times.push(seconds);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks that print figures');
  bench.command('convert')
    .description('conversion throughput against its floor and against the Python/PIL reference converter')
    .option('--images <n>', 'items for the in-process figures', parsePositiveInteger, 200)
    .option('--compare-images <n>', 'items for the whole-command comparison', parsePositiveInteger, 300)
    .option('--width <px>', 'image width', parsePositiveInteger, 1280)
    .option('--height <px>', 'image height', parsePositiveInteger, 720)
    .option('--classes <n>', 'label classes besides the background', parsePositiveInteger, 3)
    .option('--concurrency <n>', 'items in flight', parsePositiveInteger, 4)
    .option('--repeat <n>', 'runs of each whole command (the median counts)', parsePositiveInteger, 3)
    .option('--reference <path>', 'the Python reference converter', DEFAULT_REFERENCE)
    .option('--python <path>', 'Python with PIL and numpy', '/usr/bin/python3')
    .option('--keep', 'keep the generated data', false)
    .action(async (options: BenchOptions) => {
      useSharpForConcurrentItems();
      const work = mkdtempSync(join(tmpdir(), 'segpipe-bench-'));
      const say = (line: string) => process.stdout.write(`${line}\n`);
      try {
        const count = Math.max(options.images, options.compareImages);
        say(`generating ${count} Ground Truth-style items (${options.width}×${options.height}, ${options.classes} classes + background, indexed masks) in ${work}`);
        const manifest = await writeGroundTruthJob(work, count, options);
        const inProcess = join(work, 'in-process.manifest');
        writeFileSync(inProcess, readFileSync(manifest, 'utf8').split('\n').slice(0, options.images).join('\n'));

        await floorPerSecond(work, Math.min(8, options.images), options.concurrency); // warm-up
        const floor = await floorPerSecond(work, options.images, options.concurrency);
        const conversion = await conversionPerSecond(work, inProcess, join(work, 'out-in-process'), options.concurrency);
        say(`\nin-process, ${options.images} items, concurrency ${options.concurrency}:`);
        say(`  floor (decode mask PNG, encode single-channel PNG): ${fmt(floor)} items/s`);
        say(`  full conversion (folder to folder):                  ${fmt(conversion)} items/s`);
        say(`  conversion / floor:                                  ${fmt((conversion / floor) * 100, 0)}%  (target ≥ 80%)`);

        const segpipeBin = resolve(__dirname, '..', 'bin', 'segpipe.js');
        const out = join(work, 'out-command');
        const clear = () => rmSync(out, { recursive: true, force: true });
        const common = ['--manifest', manifest, '--local-root', work, '--out', out];
        const ours = timeCommand(process.execPath, [segpipeBin, 'convert', ...common, '--concurrency', String(options.concurrency)], options.repeat, clear);
        say(`\nwhole command, ${count} items, median of ${options.repeat}:`);
        say(`  segpipe convert:     ${fmt(ours, 2)} s  ${fmt(count / ours)} items/s`);
        if (!existsSync(options.reference)) {
          say(`  reference converter not found at ${options.reference}; pass --reference`);
          return;
        }
        const reference = timeCommand(options.python, [options.reference, ...common], options.repeat, clear);
        say(`  Python/PIL/numpy:    ${fmt(reference, 2)} s  ${fmt(count / reference)} items/s`);
        say(`  segpipe / reference: ${fmt(reference / ours, 2)}×  (target ≥ 4×)`);
      } finally {
        if (options.keep) say(`data kept in ${work}`);
        else rmSync(work, { recursive: true, force: true });
      }
    });
  return bench;
}
