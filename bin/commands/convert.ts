import { Command, InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import { ConversionReport, REPORT_FILE, convertGroundTruthManifest } from '../../lambda/convert/convert-manifest';
import { FolderObjectStore } from '../../lambda/convert/folder-object-store';
import { useSharpForConcurrentItems } from '../../lambda/convert/mask';
import { ObjectStore, isS3Uri } from '../../lambda/convert/object-store';

interface ConvertCommandOptions {
  manifest: string;
  out: string;
  localRoot?: string;
  validationFraction: number;
  seed: string;
  classes?: string[];
  labelAttribute?: string;
  concurrency: number;
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
    .description('convert a Ground Truth semantic-segmentation output into the four channels of the built-in algorithm')
    .requiredOption('--manifest <file|s3-uri>', 'the output.manifest of the labeling job')
    .requiredOption('--out <dir|s3-uri>', 'where train/, validation/, train_annotation/, validation_annotation/ and report.json go')
    .option('--local-root <dir>', 'read s3://BUCKET/KEY from DIR/BUCKET/KEY (the layout `aws s3 sync s3://BUCKET DIR/BUCKET` leaves)')
    .option('--validation-fraction <f>', 'share of items for validation', parseFraction, 0.2)
    .option('--seed <seed>', 'seed of the train/validation split', 'segpipe')
    .option('--classes <a,b,...>', 'class names in index order after the background (default: first-seen order)', parseClassList)
    .option('--label-attribute <name>', 'the label attribute to read (default: the -ref attribute of type groundtruth/semantic-segmentation)')
    .option('--concurrency <n>', 'items converted at once', parsePositiveInteger, 4)
    .option('--resize-masks', 'scale a mask whose size differs from its image (nearest-neighbour) instead of skipping it', false)
    .option('--max-pixels <n>', 'largest image or mask accepted, in pixels (default 67108864)', parsePositiveInteger)
    .option('--endpoint-url <url>', 'an S3-compatible endpoint instead of AWS')
    .option('--region <region>', 'AWS region of the buckets')
    .action(async (options: ConvertCommandOptions) => {
      const report = await runConvert(options);
      if (report.counts.converted === 0) {
        process.stderr.write(`segpipe convert: nothing converted (${report.counts.skipped} skipped); first reasons:\n${firstReasons(report)}\n`);
        process.exitCode = 1;
      }
    });
}

async function runConvert(options: ConvertCommandOptions): Promise<ConversionReport> {
  useSharpForConcurrentItems();
  let s3: ObjectStore | undefined;
  const s3Store = async (): Promise<ObjectStore> => {
    if (!s3) {
      const { S3ObjectStore, createS3Client } = await import('../../lambda/convert/s3-object-store');
      s3 = new S3ObjectStore(createS3Client({ region: options.region, endpoint: options.endpointUrl }));
    }
    return s3;
  };
  const local = new FolderObjectStore(options.localRoot);
  const readsS3 = (location: string) => isS3Uri(location) && options.localRoot === undefined;
  const stores = {
    manifest: readsS3(options.manifest) ? await s3Store() : local,
    sources: options.localRoot === undefined ? await s3Store() : local,
    output: isS3Uri(options.out) ? await s3Store() : new FolderObjectStore(),
  };

  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'converting [{bar}] {value}/{total} items, {eta}s left', etaBuffer: 50, stream: process.stderr, hideCursor: true })
    : undefined;
  bar?.start(1, 0);
  const started = performance.now();
  try {
    const report = await convertGroundTruthManifest({
      manifest: options.manifest,
      out: options.out,
      stores,
      validationFraction: options.validationFraction,
      seed: options.seed,
      classes: options.classes,
      labelAttribute: options.labelAttribute,
      concurrency: options.concurrency,
      resizeMasks: options.resizeMasks,
      maxPixels: options.maxPixels,
      onProgress: bar && ((p) => {
        bar.setTotal(Math.max(p.seen, 1));
        bar.update(p.done);
      }),
    });
    bar?.stop();
    const seconds = (performance.now() - started) / 1000;
    const { counts } = report;
    process.stdout.write(
      `segpipe convert: ${counts.converted} converted (${counts.train} train, ${counts.validation} validation), ${counts.skipped} skipped, ` +
        `${report.classes.length} classes (${report.classes.join(', ')}), ${counts.ignoredPixels} ignored pixels; ` +
        `${seconds.toFixed(1)} s, ${(counts.lines / seconds).toFixed(0)} items/s; report: ${stores.output.join(options.out, REPORT_FILE)}\n`,
    );
    return report;
  } catch (err) {
    bar?.stop();
    throw err;
  }
}

function firstReasons(report: ConversionReport): string {
  return report.skipped.slice(0, 5).map((s) => `  line ${s.line}: ${s.source ?? '(no source)'}: ${s.reason}`).join('\n');
}
