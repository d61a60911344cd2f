import { existsSync } from 'node:fs';
import { parentPort, Worker } from 'node:worker_threads';
import type { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CONFIG_DEFAULTS, CONVERSION_CONCURRENCY } from '../../lambda/common/defaults';
import { plural } from '../../lambda/common/plural';
import { useSharpForConcurrentItems } from '../../lambda/convert/codecs/mask';
import { type ConversionProgress, convertExport } from '../../lambda/convert/conversion/convert-export';
import { type ConversionReport, mergeConversionReports, REPORT_FILE } from '../../lambda/convert/conversion/report';
import { FORMAT_DESCRIPTIONS, type OpenedExport, openExport } from '../../lambda/convert/export-input';
import { EXPORT_FORMATS, type ExportFormat, type ExportReader, isBackgroundName } from '../../lambda/convert/export-item';
import { DEFAULT_LIMITS } from '../../lambda/convert/limits';
import { FolderObjectStore } from '../../lambda/convert/stores/folder-object-store';
import { isS3Uri, type ObjectStore } from '../../lambda/convert/stores/object-store';
import { checkRegionAndCredentials } from '../aws-client-check';
import { type OutputTarget, prepareOutput } from './convert-output';

interface ConvertCommandOptions {
  input?: string;
  manifest?: string;
  format: ExportFormat | 'auto';
  images?: string;
  out: string;
  localRoot?: string;
  validationFraction: number;
  seed: string;
  classes?: string[];
  labelAttribute?: string;
  labelstudioBatch?: string;
  labelstudioProject?: number;
  labelmap?: string;
  concurrency: number;
  jobs: number;
  resizeMasks: boolean;
  maxPixels?: number;
  endpointUrl?: string;
  region?: string;
}

export function parseFraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number greater than 0 and less than 1');
  return n;
}

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function parseClassList(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '') || new Set(names).size !== names.length) {
    throw new InvalidArgumentError('expected unique, non-empty class names separated by commas');
  }
  return names;
}

export function convertCommand(): Command {
  return new Command('convert')
    .description(
      'convert a labeling export (Ground Truth, Lookout for Vision, CVAT, Pascal VOC, COCO, Label Studio) into the four channels of the built-in algorithm',
    )
    .option(
      '--input <file|dir|zip|s3-uri>',
      '(required) the export: a file, a folder, a .zip, or an s3:// URI of any of these; --manifest is a synonym',
    )
    .addOption(new Option('--manifest <file|s3-uri>', 'synonym of --input').hideHelp())
    .addOption(
      new Option('--format <format>', "the export's format; auto decides from the content")
        .choices(['auto', ...EXPORT_FORMATS])
        .default('auto'),
    )
    .option('--images <dir|s3-uri>', "where the export's image names resolve (default: the export's folder, JPEGImages/ for CVAT and VOC)")
    .requiredOption(
      '--out <dir|s3-uri>',
      '(required) where train/, validation/, train_annotation/, validation_annotation/ and report.json go: empty, new, or a previous output (replaced)',
    )
    .option('--local-root <dir>', 'read s3://BUCKET/KEY from DIR/BUCKET/KEY (the layout `aws s3 sync s3://BUCKET DIR/BUCKET` leaves)')
    .option('--validation-fraction <f>', 'share of items for validation', parseFraction, CONFIG_DEFAULTS.split.validationFraction)
    .option('--seed <seed>', 'seed of the train/validation split', CONFIG_DEFAULTS.split.seed)
    .option(
      '--classes <a,b,...>',
      "class names in index order after the background (default: the export's order); with more than 253 classes, the ones to train",
      parseClassList,
    )
    .option(
      '--labelmap <file|s3-uri>',
      'CVAT: the labelmap.txt of a "Segmentation mask 1.1" export that lacks it (without it, masks that are not Pascal VOC\'s colours are refused)',
    )
    .option(
      '--label-attribute <name>',
      'Ground Truth: the label attribute to read (default: the -ref attribute of type groundtruth/semantic-segmentation)',
    )
    .option(
      '--labelstudio-batch <name>',
      'Label Studio: only tasks whose meta.batch is this (the tasks segpipe writes name their batch); others are reported',
    )
    .option('--labelstudio-project <id>', 'Label Studio: only tasks of this project id; others are reported', parsePositiveInteger)
    .option('--concurrency <n>', 'items converted at once by each thread', parsePositiveInteger, CONVERSION_CONCURRENCY)
    .option(
      '--jobs <n>',
      'threads converting, each a share of the export: for machines with cores to spare (every thread parses the export whole)',
      parsePositiveInteger,
      1,
    )
    .option('--resize-masks', 'scale a mask whose size differs from its image (nearest-neighbour) instead of skipping it', false)
    .option('--max-pixels <n>', `largest image or mask accepted, in pixels (default ${DEFAULT_LIMITS.maxPixels})`, parsePositiveInteger)
    .option('--endpoint-url <url>', 'an S3-compatible endpoint instead of AWS')
    .option('--region <region>', 'AWS region of the buckets (default: AWS_REGION or the AWS configuration)')
    .addHelpText(
      'after',
      `
Formats (--format auto tells them apart by content):
${EXPORT_FORMATS.map((f) => `  ${f.padEnd(14)}${FORMAT_DESCRIPTIONS[f]}`).join('\n')}

Examples:
  # a CVAT "Segmentation mask 1.1" zip, as CVAT downloads it
  npx segpipe convert --input task_turtles-segmentation_mask_1.1.zip --out ./channels
  # a COCO or Label Studio JSON whose images are in another folder
  npx segpipe convert --input export.json --images ./photos --out ./channels --classes turtle,rock
  # a Ground Truth job synced from S3 (aws s3 sync s3://BUCKET ./buckets/BUCKET for each bucket)
  npx segpipe convert --input ./buckets/gt-output/turtles/manifests/output/output.manifest --local-root ./buckets --out ./channels`,
    )
    .action(async (options: ConvertCommandOptions) => {
      const report = await runConvert(options);
      if (report.counts.converted === 0) {
        const why =
          report.counts.lines === 0
            ? `${report.input} holds no items`
            : `nothing converted (${report.counts.skipped} skipped); first reasons:\n${firstReasons(report)}`;
        process.stderr.write(`segpipe convert: ${why}\n`);
        process.exitCode = 1;
      }
    });
}

