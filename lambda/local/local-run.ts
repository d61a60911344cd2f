import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import sharp from 'sharp';
import { CleanupResult, cleanUpStackResources } from '../cleanup/endpoint-cleanup';
import { S3ObjectStore } from '../convert/s3-object-store';
import { runtimeClientFor } from '../predict/runtime-client';
import { predictSegmentation } from '../predict/predict';
import type { ObjectCreatedEvent } from '../handlers/start-run';
import { RunReport } from '../workflow/run-report';
import { CHANNEL_NAMES, runLayout, s3Uri } from '../workflow/layout';
import { endpointName, resourcePrefix } from '../workflow/names';
import { contactSheetPng, ContactSheetRow } from './contact-sheet';
import { startEmbeddedS3Server } from './embedded-s3-server';
import { LocalSageMaker } from './local-sagemaker';
import { LocalStepFunctions } from './local-step-functions';
import { ARTIFACTS_BUCKET, INBOX_BUCKET, LocalWorkflow, prepareLocalWorkflow } from './local-workflow';
import { TrueLabels } from './simulated-workforce';
import { renderSyntheticScene, sceneToJpeg } from './synthetic-scenes';
import { LOCAL_ACCOUNT, LOCAL_REGION, TaskHandler, WorkflowOutcome } from './workflow-runner';

