import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import sharp from 'sharp';
import { predictSegmentation } from '../bin/predict/predict';
import { runtimeClientFor } from '../bin/predict/runtime-client';
import { type CleanupResult, cleanUpStackResources } from '../lambda/cleanup/endpoint-cleanup';
import { plural } from '../lambda/common/plural';
import { splitFor } from '../lambda/convert/naming';
import { S3ObjectStore } from '../lambda/convert/stores/s3-object-store';
import { readChannelManifest } from '../lambda/workflow/channel-manifest';
import { CHANNEL_NAMES, runLayout, s3Uri } from '../lambda/workflow/layout';
import { endpointName, resourcePrefix } from '../lambda/workflow/names';
import type { RunReport } from '../lambda/workflow/run-report';
import { type ContactSheetRow, contactSheetPng } from './contact-sheet';
import { startEmbeddedS3Server } from './embedded-s3-server';
import { objectCreatedEvent } from './lambda-invocation';
import { type ImportUpload, importedSources, importKey, importUpload } from './local-import';
import { LocalSageMaker } from './local-sagemaker';
import { LocalStepFunctions } from './local-step-functions';
import { ARTIFACTS_BUCKET, INBOX_BUCKET, type LocalWorkflow, prepareLocalWorkflow } from './local-workflow';
import { simulateAnnotator } from './simulated-annotator';
import type { TrueLabels } from './simulated-workforce';
import { checkSnsPublish } from './sns-stand-in';
import { renderSyntheticScene, sceneToJpeg } from './synthetic-scenes';
import { LOCAL_ACCOUNT, LOCAL_REGION, type TaskHandler, type WorkflowOutcome } from './workflow-runner';

