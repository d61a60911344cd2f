import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CONFIG_DEFAULTS } from '../../lambda/common/defaults';
import { plural } from '../../lambda/common/plural';
import { FolderObjectStore } from '../../lambda/convert/stores/folder-object-store';
import { isS3Uri, type ObjectStore } from '../../lambda/convert/stores/object-store';
import { evaluateVariants, sageMakerInvoker, validationChannel } from '../../lambda/evaluation/evaluate';
import { evaluationReportHtml, metricsDocument, variantLabel } from '../../lambda/evaluation/report-html';
import { checkRegionAndCredentials } from '../aws-client-check';
import { runtimeClientFor } from '../predict/runtime-client';
import { parseClassList } from './convert';

interface EvaluateOptions {
  endpoint: string;
  variant?: string;
  channels: string;
  out: string;
  classes?: string[];
  maxImages: number;
  region?: string;
  endpointUrl?: string;
  s3EndpointUrl?: string;
}

function parseMaxImages(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000');
  return n;
}

/** The channels' store: a folder, or S3 (or an S3-compatible server) for an `s3://` location. */
async function channelsStore(options: EvaluateOptions): Promise<ObjectStore> {
  if (!isS3Uri(options.channels)) return new FolderObjectStore();
  const { S3ObjectStore, createS3Client } = await import('../../lambda/convert/stores/s3-object-store');
  const client = createS3Client({
    region: options.region ?? (options.s3EndpointUrl ? (process.env.AWS_REGION ?? 'us-east-1') : undefined),
    endpoint: options.s3EndpointUrl,
  });
  await checkRegionAndCredentials(client, options.s3EndpointUrl);
  return new S3ObjectStore(client);
}

/** The folder that holds `location` (a path or an `s3://` prefix). */
function parentOf(location: string): string {
  const trimmed = location.replace(/\/+$/, '');
  return isS3Uri(trimmed) ? trimmed.slice(0, trimmed.lastIndexOf('/')) : dirname(trimmed);
}

/**
 * Class names by index: `--classes` after the background, else a `report.json` naming them: segpipe
 * convert's, in the channels folder, or a run's, one level above its `channels/` (runs/<run-id>/,
 * a local run's data folder).
 */
async function classNames(store: ObjectStore, options: EvaluateOptions): Promise<string[]> {
  if (options.classes) return ['background', ...options.classes];
  const candidates = [store.join(options.channels, 'report.json'), store.join(parentOf(options.channels), 'report.json')];
  for (const candidate of candidates) {
    const report = await store.read(candidate).then(
      (b) => JSON.parse(b.toString('utf8')) as { classes?: unknown },
      () => undefined,
    );
    if (Array.isArray(report?.classes) && report.classes.length > 0) return report.classes.map(String);
  }
  throw new Error(
    `no --classes, and neither ${candidates.join(' nor ')} (segpipe convert writes one in the channels, a run one level above them) names the classes: pass --classes <names of indices 1, 2, ...>`,
  );
}

/** Refuses, in one line, channels that are not there or hold no validation images. */
async function checkChannels(store: ObjectStore, channels: string): Promise<void> {
  if ((await store.listUnder(store.join(channels, 'validation'))).length > 0) return;
  const anything = (await store.listUnder(channels)).length > 0;
  throw new Error(
    anything
      ? `--channels ${channels} holds no validation/ images: give the folder holding train/, validation/ and their _annotation/ folders`
      : `--channels ${channels}: no such folder, or it is empty`,
  );
}