/** The stores a conversion reads and writes, made the same way by the command and by each shard. */
interface ConvertStores {
  readonly local: FolderObjectStore;
  readonly remote?: ObjectStore;
  readonly output: ObjectStore;
  readonly sources: ObjectStore;
  /** The S3 store, made (and its region and credentials checked) on first use. */
  readonly s3Store: () => Promise<ObjectStore>;
  /** Why S3 cannot be used (no region, no credentials), once something needed it. */
  readonly s3SetupError: () => Error | undefined;
}

async function convertStores(options: ConvertCommandOptions, input: string): Promise<ConvertStores> {
  let s3: ObjectStore | undefined;
  let s3SetupError: Error | undefined;
  const s3Store = async (): Promise<ObjectStore> => {
    if (!s3) {
      const { S3ObjectStore, createS3Client } = await import('../../lambda/convert/stores/s3-object-store');
      // An S3-compatible server answers whatever region is named.
      const client = createS3Client({
        region: options.region ?? (options.endpointUrl ? (process.env.AWS_REGION ?? 'us-east-1') : undefined),
        endpoint: options.endpointUrl,
      });
      await checkRegionAndCredentials(client, options.endpointUrl).catch((err: Error) => {
        s3SetupError = new Error(
          options.localRoot === undefined && !options.endpointUrl
            ? `${err.message}; or, for files on this machine, pass --local-root DIR (a synced Ground Truth job) or --images DIR`
            : err.message,
        );
        throw s3SetupError;
      });
      s3 = new S3ObjectStore(client);
    }
    return s3;
  };
  const usesS3 = (location: string | undefined) => location !== undefined && isS3Uri(location) && options.localRoot === undefined;
  // With a local root, exports are someone else's: their images are read from their own folder only, links included.
  const local = new FolderObjectStore(options.localRoot, { confineLinks: options.localRoot !== undefined });
  const remote = usesS3(input) || usesS3(options.images) || usesS3(options.out) ? await s3Store() : undefined;
  // A folder --out is written in a staging folder that replaces it once whole (convert-output.ts).
  const output = isS3Uri(options.out) ? (remote ?? (await s3Store())) : new FolderObjectStore(undefined, { staged: true });
  // What an export names as s3://: a manifest's sources, a COCO or Label Studio image on S3. With a
  // local root they are read from it, and it is a boundary (an export is untrusted: no plain paths,
  // no links out of the root); else from S3, with a client made only if one is read.
  const sources =
    options.localRoot === undefined
      ? (remote ?? (await lazyS3Sources(s3Store)))
      : new FolderObjectStore(options.localRoot, { onlyUnderRoot: true });
  return { local, remote, output, sources, s3Store, s3SetupError: () => s3SetupError };
}