export const LOCAL_CLASSES = ['turtle', 'rock'];
const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:segpipe-local`;
/**
 * Shortened for the local run, and said so: the Wait states, the clean-up's idle time. The batch's
 * quiet window is not: the run drops `_START` after its last upload, so however slowly a busy machine
 * uploads, the batch is one run.
 */
export const LOCAL_TIMINGS = { waitSeconds: 1, idleSeconds: 5 };
/**
 * The PyTorch trainer's settings in a local run: the lighter LR-ASPP network from scratch (no weights can
 * be downloaded offline), at a learning rate that lets it learn from a few dozen images on a CPU.
 */
export const LOCAL_PYTORCH = {
  model: 'lraspp',
  backbone: 'mobilenet_v3_large',
  pretrained: false,
  batchSize: 8,
  learningRate: 0.01,
} as const;
/** Its epochs unless --epochs says otherwise: fewer than the configuration's 30, each taking seconds on a CPU instead of the stand-in's milliseconds. */
export const LOCAL_PYTORCH_EPOCHS = 15;

/** The local run's split and channel check: a quarter to validation, at least 2 train images. */
export const LOCAL_SPLIT = { validationFraction: 0.25, minTrainSamples: 2 };
/** Most images of a local run: a bound on one machine's time, not on the pipeline (a run on AWS takes any number). */
export const MAX_LOCAL_IMAGES = 2000;

/**
 * Fewest images a local run takes: the last one is left unlabeled (a failed labeling item), and the
 * rest must give the validation channel one image and the train channel `minTrainSamples`.
 */
export const MIN_LOCAL_IMAGES = LOCAL_SPLIT.minTrainSamples + 2;

/** Why a local run of `images` images cannot complete, or undefined when it can. */
export function localImageCountProblem(images: number): string | undefined {
  if (!Number.isInteger(images) || images < 1) return 'expected a positive whole number';
  if (images < MIN_LOCAL_IMAGES) {
    return `a local run needs at least ${MIN_LOCAL_IMAGES} images: one is left unlabeled (a failed labeling item), and the rest must fill the validation channel (1) and the train channel (training.minSamples ${LOCAL_SPLIT.minTrainSamples})`;
  }
  if (images > MAX_LOCAL_IMAGES) {
    return `a local run takes at most ${MAX_LOCAL_IMAGES} images: they are drawn, uploaded, labeled and converted on this one machine (2,000 take about 8 minutes on 2 cores); use --images ${MAX_LOCAL_IMAGES} or fewer, and run again with the same --data-dir for another batch`;
  }
  return undefined;
}

/** The name of the next local batch in a data folder: numbered, never timed, so that a run is reproducible. */
export function nextLocalBatchName(existingBatches: readonly string[]): string {
  const numbers = existingBatches
    .map((b) => /^local-demo-(\d+)$/.exec(b)?.[1])
    .filter((n) => n !== undefined)
    .map(Number);
  return `local-demo-${Math.max(0, ...numbers) + 1}`;
}

/**
 * The seed of the scene of a local batch's i-th image: drawn from the batch's name, so that every
 * batch of a data folder has scenes of its own (a second batch drawing the first one's scenes again
 * would put copies of its validation images in the train channel), and a batch drawn again is the same.
 */
export function localSceneSeed(batch: string, index: number): number {
  return createHash('sha256').update(`${batch}\n${index}`).digest().readUInt32BE(0);
}

/** The inbox key of the local batch's i-th image. */
function localImageKey(batch: string, index: number): string {
  return `images/${batch}/photo-${String(index).padStart(3, '0')}.jpg`;
}

/**
 * The split seed for a local batch: the configuration's default (`segpipe`), or else the first of
 * `segpipe-2`, `segpipe-3`, ... under which the batch's labeled images give the validation channel an
 * image and the train channel `minTrainSamples`. The split hashes the seed and each source, so a small
 * batch can draw no validation image; the seed depends only on the batch's image names, so a run
 * with the same images splits the same way.
 */
export function localSplitSeed(labeledSources: readonly string[]): string {
  for (let attempt = 1; ; attempt++) {
    const seed = attempt === 1 ? 'segpipe' : `segpipe-${attempt}`;
    const validation = labeledSources.filter((source) => splitFor(source, seed, LOCAL_SPLIT.validationFraction) === 'validation').length;
    if (validation >= 1 && labeledSources.length - validation >= LOCAL_SPLIT.minTrainSamples) return seed;
  }
}

export interface LocalRunOptions {
  /** Images in the synthetic batch, from {@link MIN_LOCAL_IMAGES} to the per-run maximum. @default 40 */
  readonly images?: number;
  /** Where everything goes. @default a fresh folder under the system's temporary folder */
  readonly dataDir?: string;
  /** Leave the S3 server and the endpoint running; the caller closes them. @default false */
  readonly keep?: boolean;
  /** @default 192 */
  readonly imageWidth?: number;
  /** @default 144 */
  readonly imageHeight?: number;
  /**
   * The batch's name (its images' names, and so their train/validation split, derive from it).
   * @default `local-demo-<n>`, n one more than the data folder's last: each run a batch of its own
   */
  readonly batch?: string;
  /**
   * A labeling export (a file, a folder or a zip) to run from instead of synthetic photos: dropped
   * under `labeled/<batch>/` as on AWS, where it skips labeling (`images` is then not used).
   * @default - a synthetic batch, labeled by the simulated workforce
   */
  readonly import?: string;
  /** Training epochs of the local model. @default 30 (the configuration's default) */
  readonly epochs?: number;
  /**
   * `pytorch`: train the real PyTorch script (`training.trainer` "pytorch") with a local Python's torch, and
   * serve it with its own inference code, instead of the stand-in's small model. @default 'builtin'
   */
  readonly trainer?: 'builtin' | 'pytorch';
  /**
   * Who labels: the simulated Ground Truth workforce, or a simulated person in Label Studio who
   * answers the run's tasks through the target storage. @default 'groundtruth'
   */
  readonly labeling?: 'groundtruth' | 'labelstudio';
  readonly log?: (line: string) => void;
}

export interface LocalRunResult {
  readonly dataDir: string;
  readonly status: WorkflowOutcome['status'];
  readonly runId?: string;
  readonly report?: RunReport;
  readonly reportPath?: string;
  /** The evaluation's `report.html`, copied out of the local S3. */
  readonly evaluationReportPath?: string;
  readonly overlayPath?: string;
  /** The run's four channels as plain files. */
  readonly channelsDir?: string;
  readonly endpointName: string;
  /** The local SageMaker runtime, while it serves (`keep`). */
  readonly endpointUrl?: string;
  readonly predictCommand?: string;
  /** With `keep`: commands to look at the run's S3 data and convert its labeling output again, with the environment they need. */
  readonly s3Commands?: string[];
  readonly s3Endpoint?: string;
  readonly cleanup?: CleanupResult;
  /** With `labeling: 'labelstudio'`: the tasks the run wrote, and how many carry the serving model's pre-labels. */
  readonly labelStudioTasks?: { readonly tasks: number; readonly predicted: number; readonly prefix: string };
  close(): Promise<void>;
}

const objectCreated = (key: string) => objectCreatedEvent(INBOX_BUCKET, key);

/**
 * The whole workflow on this machine, as a newcomer first sees segpipe: an embedded S3 server, a
 * synthetic batch uploaded to the inbox as a user would, the start Lambda handed the upload events,
 * and the state machine that `cdk deploy` ships executed locally with its real Lambda handlers. The
 * SageMaker services are local stand-ins (see `LocalSageMaker`); so are Service Quotas, SNS and
 * EventBridge, which write to the console and `notifications.log`.
 */
export async function runLocally(options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const count = options.images ?? 40;
  const countProblem = options.import === undefined ? localImageCountProblem(count) : undefined;
  if (countProblem) throw new Error(`--images ${count}: ${countProblem}`);
  const upload = options.import === undefined ? undefined : await importUpload(options.import);
  const width = options.imageWidth ?? 192;
  const height = options.imageHeight ?? 144;
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), 'segpipe-local-')));
  mkdirSync(join(dataDir, 's3'), { recursive: true });
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  log(`segpipe local run: the state machine cdk deploy ships, executed on this machine, no AWS account. Data: ${dataDir}`);
  log(
    `Shortened for a local run: Wait states ${LOCAL_TIMINGS.waitSeconds} s, endpoint idle time ${LOCAL_TIMINGS.idleSeconds} s${options.import === undefined ? '; the batch starts with the _START dropped after its last upload' : ''}.`,
  );

  const server = await startEmbeddedS3Server({ buckets: [INBOX_BUCKET, ARTIFACTS_BUCKET], directory: join(dataDir, 's3') });
  log(`LOCAL STAND-IN S3: an embedded S3-compatible server at ${server.endpoint} (objects under ${join(dataDir, 's3')})`);
  const store = new S3ObjectStore(server.client());
  // A batch of its own each time, so that a second run in the same --data-dir is a second batch:
  // its run trains on both (the dataset accumulates), as a user's second upload would.
  const batches = await Promise.all(
    ['images/', 'labeled/'].map(async (prefix) => {
      const listed = await store.client.send(new ListObjectsV2Command({ Bucket: INBOX_BUCKET, Prefix: prefix, Delimiter: '/' }));
      return (listed.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(prefix.length, -1));
    }),
  );
  const batch = options.batch ?? nextLocalBatchName(batches.flat());
  // The scenes are drawn again from their seeds when the workforce labels them, rather than held:
  // memory stays flat however many images the batch has. The last image gets no labels.
  const truthIndex = new Map(Array.from({ length: count - 1 }, (_, i) => [s3Uri(INBOX_BUCKET, localImageKey(batch, i)), i]));
  const truthOf = (source: string): TrueLabels | undefined => {
    const index = truthIndex.get(source);
    return index === undefined
      ? undefined
      : { width, height, classIndices: renderSyntheticScene(localSceneSeed(batch, index), width, height).classIndices };
  };
  // Kept in the data folder: the next run in it finds this run's endpoint serving, as its champion.
  const sagemaker = new LocalSageMaker({ store, truthOf, log, stateFile: join(dataDir, 'sagemaker.json') });
  const endpointUrl = await sagemaker.start();
  let stepFunctions: LocalStepFunctions | undefined;
  const close = async () => {
    await stepFunctions?.close();
    await sagemaker.close();
    store.client.destroy();
    await server.close();
  };

  // What SNS and EventBridge would carry, in the order they would carry it.
  const recordNotification = (kind: string, text: string) =>
    appendFileSync(join(dataDir, 'notifications.log'), `--- ${kind} (local stand-in) ${new Date().toISOString()}\n${text}\n`);
  try {
    const notify =
      (kind: string): TaskHandler =>
      async (input) => {
        const message = input as { Subject?: string; Message?: string; Entries?: { DetailType: string; Detail: unknown }[] };
        if (kind.startsWith('SNS')) checkSnsPublish(input);
        const detail = (d: unknown) => (typeof d === 'string' ? d : JSON.stringify(d));
        recordNotification(
          kind,
          message.Entries
            ? message.Entries.map((e) => `${e.DetailType}: ${detail(e.Detail)}`).join('\n')
            : `Subject: ${message.Subject}\n\n${message.Message}`,
        );
        return kind.startsWith('SNS') ? { MessageId: `local-${Date.now()}` } : { FailedEntryCount: 0, Entries: [{ EventId: 'local' }] };
      };
    // The SageMaker states are known once the workflow is synthesized (below), before any run starts.
    const tasks: Record<string, TaskHandler> = {
      'Check training quota': async () => {
        log('  LOCAL STAND-IN Service Quotas: not reachable without AWS; the training quota is taken as 1');
        return { message: 'local run: quota not checked' };
      },
      Notify: notify('SNS notification'),
      'Notify failure': notify('SNS notification'),
      // Sent only when an images batch labels in Label Studio (below, the annotator answers it).
      'Notify tasks ready': notify('SNS notification'),
      'Publish event': notify('EventBridge event'),
      'Publish failure event': notify('EventBridge event'),
    };
    let labelStudioTasks: LocalRunResult['labelStudioTasks'];
    if (options.labeling === 'labelstudio') {
      // The person in Label Studio, told by the notification: syncs the tasks, labels each one (the
      // image without labels is skipped), and the target storage's files are upload events.
      tasks['Notify tasks ready'] = async (input) => {
        const answer = await notify('SNS notification')(input);
        const prefix = /under (s3:\/\/\S+\/):/.exec((input as { Message: string }).Message)?.[1];
        if (!prefix) throw new Error('the tasks-ready notification names no tasks prefix');
        const files = await store.listUnder(prefix);
        const written = await simulateAnnotator({
          store,
          inboxBucket: INBOX_BUCKET,
          tasksPrefix: prefix,
          classes: LOCAL_CLASSES,
          truthOf,
          unknown: 'cancel',
        });
        const predicted = written.filter((w) => (w.task.predictions ?? []).length > 0).length;
        labelStudioTasks = { tasks: files.length, predicted, prefix };
        log(
          `  LOCAL STAND-IN Label Studio annotator: ${files.length} tasks under ${prefix}, ${predicted} pre-labeled by the serving model; ${written.length} annotation files written to s3://${INBOX_BUCKET}/labelstudio/annotations/ (the image without labels skipped)`,
        );
        for (const { key } of written) await workflow!.startRun(objectCreated(key));
        return answer;
      };
    }
    // An import is dropped now, its event handed over once the workflow is ready: its split seed is
    // drawn from the export's items, read as the workflow's conversion will read them.
    const imported = upload && (await dropImport(store, batch, upload, log));
    const config = imported
      ? {
          // As a default deploy: no Ground Truth workforce; an import skips labeling.
          workforce: { type: 'none' },
          split: { validationFraction: LOCAL_SPLIT.validationFraction, seed: localSplitSeed(imported.sources) },
          training: { minSamples: LOCAL_SPLIT.minTrainSamples, ...(options.epochs ? { epochs: options.epochs } : {}) },
        }
      : {
          labelClasses: LOCAL_CLASSES,
          ...(options.labeling === 'labelstudio'
            ? { labeling: { tool: 'labelstudio', labelStudio: { pollMinutes: 1 } } }
            : {
                workforce: {
                  type: 'private',
                  workteamArn: `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:workteam/private-crowd/local-stand-in`,
                },
              }),
          split: { validationFraction: LOCAL_SPLIT.validationFraction, seed: localSplitSeed([...truthIndex.keys()]) },
          training: {
            minSamples: LOCAL_SPLIT.minTrainSamples,
            ...(options.epochs || options.trainer === 'pytorch' ? { epochs: options.epochs ?? LOCAL_PYTORCH_EPOCHS } : {}),
            ...(options.trainer === 'pytorch'
              ? { trainer: 'pytorch', pytorch: { ...LOCAL_PYTORCH, imageSize: Math.max(width, height) } }
              : {}),
          },
        };
    log(`${elapsed()}  synthesizing the stack (config: ${JSON.stringify(config)})`);
    // The start Lambda calls StartExecution on the local stand-in, which runs the local workflow.
    let workflow: LocalWorkflow | undefined;
    stepFunctions = new LocalStepFunctions(STATE_MACHINE_ARN, (executionName, input) => {
      log(`${elapsed()}  execution ${executionName} started with ${JSON.stringify(input)}`);
      let previous = '';
      return workflow!.run({
        input,
        executionName,
        tasks,
        waitSeconds: LOCAL_TIMINGS.waitSeconds,
        onState: (state) => {
          if (state !== previous) log(`${elapsed()}  ▸ ${state}`);
          previous = state;
        },
      });
    });
    workflow = await prepareLocalWorkflow(config, server, {
      settings: { stateMachineArn: STATE_MACHINE_ARN },
      // The evaluation calls the local endpoint; there is no CloudWatch to read training curves from.
      environment: {
        SEGPIPE_SFN_ENDPOINT: await stepFunctions.listen(),
        SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT: endpointUrl,
        SEGPIPE_NO_CLOUDWATCH: '1',
      },
    });
    Object.assign(tasks, sagemaker.tasks(workflow.definition));
    const { startRun } = workflow;

    if (imported) {
      await startRun(objectCreated(imported.key));
    } else {
      // The batch, uploaded as `aws s3 sync` would, each upload's event handed to the start Lambda.
      log(
        `${elapsed()}  uploading ${count} synthetic photos of turtles and rocks to s3://${INBOX_BUCKET}/images/${batch}/; the last one gets no labels (a failed labeling item)`,
      );
      mkdirSync(join(dataDir, 'samples'), { recursive: true });
      for (let i = 0; i < count; i++) {
        const scene = renderSyntheticScene(localSceneSeed(batch, i), width, height);
        const key = localImageKey(batch, i);
        const jpeg = await sceneToJpeg(scene);
        if (i < 3) writeFileSync(join(dataDir, 'samples', `photo-${i}.jpg`), jpeg);
        await new Upload({
          client: store.client,
          params: { Bucket: INBOX_BUCKET, Key: key, Body: jpeg, ContentType: 'image/jpeg' },
        }).done();
        await startRun(objectCreated(key));
      }
      // Empty, as `touch _START` makes it.
      await new Upload({
        client: store.client,
        params: { Bucket: INBOX_BUCKET, Key: `images/${batch}/_START`, Body: Buffer.alloc(0) },
      }).done();
      await startRun(objectCreated(`images/${batch}/_START`));
    }

    const runs = await Promise.all([...stepFunctions.executions.entries()].map(async ([name, e]) => ({ name, outcome: await e.outcome })));
    const run = runs.find((r) => !r.outcome.path.includes('Nothing new'));
    if (!run)
      throw new Error(
        `no run took the batch ${batch}: ${runs.length ? 'every execution found nothing new' : 'the start Lambda started no execution'}`,
      );
    log(
      `${elapsed()}  execution ${run.name} ${run.outcome.status}${run.outcome.error ? `: ${run.outcome.error}: ${run.outcome.cause}` : ''}`,
    );

    const runId = run.name;
    const reportUri = s3Uri(ARTIFACTS_BUCKET, runLayout(runId).report);
    const report = JSON.parse((await store.read(reportUri)).toString('utf8')) as RunReport;
    const reportPath = join(dataDir, 'report.json');
    writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    const endpoint = report.endpoint ?? endpointName(resourcePrefix(workflow.stack.stackName));
    const deployed = report.status === 'deployed';
    // The run's classes after the background: the export's, for an import.
    const classes = report.classes?.slice(1) ?? LOCAL_CLASSES;

    // The evaluation's report and metrics as plain files, to open in a browser.
    let evaluationReportPath: string | undefined;
    if (report.evaluation) {
      mkdirSync(join(dataDir, 'evaluation'), { recursive: true });
      evaluationReportPath = join(dataDir, 'evaluation', 'report.html');
      writeFileSync(evaluationReportPath, await store.read(report.evaluation.reportUri));
      writeFileSync(join(dataDir, 'evaluation', 'metrics.json'), await store.read(report.evaluation.metricsUri));
    }

    // The channels as plain files, as a training job finds them under /opt/ml/input/data/<channel>/.
    const channelsDir = join(dataDir, 'channels');
    for (const channel of CHANNEL_NAMES) {
      mkdirSync(join(channelsDir, channel), { recursive: true });
      const manifest = await readChannelManifest(store, s3Uri(ARTIFACTS_BUCKET, runLayout(runId).channelManifest(channel))).catch(
        () => undefined,
      );
      for (const key of manifest?.keys ?? []) {
        writeFileSync(join(channelsDir, channel, key.split('/').pop()!), await store.read(`${manifest!.prefix}${key}`));
      }
    }

    // The overlays, from the channel files just written: the validation images and their true masks.
    const overlayPath = join(dataDir, 'validation-overlays.png');
    const client = runtimeClientFor({ endpointUrl });
    const validation = readdirSync(join(channelsDir, 'validation')).sort();
    const rows: ContactSheetRow[] = [];
    for (const file of validation.slice(0, 6)) {
      const name = file.replace(/\.jpe?g$/i, '');
      const image = readFileSync(join(channelsDir, 'validation', file));
      const rgb = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const mask = await sharp(join(channelsDir, 'validation_annotation', `${name}.png`))
        .extractChannel(0)
        .raw()
        .toBuffer();
      const predicted = deployed ? (await predictSegmentation(client, endpoint, image, classes)).mask : undefined;
      rows.push({ name, rgb: rgb.data, width: rgb.info.width, height: rgb.info.height, truth: new Uint8Array(mask), predicted });
    }
    client.destroy();
    const miou = report.metrics?.['validation:mIOU'];
    if (rows.length > 0) {
      writeFileSync(
        overlayPath,
        await contactSheetPng(
          rows,
          ['background', ...classes],
          `segpipe local run: ${rows.length} of ${plural(validation.length, 'validation image')}${miou !== undefined ? `, validation mIOU ${miou.toFixed(3)}` : ''}`,
        ),
      );
    }

    const summary = () => {
      log('');
      log(`Run ${runId}: ${report.status}`);
      log(`  report: ${reportPath} (in S3: ${reportUri})`);
      if (report.metrics)
        log(
          `  validation:mIOU ${report.metrics['validation:mIOU']?.toFixed(3)}, validation:pixel_accuracy ${report.metrics['validation:pixel_accuracy']?.toFixed(3)} (gate: ${report.metrics.minimumMiou})`,
        );
      if (report.evaluation)
        log(`  evaluation on the endpoint: ${report.evaluation.promote ? 'promoted' : 'not promoted'}: ${report.evaluation.reason}`);
      if (evaluationReportPath) log(`  evaluation report: ${evaluationReportPath} (in S3: ${report.evaluation!.reportUri})`);
      log(rows.length > 0 ? `  overlays: ${overlayPath}` : '  overlays: none, the run made no validation channel (see the report)');
      log(`  channels: ${channelsDir}/{${CHANNEL_NAMES.join(',')}}/`);
      log(`  notifications: ${join(dataDir, 'notifications.log')}`);
    };
    const sample = imported ? validation.map((file) => join(channelsDir, 'validation', file))[0] : join(dataDir, 'samples', 'photo-0.jpg');
    const predictCommand =
      deployed && sample
        ? `npx segpipe predict --endpoint ${endpoint} --endpoint-url ${endpointUrl} --classes ${classes.join(',')} --out ${join(dataDir, 'predictions')} ${sample}`
        : undefined;
    const result = {
      labelStudioTasks,
      dataDir,
      status: run.outcome.status,
      runId,
      report,
      reportPath,
      evaluationReportPath,
      overlayPath: rows.length > 0 ? overlayPath : undefined,
      channelsDir,
      endpointName: endpoint,
      s3Endpoint: server.endpoint,
    };
    if (options.keep) {
      summary();
      // The SDK and the AWS CLI refuse to send a request without credentials, though the local S3
      // takes any: dummy values in the environment, and the region the local run uses.
      const environment = 'AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local';
      const s3Options = `--endpoint-url ${server.endpoint} --region ${LOCAL_REGION}`;
      const s3Commands = [`${environment} aws s3 ls s3://${ARTIFACTS_BUCKET}/runs/${runId}/ --recursive ${s3Options}`];
      if (report.labelingJob) {
        const labeled = s3Uri(ARTIFACTS_BUCKET, `${runLayout(runId).labelingOutput}${report.labelingJob}/manifests/output/output.manifest`);
        s3Commands.push(
          `${environment} npx segpipe convert --manifest ${labeled} --out ${join(dataDir, 'converted')} --classes ${classes.join(',')} ${s3Options}`,
        );
      }
      log('');
      log(
        `The S3 server (${server.endpoint}) and the endpoint keep serving until Ctrl-C. The local S3 needs no AWS account and takes any access keys; the commands below set dummy ones.`,
      );
      if (predictCommand) log(`Try: ${predictCommand}`);
      for (const command of s3Commands) log(`     ${command}`);
      return { ...result, endpointUrl, predictCommand, s3Commands, close };
    }

    // Nobody calls the endpoint now: after the (shortened) idle time the clean-up would delete it. It
    // sweeps as a dry run, so that the next run in this data folder meets this endpoint as its champion.
    log(
      `${elapsed()}  waiting ${LOCAL_TIMINGS.idleSeconds} s (the local idle time), then the clean-up sweeps, as its schedule would, as a dry run: the endpoint stays for the next run in ${dataDir}, which evaluates its model against this one`,
    );
    await new Promise((done) => setTimeout(done, (LOCAL_TIMINGS.idleSeconds + 1) * 1000));
    const stackName = workflow.stack.stackName;
    const cleanup = await cleanUpStackResources(
      { sagemaker: sagemaker.sagemakerClient(), cloudwatch: sagemaker.cloudwatchClient() },
      {
        stackName,
        resourcePrefix: resourcePrefix(stackName),
        idleMinutes: LOCAL_TIMINGS.idleSeconds / 60,
        timeToLiveHours: 0,
        keepModels: 1,
        dryRun: true,
        graceMinutes: 0,
      },
    );
    for (const d of cleanup.deleted) log(`  clean-up would delete ${d.kind} ${d.name}: ${d.reason}`);
    for (const d of cleanup.kept) log(`  clean-up kept ${d.kind} ${d.name}: ${d.reason}`);
    await close();
    log(`${elapsed()}  done`);
    summary();
    return { ...result, cleanup, close: async () => undefined };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Drops an export under `labeled/<batch>/` as `aws s3 cp` would, and reads its labeled items back as
 * the workflow's conversion will. Too few of them for both channels is said now, not after a run.
 */
async function dropImport(
  store: S3ObjectStore,
  batch: string,
  upload: ImportUpload,
  log: (line: string) => void,
): Promise<{ key: string; sources: string[] }> {
  const key = importKey(batch, upload.name);
  await new Upload({
    client: store.client,
    params: { Bucket: INBOX_BUCKET, Key: key, Body: upload.body, ContentType: 'application/octet-stream' },
  }).done();
  const { format, sources } = await importedSources(store, s3Uri(INBOX_BUCKET, key));
  log(
    `  dropped ${upload.made} as s3://${INBOX_BUCKET}/${key} (read as ${format}: ${sources.length} labeled ${sources.length === 1 ? 'item' : 'items'}); an export under labeled/<batch>/ skips labeling`,
  );
  const needed = LOCAL_SPLIT.minTrainSamples + 1;
  if (sources.length < needed)
    throw new Error(
      `--import: the export holds ${sources.length} labeled ${sources.length === 1 ? 'item' : 'items'}; a local run needs at least ${needed} (the validation channel 1, the train channel ${LOCAL_SPLIT.minTrainSamples})`,
    );
  return { key, sources };
}