export const LOCAL_CLASSES = ['turtle', 'rock'];
const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:segpipe-local`;
/** Shortened for the local run, and said so: the quiet window, the Wait states, the clean-up's idle time. */
export const LOCAL_TIMINGS = { quietSeconds: 3, waitSeconds: 1, idleSeconds: 5 };

export interface LocalRunOptions {
  /** Images in the synthetic batch. @default 40 */
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
   * @default `local-demo-<UTC time>`: each run in a data folder is a batch of its own
   */
  readonly batch?: string;
  /** Training epochs of the local model. @default 30 (the configuration's default) */
  readonly epochs?: number;
  readonly log?: (line: string) => void;
}

export interface LocalRunResult {
  readonly dataDir: string;
  readonly status: WorkflowOutcome['status'];
  readonly runId?: string;
  readonly report?: RunReport;
  readonly reportPath?: string;
  readonly overlayPath?: string;
  /** The run's four channels as plain files. */
  readonly channelsDir?: string;
  readonly endpointName: string;
  /** The local SageMaker runtime, while it serves (`keep`). */
  readonly endpointUrl?: string;
  readonly predictCommand?: string;
  readonly s3Endpoint?: string;
  readonly cleanup?: CleanupResult;
  close(): Promise<void>;
}

/** S3 "Object Created" as EventBridge delivers it to the start Lambda. */
function objectCreated(key: string): ObjectCreatedEvent {
  return {
    version: '0', id: `local-${key}`, 'detail-type': 'Object Created', source: 'aws.s3', account: LOCAL_ACCOUNT, time: new Date().toISOString(), region: LOCAL_REGION,
    resources: [`arn:aws:s3:::${INBOX_BUCKET}`],
    detail: { version: '0', bucket: { name: INBOX_BUCKET }, object: { key, size: 1, etag: 'local', sequencer: '0' }, 'request-id': 'local', requester: LOCAL_ACCOUNT, reason: 'PutObject' },
  } as ObjectCreatedEvent;
}

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
  const width = options.imageWidth ?? 192;
  const height = options.imageHeight ?? 144;
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), 'segpipe-local-')));
  mkdirSync(join(dataDir, 's3'), { recursive: true });
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  log(`segpipe local run: the state machine cdk deploy ships, executed on this machine, no AWS account. Data: ${dataDir}`);
  log(`Shortened for a local run: batch quiet window ${LOCAL_TIMINGS.quietSeconds} s, Wait states ${LOCAL_TIMINGS.waitSeconds} s, endpoint idle time ${LOCAL_TIMINGS.idleSeconds} s.`);

  const server = await startEmbeddedS3Server({ buckets: [INBOX_BUCKET, ARTIFACTS_BUCKET], directory: join(dataDir, 's3') });
  log(`LOCAL STAND-IN S3: an embedded S3-compatible server at ${server.endpoint} (objects under ${join(dataDir, 's3')})`);
  const store = new S3ObjectStore(server.client());
  const truth = new Map<string, TrueLabels>();
  const sagemaker = new LocalSageMaker({ store, truthOf: (source) => truth.get(source), log });
  const endpointUrl = await sagemaker.start();
  let stepFunctions: LocalStepFunctions | undefined;
  const close = async () => {
    await stepFunctions?.close();
    await sagemaker.close();
    store.client.destroy();
    await server.close();
  };

  try {
    const notify = (kind: string): TaskHandler => async (input) => {
      const message = input as { Subject?: string; Message?: string; Entries?: { DetailType: string; Detail: unknown }[] };
      const detail = (d: unknown) => (typeof d === 'string' ? d : JSON.stringify(d));
      const text = message.Entries ? message.Entries.map((e) => `${e.DetailType}: ${detail(e.Detail)}`).join('\n') : `Subject: ${message.Subject}\n\n${message.Message}`;
      appendFileSync(join(dataDir, 'notifications.log'), `--- ${kind} (local stand-in) ${new Date().toISOString()}\n${text}\n`);
      return kind.startsWith('SNS') ? { MessageId: `local-${Date.now()}` } : { FailedEntryCount: 0, Entries: [{ EventId: 'local' }] };
    };
    const tasks: Record<string, TaskHandler> = {
      ...sagemaker.tasks(),
      'Check training quota': async () => {
        log('  LOCAL STAND-IN Service Quotas: not reachable without AWS; the training quota is taken as 1');
        return { message: 'local run: quota not checked' };
      },
      Notify: notify('SNS notification'),
      'Notify failure': notify('SNS notification'),
      'Publish event': notify('EventBridge event'),
      'Publish failure event': notify('EventBridge event'),
    };
    const config = {
      labelClasses: LOCAL_CLASSES,
      workforce: { type: 'private', workteamArn: `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:workteam/private-crowd/local-stand-in` },
      split: { validationFraction: 0.25 },
      training: { minSamples: 2, ...(options.epochs ? { epochs: options.epochs } : {}) },
    };
    log(`${elapsed()}  synthesizing the stack (config: ${JSON.stringify(config)})`);
    // The start Lambda calls StartExecution on the local stand-in, which runs the local workflow.
    let workflow: LocalWorkflow | undefined;
    stepFunctions = new LocalStepFunctions(STATE_MACHINE_ARN, (executionName, input) => {
      log(`${elapsed()}  execution ${executionName} started with ${JSON.stringify(input)}`);
      let previous = '';
      return workflow!.run({
        input, executionName, tasks, waitSeconds: LOCAL_TIMINGS.waitSeconds,
        onState: (state) => {
          if (state !== previous) log(`${elapsed()}  ▸ ${state}`);
          previous = state;
        },
      });
    });
    workflow = await prepareLocalWorkflow(config, server, {
      QUIET_SECONDS: String(LOCAL_TIMINGS.quietSeconds), STATE_MACHINE_ARN, SEGPIPE_SFN_ENDPOINT: await stepFunctions.listen(),
    });
    const { handler: startRun } = await import('../handlers/start-run');

    // The batch, uploaded as `aws s3 sync` would, each upload's event handed to the start Lambda.
    // A batch of its own each time, so that a second run in the same --data-dir is a second batch:
    // its run trains on both (the dataset accumulates), as a user's second upload would.
    const batch = options.batch ?? `local-demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
    log(`${elapsed()}  uploading ${count} synthetic photos of turtles and rocks to s3://${INBOX_BUCKET}/images/${batch}/; the last one gets no labels (a failed labeling item)`);
    mkdirSync(join(dataDir, 'samples'), { recursive: true });
    for (let i = 0; i < count; i++) {
      const scene = renderSyntheticScene(9000 + i, width, height);
      const key = `images/${batch}/photo-${String(i).padStart(3, '0')}.jpg`;
      const jpeg = await sceneToJpeg(scene);
      if (i < 3) writeFileSync(join(dataDir, 'samples', `photo-${i}.jpg`), jpeg);
      await new Upload({ client: store.client, params: { Bucket: INBOX_BUCKET, Key: key, Body: jpeg, ContentType: 'image/jpeg' } }).done();
      if (i < count - 1) truth.set(s3Uri(INBOX_BUCKET, key), { width, height, classIndices: scene.classIndices });
      await startRun(objectCreated(key));
    }
    // Empty, as `touch _START` makes it.
    await new Upload({ client: store.client, params: { Bucket: INBOX_BUCKET, Key: `images/${batch}/_START`, Body: Buffer.alloc(0) } }).done();
    await startRun(objectCreated(`images/${batch}/_START`));

    const runs = await Promise.all([...stepFunctions.executions.entries()].map(async ([name, e]) => ({ name, outcome: await e.outcome })));
    const run = runs.find((r) => !r.outcome.path.includes('Nothing new'));
    if (!run) throw new Error(`no run took the batch ${batch}: ${runs.length ? 'every execution found nothing new' : 'the start Lambda started no execution'}`);
    log(`${elapsed()}  execution ${run.name} ${run.outcome.status}${run.outcome.error ? `: ${run.outcome.error}: ${run.outcome.cause}` : ''}`);

    const runId = run.name;
    const reportUri = s3Uri(ARTIFACTS_BUCKET, runLayout(runId).report);
    const report = JSON.parse((await store.read(reportUri)).toString('utf8')) as RunReport;
    const reportPath = join(dataDir, 'report.json');
    writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    const endpoint = report.endpoint ?? endpointName(resourcePrefix(workflow.stack.stackName));
    const deployed = report.status === 'deployed';

    // The channels as plain files, as a training job finds them under /opt/ml/input/data/<channel>/.
    const channelsDir = join(dataDir, 'channels');
    for (const channel of CHANNEL_NAMES) {
      mkdirSync(join(channelsDir, channel), { recursive: true });
      for (const { key } of await store.list(ARTIFACTS_BUCKET, runLayout(runId).channel(channel))) {
        writeFileSync(join(channelsDir, channel, key.split('/').pop()!), await store.read(s3Uri(ARTIFACTS_BUCKET, key)));
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
      const mask = await sharp(join(channelsDir, 'validation_annotation', `${name}.png`)).extractChannel(0).raw().toBuffer();
      const predicted = deployed ? (await predictSegmentation(client, endpoint, image, LOCAL_CLASSES)).mask : undefined;
      rows.push({ name, rgb: rgb.data, width: rgb.info.width, height: rgb.info.height, truth: new Uint8Array(mask), predicted });
    }
    client.destroy();
    const miou = report.metrics?.['validation:mIOU'];
    if (rows.length > 0) {
      writeFileSync(overlayPath, await contactSheetPng(rows, ['background', ...LOCAL_CLASSES], `segpipe local run: ${rows.length} of ${validation.length} validation images${miou !== undefined ? `, validation mIOU ${miou.toFixed(3)}` : ''}`));
    }

    const summary = () => {
      log('');
      log(`Run ${runId}: ${report.status}`);
      log(`  report: ${reportPath} (in S3: ${reportUri})`);
      if (report.metrics) log(`  validation:mIOU ${report.metrics['validation:mIOU']?.toFixed(3)}, validation:pixel_accuracy ${report.metrics['validation:pixel_accuracy']?.toFixed(3)} (gate: ${report.metrics.minimumMiou})`);
      log(rows.length > 0 ? `  overlays: ${overlayPath}` : '  overlays: none, the run made no validation channel (see the report)');
      log(`  channels: ${channelsDir}/{${CHANNEL_NAMES.join(',')}}/`);
      log(`  notifications: ${join(dataDir, 'notifications.log')}`);
    };
    const predictCommand = deployed
      ? `npx segpipe predict --endpoint ${endpoint} --endpoint-url ${endpointUrl} --classes ${LOCAL_CLASSES.join(',')} --out ${join(dataDir, 'predictions')} ${join(dataDir, 'samples', 'photo-0.jpg')}`
      : undefined;
    const result = { dataDir, status: run.outcome.status, runId, report, reportPath, overlayPath: rows.length > 0 ? overlayPath : undefined, channelsDir, endpointName: endpoint, s3Endpoint: server.endpoint };
    if (options.keep) {
      summary();
      log('');
      log(`The S3 server (${server.endpoint}) and the endpoint keep serving until Ctrl-C.`);
      if (predictCommand) log(`Try: ${predictCommand}`);
      return { ...result, endpointUrl, predictCommand, close };
    }

    // Nobody calls the endpoint now: after the (shortened) idle time the clean-up deletes it.
    log(`${elapsed()}  waiting ${LOCAL_TIMINGS.idleSeconds} s (the local idle time), then the clean-up sweeps, as its schedule would`);
    await new Promise((done) => setTimeout(done, (LOCAL_TIMINGS.idleSeconds + 1) * 1000));
    const cleanup = await cleanUpStackResources({ sagemaker: sagemaker.sagemakerClient(), cloudwatch: sagemaker.cloudwatchClient() }, {
      stackName: workflow.stack.stackName, resourcePrefix: resourcePrefix(workflow.stack.stackName), idleMinutes: LOCAL_TIMINGS.idleSeconds / 60, timeToLiveHours: 0, keepModels: 1, dryRun: false, graceMinutes: 0,
    });
    for (const d of cleanup.deleted) log(`  clean-up deleted ${d.kind} ${d.name}: ${d.reason}`);
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