function openExportFor(options: ConvertCommandOptions, input: string, stores: ConvertStores): Promise<OpenedExport> {
  return openExport({
    input,
    format: options.format,
    images: options.images,
    local: stores.local,
    s3: stores.remote ?? stores.sources,
    sources: stores.sources,
    labelAttribute: options.labelAttribute,
    labelMap: options.labelmap,
    labelStudio: { batch: options.labelstudioBatch, project: options.labelstudioProject },
    limits: { ...DEFAULT_LIMITS, maxPixels: options.maxPixels ?? DEFAULT_LIMITS.maxPixels },
  });
}

function conversionOptions(options: ConvertCommandOptions) {
  return {
    out: options.out,
    validationFraction: options.validationFraction,
    seed: options.seed,
    classes: options.classes,
    concurrency: options.concurrency,
    resizeMasks: options.resizeMasks,
    maxPixels: options.maxPixels,
  };
}

/** A conversion's report, and why S3 could not be used if something needed it. */
interface Converted {
  readonly report: ConversionReport;
  readonly s3SetupError?: string;
}

/** What a shard's thread is given, and what it posts back. */
interface ShardTask {
  readonly options: ConvertCommandOptions;
  readonly input: string;
  readonly shard: { readonly index: number; readonly count: number };
}
type ShardMessage = { readonly progress: ConversionProgress } | { readonly converted: Converted } | { readonly error: string };

/** Runs in a worker thread (see bin/segpipe.ts): converts one shard and posts its report. */
export async function convertShardInWorker(task: ShardTask): Promise<void> {
  const post = (message: ShardMessage) => parentPort!.postMessage(message);
  try {
    useSharpForConcurrentItems();
    const stores = await convertStores(task.options, task.input);
    const opened = await openExportFor(task.options, task.input, stores);
    try {
      const report = await convertExport({
        ...conversionOptions(task.options),
        reader: opened.reader,
        output: stores.output,
        shard: task.shard,
        writeReport: false,
        onProgress: (progress) => post({ progress }),
      });
      post({ converted: { report, s3SetupError: stores.s3SetupError()?.message } });
    } finally {
      opened.close();
    }
  } catch (err) {
    post({ error: (err as Error).message });
  }
}

/**
 * Converts in `jobs` threads, one shard each, so that a conversion uses every core (mapping mask
 * pixels is JavaScript: one core's work a thread), and merges their reports.
 */
async function convertInThreads(
  options: ConvertCommandOptions,
  input: string,
  jobs: number,
  onProgress?: (p: ConversionProgress) => void,
): Promise<Converted> {
  const progress: ConversionProgress[] = Array.from({ length: jobs }, () => ({ done: 0, seen: 0, readAll: false }));
  const shards = await Promise.all(
    progress.map(
      (_, index) =>
        new Promise<Converted>((resolve, reject) => {
          const task: ShardTask = { options, input, shard: { index, count: jobs } };
          const worker = new Worker(__filename, { workerData: { convertShard: task } });
          worker.on('message', (message: ShardMessage) => {
            if ('progress' in message) {
              progress[index] = message.progress;
              onProgress?.(
                progress.reduce((sum, p) => ({ done: sum.done + p.done, seen: sum.seen + p.seen, readAll: sum.readAll && p.readAll }), {
                  done: 0,
                  seen: 0,
                  readAll: true,
                }),
              );
            } else if ('converted' in message) {
              resolve(message.converted);
            } else {
              reject(new Error(message.error));
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`a conversion thread stopped (exit code ${code})`)));
        }),
    ),
  );
  return { report: mergeConversionReports(shards.map((s) => s.report)), s3SetupError: shards.find((s) => s.s3SetupError)?.s3SetupError };
}