/** `segpipe evaluate`: an endpoint (or one of its variants) scored on a channels folder's validation split, as a report. */
export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description(
      'score an endpoint (or one variant of it) on the validation images of a channels folder: metrics.json and a self-contained report.html',
    )
    .requiredOption('--endpoint <name>', '(required) the SageMaker endpoint')
    .requiredOption(
      '--channels <dir|s3://...>',
      "(required) the algorithm's channels, as segpipe convert or a run writes them (runs/<run-id>/channels/)",
    )
    .requiredOption('--out <dir>', '(required) folder for metrics.json and report.html')
    .option(
      '--variant <name>',
      "send every request to this production variant (TargetVariant); default: where the endpoint's weights route it",
    )
    .option(
      '--classes <names>',
      'class names of indices 1, 2, ..., comma-separated (default: the classes of report.json beside the channels)',
      parseClassList,
    )
    .option(
      '--max-images <n>',
      'most validation images sent, chosen by a hash of their names',
      parseMaxImages,
      CONFIG_DEFAULTS.evaluation.maxImages,
    )
    .option('--region <region>', "the endpoint's region (default: from the AWS configuration)")
    .option('--endpoint-url <url>', "the SageMaker runtime URL, e.g. the local run's")
    .option('--s3-endpoint-url <url>', "an S3-compatible server holding s3:// channels, e.g. the local run's")
    .addHelpText(
      'after',
      `
Examples:
  # the deployed endpoint on a run's channels (the classes from the run's report.json above them)
  npx segpipe evaluate --endpoint segpipe-endpoint --region eu-west-1 --channels s3://<artifacts bucket>/runs/<run-id>/channels/ --out evaluation/
  # one variant of it, on channels segpipe convert wrote on this machine (its report.json names the classes)
  npx segpipe evaluate --endpoint segpipe-endpoint --variant <variant> --channels ./channels --out evaluation/
  # the local run's endpoint (npx segpipe local --keep prints its URL) on its channels
  npx segpipe evaluate --endpoint segpipe-endpoint --endpoint-url http://127.0.0.1:<port> --channels <data-dir>/channels --out evaluation/`,
    )
    .action(async (options: EvaluateOptions) => {
      const client = runtimeClientFor(options);
      try {
        await checkRegionAndCredentials(client, options.endpointUrl);
        const store = await channelsStore(options);
        await checkChannels(store, options.channels);
        const classes = await classNames(store, options);
        const source = validationChannel(store, options.channels);
        // cli-progress takes 30 ms to load: only a terminal shows the bar.
        const bar = process.stderr.isTTY
          ? new (await import('cli-progress')).SingleBar({
              format: 'evaluating [{bar}] {value}/{total} images, {eta}s left',
              etaBuffer: 20,
              stream: process.stderr,
              hideCursor: true,
            })
          : undefined;
        bar?.start(1, 0);
        const result = await evaluateVariants({
          source,
          invoke: sageMakerInvoker(client, options.endpoint),
          numClasses: classes.length,
          maxImages: options.maxImages,
          variants: [{ variant: options.variant, role: 'model' }],
          onProgress:
            bar &&
            ((done, total) => {
              bar.setTotal(total);
              bar.update(done);
            }),
        }).finally(() => bar?.stop());
        const generatedAt = new Date().toISOString();
        const html = await evaluationReportHtml({
          title: `segpipe evaluate: ${options.endpoint}${options.variant ? `, variant ${options.variant}` : ''}`,
          endpoint: options.endpoint,
          classes,
          result,
          source,
          generatedAt,
        });
        mkdirSync(options.out, { recursive: true });
        writeFileSync(
          join(options.out, 'metrics.json'),
          `${JSON.stringify(metricsDocument({ endpoint: options.endpoint, classes, result, generatedAt }), null, 2)}\n`,
        );
        const reportPath = join(options.out, 'report.html');
        writeFileSync(reportPath, html);
        const [scores] = result.variants;
        process.stdout.write(
          `${variantLabel(scores)} of ${options.endpoint} on ${plural(result.images.length, 'validation image')}: mIoU ${scores.miou.toFixed(3)}, pixel accuracy ${(scores.pixelAccuracy * 100).toFixed(1)} %, latency p50 ${scores.latencyMs.p50.toFixed(0)} ms, p95 ${scores.latencyMs.p95.toFixed(0)} ms\n`,
        );
        process.stdout.write(`report: ${reportPath}\n`);
      } finally {
        client.destroy();
      }
    });
}
