import { Command, Option } from 'commander';
import { ENDPOINT_CONCURRENCY } from '../../lambda/common/defaults';
import { FolderObjectStore } from '../../lambda/convert/stores/folder-object-store';
import { isS3Uri, type ObjectStore } from '../../lambda/convert/stores/object-store';
import { checkRegionAndCredentials } from '../aws-client-check';
import { runtimeClientFor } from '../predict/runtime-client';
import { type PrelabelFormat, prelabel } from '../prelabel/prelabel';
import { parseClassList, parsePositiveInteger } from './convert';

interface PrelabelCommandOptions {
  images: string;
  endpoint: string;
  format: PrelabelFormat;
  out: string;
  classes: string[];
  modelVersion?: string;
  imageUrlPrefix?: string;
  batch?: string;
  region?: string;
  endpointUrl?: string;
  s3EndpointUrl?: string;
  concurrency: number;
}

/** `segpipe prelabel`: a model's masks as pre-labels a labeling tool imports (Label Studio tasks, a CVAT annotations zip). */
export function prelabelCommand(): Command {
  return new Command('prelabel')
    .description(
      'pre-label images with an endpoint\'s masks: Label Studio tasks with predictions, or a CVAT "Segmentation mask 1.1" annotations zip',
    )
    .requiredOption('--images <dir|s3-uri>', '(required) a folder or s3://bucket/prefix/ of .jpg, .jpeg and .png images (read recursively)')
    .requiredOption('--endpoint <name>', '(required) the SageMaker endpoint (the stack output EndpointName)')
    .addOption(
      new Option('--format <format>', 'labelstudio: tasks with predictions; cvat: a Segmentation mask 1.1 zip')
        .choices(['labelstudio', 'cvat'])
        .default('labelstudio'),
    )
    .requiredOption(
      '--out <file|dir|s3-uri>',
      '(required) labelstudio: a .json file (for Import) or a folder/prefix (one task file each, for a source storage); cvat: a .zip',
    )
    .requiredOption(
      '--classes <names>',
      "(required) class names of indices 1, 2, ... (the labeling configuration's labels; the run report's classes)",
      parseClassList,
    )
    .option('--model-version <name>', "the predictions' model_version, which the Label Studio project selects (default: the endpoint name)")
    .option(
      '--image-url-prefix <prefix>',
      "labelstudio, local images: what data.image starts with before the image's path under --images, e.g. s3://bucket/images/batch/ or /data/local-files/?d=photos/",
    )
    .option('--batch <name>', 'labelstudio: the batch the tasks name in meta.batch, which segpipe convert --labelstudio-batch selects by')
    .option('--region <region>', "the endpoint's and buckets' region (default: from the AWS configuration)")
    .option('--endpoint-url <url>', "the SageMaker runtime URL, e.g. the local run's")
    .option('--s3-endpoint-url <url>', 'an S3-compatible endpoint instead of AWS S3')
    .option('--concurrency <n>', 'images sent to the endpoint at once', parsePositiveInteger, ENDPOINT_CONCURRENCY)
    .addHelpText(
      'after',
      `
Examples:
  # Label Studio tasks for Import, pre-labeled by the deployed endpoint
  npx segpipe prelabel --images ./turtles --image-url-prefix s3://my-inbox/images/turtles/ --endpoint segpipe-endpoint --region eu-west-1 --classes turtle,rock --out tasks.json
  # a CVAT annotations zip (Upload annotations > Segmentation mask 1.1) from the local run's endpoint
  npx segpipe prelabel --images ./turtles --endpoint segpipe-endpoint --endpoint-url http://127.0.0.1:<port> --classes turtle,rock --format cvat --out turtles-cvat.zip`,
    )
    .action(async (options: PrelabelCommandOptions) => {
      const runtime = runtimeClientFor(options);
      let s3: ObjectStore | undefined;
      try {
        await checkRegionAndCredentials(runtime);
        if (isS3Uri(options.images) || isS3Uri(options.out)) {
          const { S3ObjectStore, createS3Client } = await import('../../lambda/convert/stores/s3-object-store');
          const client = createS3Client({
            region: options.region ?? (options.s3EndpointUrl ? (process.env.AWS_REGION ?? 'us-east-1') : undefined),
            endpoint: options.s3EndpointUrl,
          });
          await checkRegionAndCredentials(client, options.s3EndpointUrl);
          s3 = new S3ObjectStore(client);
        }
        const summary = await prelabel(options, { local: new FolderObjectStore(), s3, runtime });
        for (const failure of summary.failures) process.stderr.write(`${failure.image}: ${failure.reason}\n`);
        const unnamed = Object.entries(summary.unnamedIndices);
        if (unnamed.length > 0)
          process.stderr.write(
            `the endpoint predicted class indices --classes does not name (${unnamed.map(([i, n]) => `${i} in ${n} images`).join(', ')}): left out\n`,
          );
        const where = summary.written.length === 1 ? summary.written[0] : `${summary.written.length} files under ${options.out}`;
        process.stdout.write(`${summary.predicted} of ${summary.images} images pre-labeled by ${options.endpoint} → ${where}\n`);
        if (summary.failures.length > 0)
          throw new Error(
            `the endpoint failed on ${summary.failures.length} of ${summary.images} images${options.format === 'labelstudio' ? ' (their tasks are written without predictions)' : ' (left out of the zip)'}`,
          );
      } finally {
        runtime.destroy();
      }
    });
}