async function runConvert(options: ConvertCommandOptions): Promise<ConversionReport> {
  const input = options.input ?? options.manifest;
  if (input === undefined) throw new Error("required option '--input <file|dir|zip|s3-uri>' not specified");
  if (options.input !== undefined && options.manifest !== undefined) throw new Error('give --input or its synonym --manifest, not both');
  // A folder that is not there would make every item "image not found": said once, as what it is.
  if (options.images !== undefined && !isS3Uri(options.images) && options.localRoot === undefined && !existsSync(options.images))
    throw new Error(`--images ${options.images}: no such folder`);
  useSharpForConcurrentItems();
  const stores = await convertStores(options, input);
  const { output } = stores;
  const opened = await openExportFor(options, input, stores);
  const { reader } = opened;
  let target: OutputTarget | undefined;
  let bar: SingleBar | undefined;
  // Ctrl-C: one line saying what --out holds now, and the exit status of a process ended by SIGINT.
  const onInterrupt = () => {
    bar?.stop();
    process.stderr.write(
      `\nsegpipe convert: ${target ? target.interrupted() : `interrupted before anything was written to ${options.out}`}\n`,
    );
    process.exit(130);
  };
  process.on('SIGINT', onInterrupt);
  try {
    // A manifest names s3:// sources: without a local root they are read from S3, so a missing region
    // or missing credentials is said once, now, not as a reason on every item.
    // A manifest of relative references (Lookout for Vision's sample) needs no S3.
    if (
      (reader.format === 'groundtruth' || reader.format === 'lookoutvision') &&
      options.localRoot === undefined &&
      (await firstSourceIsS3(reader))
    )
      await stores.s3Store();
    target = await prepareOutput(output, options.out);
    process.stderr.write(`segpipe convert: ${input} read as ${reader.format} (${FORMAT_DESCRIPTIONS[reader.format]})\n`);
    bar = await progressBar();
    return await convertInto(options, input, stores, reader, target, bar);
  } catch (err) {
    bar?.stop();
    target?.interrupted();
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
    opened.close();
  }
}

/** A warning naming the `--classes` the export neither declares nor holds a pixel of (a misspelling?). */
async function classesNeverSeen(classes: readonly string[] | undefined, reader: ExportReader, report: ConversionReport): Promise<string[]> {
  if (!classes || classes.length === 0) return [];
  const declared = new Set((await reader.declaredClasses()).map((c) => c.name));
  const never = classes.filter(
    (name) => !isBackgroundName(name) && !declared.has(name) && !report.items.some((i) => (i.pixelsPerClass[name] ?? 0) > 0),
  );
  if (never.length === 0) return [];
  return [
    `--classes names ${never.map((n) => JSON.stringify(n)).join(', ')}, which the export never has (no declared class, no labelled pixel): ${never.length === 1 ? 'its index stays empty' : 'their indices stay empty'}; check the spelling against the export's classes (${
      report.classes
        .slice(1)
        .filter((c) => !never.includes(c))
        .join(', ') || 'none'
    })`,
  ];
}

/** Whether the first entry of an export that names an image names it on S3. */
async function firstSourceIsS3(reader: ExportReader): Promise<boolean> {
  for await (const entry of reader.items()) {
    if (entry.source !== null) return isS3Uri(entry.source);
  }
  return false;
}

/**
 * The progress bar's estimate, `, 12 s left`, or nothing while there is none to give: cli-progress's
 * own says `INFs left` until items are done, and would count on a total still growing.
 */
export function timeLeft(progress: ConversionProgress, elapsedSeconds: number): string {
  if (progress.done === 0 || !progress.readAll) return '';
  return `, ${Math.ceil((elapsedSeconds / progress.done) * (progress.seen - progress.done))} s left`;
}

/** cli-progress takes 30 ms to load: only a terminal shows the bar. */
async function progressBar(): Promise<SingleBar | undefined> {
  if (!process.stderr.isTTY) return undefined;
  const { SingleBar } = await import('cli-progress');
  return new SingleBar({
    format: 'converting [{bar}] {value}/{total} items{left}',
    etaBuffer: 50,
    stream: process.stderr,
    hideCursor: true,
  });
}

async function convertInto(
  options: ConvertCommandOptions,
  input: string,
  stores: ConvertStores,
  reader: OpenedExport['reader'],
  target: OutputTarget,
  bar: SingleBar | undefined,
): Promise<ConversionReport> {
  const { output } = stores;
  const staged = { ...options, out: target.location };

  bar?.start(1, 0, { left: '' });
  const started = performance.now();
  const onProgress =
    bar &&
    ((p: ConversionProgress) => {
      bar.setTotal(Math.max(p.seen, 1));
      bar.update(p.done, { left: timeLeft(p, (performance.now() - started) / 1000) });
    });
  const { report, s3SetupError } =
    options.jobs > 1
      ? await convertInThreads(staged, input, options.jobs, onProgress)
      : {
          report: await convertExport({ ...conversionOptions(staged), reader, output, onProgress, writeReport: false }),
          s3SetupError: stores.s3SetupError()?.message,
        };
  bar?.stop();
  // Every item needed S3 and S3 cannot be used: say why once, not once an item.
  if (s3SetupError && report.counts.converted === 0) throw new Error(s3SetupError);
  const removed = await target.commit(report);
  const seconds = (performance.now() - started) / 1000;
  const { counts } = report;
  process.stdout.write(
    `segpipe convert: ${counts.converted} converted (${counts.train} train, ${counts.validation} validation), ${counts.skipped} skipped, ` +
      `${plural(report.classes.length, 'class')} (${report.classes.join(', ')}), ${plural(counts.ignoredPixels, 'ignored pixel')}` +
      `${counts.shapesNotPainted > 0 ? `, ${plural(counts.shapesNotPainted, 'shape')} not painted` : ''}` +
      `${removed > 0 ? `, ${plural(removed, 'file')} of the previous output removed` : ''}; ` +
      `${seconds.toFixed(1)} s, ${(counts.lines / seconds).toFixed(0)} items/s; report: ${output.join(options.out, REPORT_FILE)}\n`,
  );
  for (const warning of [...(report.warnings ?? []), ...(await classesNeverSeen(options.classes, reader, report))]) {
    process.stderr.write(`segpipe convert: WARNING: ${warning}\n`);
  }
  if (counts.duplicatesAcrossSplits > 0) {
    const [first] = report.duplicatesAcrossSplits;
    process.stderr.write(
      `segpipe convert: warning: ${plural(counts.duplicatesAcrossSplits, 'image')} in validation ${counts.duplicatesAcrossSplits === 1 ? 'is' : 'are'} byte for byte in train too (e.g. ${first.validation[0]} and ${first.train[0]}): validation scores count them as unseen; the list is duplicatesAcrossSplits in ${output.join(options.out, REPORT_FILE)}\n`,
    );
  }
  if (counts.converted > 0 && (counts.train === 0 || counts.validation === 0)) {
    const empty = counts.train === 0 ? 'train' : 'validation';
    process.stderr.write(
      `segpipe convert: warning: the ${empty} channel is empty (${plural(counts.converted, 'item')} at --validation-fraction ${report.validationFraction}); the algorithm needs both: add items or change --validation-fraction\n`,
    );
  }
  return report;
}

/** The S3 store for what an export names on S3, made only when one is read (a folder export needs none). */
async function lazyS3Sources(s3Store: () => Promise<ObjectStore>): Promise<ObjectStore> {
  let store: Promise<ObjectStore> | undefined;
  const get = () => (store ??= s3Store());
  const lazy: ObjectStore = {
    readStart: async (...args) => (await get()).readStart(...args),
    read: async (...args) => (await get()).read(...args),
    readRange: async (...args) => (await get()).readRange(...args),
    readStream: async (...args) => (await get()).readStream(...args),
    readRangeStream: async (...args) => (await get()).readRangeStream(...args),
    listUnder: async (...args) => (await get()).listUnder(...args),
    remove: async (...args) => (await get()).remove(...args),
    write: async (...args) => (await get()).write(...args),
    copyFrom: async (...args) => (await get()).copyFrom(...args),
    join: (location, ...segments) => [location.replace(/\/+$/, ''), ...segments].join('/'),
  };
  return lazy;
}

function firstReasons(report: ConversionReport): string {
  return report.skipped
    .slice(0, 5)
    .map((s) => `  line ${s.line}: ${s.source ?? '(no source)'}: ${s.reason}`)
    .join('\n');
}
