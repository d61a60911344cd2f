import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { parsePositiveInteger } from '../../bin/commands/convert';
import { replaceSdkNodeVersionNotice } from '../../bin/node-support';
import { forEachLimited } from '../../lambda/common/concurrency';
import { plural } from '../../lambda/common/plural';
import { S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import type { StartRunResult } from '../../lambda/handlers/start-run';
import { type Prelabeler, planTasks, type TaskChunkSummary, writeTaskChunk } from '../../lambda/labelstudio/workflow-tasks';
import { ALREADY_TAKEN, type BatchSnapshot, batchExecutionName } from '../../lambda/workflow/batch';
import { writeChannelManifests } from '../../lambda/workflow/dataset';
import { type DatasetItem, readDatasetIndex, writeIndexShard } from '../../lambda/workflow/dataset-index';
import { startEmbeddedS3Server } from '../../local/embedded-s3-server';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../local/ground-truth-output';
import { objectCreatedEvent } from '../../local/lambda-invocation';
import { LocalSageMaker } from '../../local/local-sagemaker';
import { LocalStepFunctions } from '../../local/local-step-functions';
import { ARTIFACTS_BUCKET, INBOX_BUCKET, type LocalWorkflow, prepareLocalWorkflow } from '../../local/local-workflow';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import type { WorkflowOutcome } from '../../local/workflow-runner';

interface ScaleBenchOptions {
  readonly events: number;
  readonly importItems: number;
  readonly datasetItems: number;
  readonly labelstudioImages: number;
  readonly endpointRate: number;
  /** Which parts run: `a` to `d`. */
  readonly parts: string;
  readonly keep: boolean;
}

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:segpipe-bench';
/** The batch's uploads arrive in three waves, each a generation: 60 %, 30 %, 10 % of the objects. */
const WAVES = [0.6, 0.3, 0.1];
/** Events delivered twice (at-least-once), and events of an earlier wave's images arriving late. */
const DUPLICATE_SHARE = 0.1;
const LATE_SHARE = 0.05;
/** The start Lambda's reserved concurrency (`batch.startConcurrency`). */
const START_CONCURRENCY = 10;
const MARKS = [1_000, 10_000, 100_000];

/** S3 requests and response bytes of a client, counted by a middleware. */
class RequestCounter {
  requests = 0;
  bytes = 0;
  attach(client: S3Client): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        this.requests += 1;
        const length = (result.response as { headers?: Record<string, string> }).headers?.['content-length'];
        this.bytes += Number(length ?? 0);
        return result;
      },
      { step: 'deserialize', name: 'segpipeBenchCounter' },
    );
  }
}

/** A seeded shuffle: the same events in the same order every run. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed;
  for (let i = items.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) >>> 0;
    const j = state % (i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const secondsSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const perSecond = (count: number, seconds: number) => Math.round(count / seconds).toLocaleString('en-US');

/**
 * `npm run bench:scale`: the pipeline at 100,000 images, in the local harness with the real handlers
 * and the embedded S3 server. (a) upload events through the start Lambda and the batch snapshots,
 * (b) an import converted through the Distributed Map, (c) the channel manifests of a large dataset
 * against the copies they replace, (d) a Label Studio round's tasks, pre-labeled to the end. Prints a table.
 */
async function runScaleBench(options: ScaleBenchOptions, say: (line: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-bench-scale-'));
  const server = await startEmbeddedS3Server({ buckets: [INBOX_BUCKET, ARTIFACTS_BUCKET], directory: join(work, 's3') });
  const executions: { name: string; input: unknown; finish: (outcome: WorkflowOutcome) => void }[] = [];
  const stepFunctions = new LocalStepFunctions(
    STATE_MACHINE_ARN,
    (name, input) => new Promise((resolve) => executions.push({ name, input, finish: resolve })),
  );
  const sagemaker = new LocalSageMaker({ store: new S3ObjectStore(server.client()), truthOf: () => undefined, log: () => undefined });
  const rows: string[][] = [];
  try {
    const endpointUrl = await sagemaker.start();
    const workflow = await prepareLocalWorkflow({ training: { minSamples: 1 }, conversion: { maxConcurrency: 1 } }, server, {
      settings: { stateMachineArn: STATE_MACHINE_ARN, quietSeconds: 10 },
      // The evaluation after deploying calls the local endpoint; there is no CloudWatch here.
      environment: {
        SEGPIPE_SFN_ENDPOINT: await stepFunctions.listen(),
        SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT: endpointUrl,
        SEGPIPE_NO_CLOUDWATCH: '1',
      },
    });
    // The handlers' S3 client, loaded with the workflow's settings above: every request they make is counted.
    const { store: handlerStore } = await import('../../lambda/common/runtime');
    const counter = new RequestCounter();
    counter.attach(handlerStore.client);
    const uploader = server.client();

    const part = (name: string) => options.parts.includes(name);
    if (part('a')) rows.push(...(await uploadEvents(workflow, uploader, counter, executions, options.events, say)));
    if (part('b')) rows.push(...(await importThroughMap(workflow, uploader, sagemaker, options.importItems, say)));
    if (part('c')) rows.push(...(await channelManifests(new S3ObjectStore(server.client()), uploader, counter, options.datasetItems, say)));
    if (part('d')) rows.push(...(await labelStudioTasks(server.client(), options.labelstudioImages, options.endpointRate, say)));
    uploader.destroy();

    say('\n| measure | figure |\n|---|---|');
    for (const [measure, figure] of rows) say(`| ${measure} | ${figure} |`);
  } finally {
    for (const execution of executions) execution.finish({ status: 'ABORTED', path: [] } as unknown as WorkflowOutcome);
    await stepFunctions.close();
    await sagemaker.close();
    await server.close();
    if (!options.keep) rmSync(work, { recursive: true, force: true });
    else say(`data kept in ${work}`);
  }
}

/**
 * (a) One batch of `events` upload events in three generations: each wave's uploads, their events
 * (duplicated, late ones of earlier waves, shuffled, a third URL-encoded) through the start Lambda at
 * its reserved concurrency, then the generation's snapshot. Checks one run per generation, each
 * taking exactly its wave; counts the S3 requests and bytes of each event.
 */
async function uploadEvents(
  workflow: LocalWorkflow,
  uploader: S3Client,
  counter: RequestCounter,
  executions: { name: string; input: unknown; finish: (outcome: WorkflowOutcome) => void }[],
  events: number,
  say: (line: string) => void,
): Promise<string[][]> {
  const objects = Math.round(events / (1 + DUPLICATE_SHARE + LATE_SHARE));
  const batch = 'bench batch';
  const keys = Array.from({ length: objects }, (_, i) => `images/${batch}/photo ${i}+é.jpg`);
  const uploadedAt = new Map<string, string>();
  const waves: string[][] = [];
  let first = 0;
  for (const share of WAVES) {
    const size = share === WAVES.at(-1) ? objects - first : Math.round(objects * share);
    waves.push(keys.slice(first, first + size));
    first += size;
  }
  say(
    `(a) about ${events.toLocaleString('en-US')} upload events of ${objects.toLocaleString('en-US')} images in ${waves.length} generations, ${START_CONCURRENCY} at a time`,
  );
  const marks: { events: number; requests: number; bytes: number }[] = [];
  let handled = 0;
  // The counts at the start of the current window of 1,000 events; the handler's S3 client is used by nothing else meanwhile.
  let windowStart = { requests: counter.requests, bytes: counter.bytes, events: 0 };
  let handlingSeconds = 0;
  const results: StartRunResult[] = [];
  const snapshots: BatchSnapshot[] = [];
  for (const [generation, wave] of waves.entries()) {
    const uploadStart = process.hrtime.bigint();
    await forEachLimited(wave, 32, async (key) => {
      await uploader.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: key, Body: 'x' }));
      uploadedAt.set(key, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    });
    say(`  generation ${generation}: ${wave.length.toLocaleString('en-US')} uploads in ${secondsSince(uploadStart).toFixed(0)} s`);
    const earlier = waves.slice(0, generation).flat();
    const late = earlier.filter((_, i) => i % Math.round(1 / LATE_SHARE) === 0);
    const duplicates = wave.filter((_, i) => i % Math.round(1 / DUPLICATE_SHARE) === 0);
    const waveEvents = shuffle([...wave, ...duplicates, ...late], 42 + generation).map((key, i) =>
      objectCreatedEvent(INBOX_BUCKET, key, { time: uploadedAt.get(key)!, encodeKey: i % 3 === 0 }),
    );
    const start = process.hrtime.bigint();
    await forEachLimited(waveEvents, START_CONCURRENCY, async (event) => {
      results.push(await workflow.startRun(event));
      handled += 1;
      // Events run 10 at a time, so a window's totals are exact and an event's share is their average.
      if (handled % 1000 === 0) {
        const events = handled - windowStart.events;
        if (MARKS.includes(handled))
          marks.push({
            events: handled,
            requests: (counter.requests - windowStart.requests) / events,
            bytes: (counter.bytes - windowStart.bytes) / events,
          });
        windowStart = { requests: counter.requests, bytes: counter.bytes, events: handled };
      }
      if (handled % 10_000 === 0) say(`  ${handled.toLocaleString('en-US')} events handled`);
    });
    handlingSeconds += secondsSince(start);
    // The generation's run: the batch has settled; its snapshot takes the wave, and the run ends.
    const beforeSnapshot = { requests: counter.requests, bytes: counter.bytes };
    const snapshot = (await workflow.lambdaStates['Snapshot batch']({ batch, generation })) as BatchSnapshot;
    snapshots.push(snapshot);
    // The snapshot's own requests are not an event's.
    windowStart = {
      ...windowStart,
      requests: windowStart.requests + counter.requests - beforeSnapshot.requests,
      bytes: windowStart.bytes + counter.bytes - beforeSnapshot.bytes,
    };
    for (const execution of executions.splice(0))
      execution.finish({ status: 'SUCCEEDED', path: ['Snapshot batch'] } as unknown as WorkflowOutcome);
  }
  const started = new Set(results.filter((r) => r.action === 'started').map((r) => r.executionName));
  const expected = waves.map((_, g) => batchExecutionName(batch, g));
  const oneRunEach = started.size === waves.length && expected.every((name) => started.has(name));
  const eachTakesItsWave = snapshots.every((s, g) => s.images === waves[g].length);
  const ignored = results.filter((r) => r.action === 'ignored');
  if (!oneRunEach || !eachTakesItsWave || ignored.some((r) => r.reason !== ALREADY_TAKEN)) {
    throw new Error(
      `the batch logic broke: runs ${[...started].join(', ')}; snapshots took ${snapshots.map((s) => s.images).join(', ')} of ${waves.map((w) => w.length).join(', ')}; ignored for ${[...new Set(ignored.map((r) => r.reason))].join('; ')}`,
    );
  }
  const rows = [
    [
      '(a) upload events through the start Lambda',
      `${handled.toLocaleString('en-US')} (${objects.toLocaleString('en-US')} images, ${ignored.length.toLocaleString('en-US')} duplicate or late events ignored)`,
    ],
    [
      '(a) runs started',
      `${started.size}, one per generation; snapshots took ${snapshots.map((s) => s.images.toLocaleString('en-US')).join(' + ')} images, each exactly once`,
    ],
    ...marks.map((m) => [
      `(a) S3 per event, events ${(m.events - 999).toLocaleString('en-US')} to ${m.events.toLocaleString('en-US')}`,
      `${m.requests.toFixed(2)} requests, ${Math.round(m.bytes)} bytes read`,
    ]),
    ['(a) events per second (start Lambda, embedded S3)', perSecond(handled, handlingSeconds)],
  ];
  return rows;
}

/** (b) A Ground Truth export of `items` lines dropped under `labeled/`, imported by the workflow through its Distributed Map. */
async function importThroughMap(
  workflow: LocalWorkflow,
  uploader: S3Client,
  sagemaker: LocalSageMaker,
  items: number,
  say: (line: string) => void,
): Promise<string[][]> {
  const classes = labelingClasses(['turtle', 'rock']);
  const scenes = await Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      const scene = renderSyntheticScene(100 + i, 64, 48);
      return { jpeg: await sceneToJpeg(scene), mask: groundTruthMaskPng(scene.classIndices, 64, 48, classes) };
    }),
  );
  say(`(b) an import of ${items.toLocaleString('en-US')} items (64×48): uploading images, masks and the manifest`);
  const lines: string[] = [];
  await forEachLimited(
    Array.from({ length: items }, (_, i) => i),
    32,
    async (i) => {
      const scene = scenes[i % scenes.length];
      await uploader.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: `images/import/${i}.jpg`, Body: scene.jpeg }));
      await uploader.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: `labeled/import/masks/${i}.png`, Body: scene.mask }));
    },
  );
  for (let i = 0; i < items; i++) {
    lines.push(
      JSON.stringify(
        groundTruthManifestLine({
          source: `s3://${INBOX_BUCKET}/images/import/${i}.jpg`,
          mask: `s3://${INBOX_BUCKET}/labeled/import/masks/${i}.png`,
          attribute: 'bench-ref',
          jobName: 'bench',
          classes,
        }),
      ),
    );
  }
  await uploader.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: 'labeled/import/output.manifest', Body: `${lines.join('\n')}\n` }));

  // Chunks run one at a time here (conversion.maxConcurrency 1), so that each one's memory is its own.
  const chunkPeaks: number[] = [];
  const convertChunk = workflow.lambdaStates['Convert chunk'];
  const stateTimes = new Map<string, bigint>();
  const durations = new Map<string, number>();
  let previous: string | undefined;
  const outcome = await workflow.run({
    input: { batch: 'import', export: `s3://${INBOX_BUCKET}/labeled/import/output.manifest` },
    executionName: 'bench-import',
    waitSeconds: 1,
    tasks: {
      ...sagemaker.tasks(workflow.definition),
      'Check training quota': async () => ({ message: 'bench: quota not checked' }),
      Notify: async () => ({ MessageId: 'bench' }),
      'Notify failure': async () => ({ MessageId: 'bench' }),
      // An import skips labeling, but the runner wants a handler for every Task state of the definition.
      'Notify tasks ready': async () => ({ MessageId: 'bench' }),
      'Publish event': async () => ({ FailedEntryCount: 0 }),
      'Publish failure event': async () => ({ FailedEntryCount: 0 }),
      'Convert chunk': async (input) => {
        const base = process.memoryUsage().rss;
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
        try {
          return await convertChunk(input);
        } finally {
          clearInterval(sampler);
          chunkPeaks.push(Math.max(peak, process.memoryUsage().rss) - base);
        }
      },
    },
    onState: (state) => {
      if (state === previous) return;
      const now = process.hrtime.bigint();
      if (previous && stateTimes.has(previous))
        durations.set(previous, (durations.get(previous) ?? 0) + Number(now - stateTimes.get(previous)!) / 1e9);
      stateTimes.set(state, now);
      previous = state;
    },
  });
  if (outcome.status !== 'SUCCEEDED') throw new Error(`the import run ${outcome.status}: ${outcome.error}: ${outcome.cause}`);
  const converting = ['Convert chunks', 'Convert chunk'].reduce((sum, state) => sum + (durations.get(state) ?? 0), 0);
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  return [
    [
      '(b) import through the Distributed Map',
      `${items.toLocaleString('en-US')} items in ${chunkPeaks.length} chunks, run ${outcome.status.toLowerCase()}`,
    ],
    ['(b) plan (read the export once)', `${(durations.get('Plan conversion') ?? 0).toFixed(1)} s`],
    ['(b) conversion, items per second (one chunk at a time)', perSecond(items, converting)],
    ['(b) memory a chunk adds (largest, sampled every 20 ms)', mib(Math.max(...chunkPeaks))],
    ['(b) channel check and manifests', `${(durations.get('Assemble channels') ?? 0).toFixed(1)} s`],
  ];
}

/** (c) The channel manifests of a dataset of `items` items, against the per-run copies they replace. */
async function channelManifests(
  store: S3ObjectStore,
  uploader: S3Client,
  counter: RequestCounter,
  items: number,
  say: (line: string) => void,
): Promise<string[][]> {
  say(`(c) channel manifests for a dataset of ${items.toLocaleString('en-US')} items`);
  const dataset: DatasetItem[] = Array.from({ length: items }, (_, i) => ({
    source: `s3://${INBOX_BUCKET}/images/big/${i}.jpg`,
    name: `item-${String(i).padStart(7, '0')}`,
    split: i % 5 === 0 ? 'validation' : 'train',
    runId: `run-${Math.floor(i / 2000)}`,
  }));
  // The index as 2,000-item runs left it: one shard each.
  for (let run = 0; run * 2000 < items; run++)
    await writeIndexShard(store, ARTIFACTS_BUCKET, `run-${run}`, dataset.slice(run * 2000, (run + 1) * 2000));
  const { store: handlerStore } = await import('../../lambda/common/runtime');
  const before = counter.requests;
  const start = process.hrtime.bigint();
  const index = await readDatasetIndex(handlerStore, ARTIFACTS_BUCKET);
  await writeChannelManifests(handlerStore, ARTIFACTS_BUCKET, 'bench-manifests', [...index.values()]);
  const manifestSeconds = secondsSince(start);
  const manifestRequests = counter.requests - before;

  // The copies the manifests replace: two CopyObject requests an item, timed on a sample.
  const sample = Math.min(2000, items);
  await forEachLimited(
    Array.from({ length: sample }, (_, i) => i),
    32,
    async (i) => {
      await uploader.send(new PutObjectCommand({ Bucket: ARTIFACTS_BUCKET, Key: `datasets/main/train/s-${i}.jpg`, Body: 'x' }));
    },
  );
  const copyStart = process.hrtime.bigint();
  await forEachLimited(
    Array.from({ length: sample }, (_, i) => i),
    16,
    async (i) => {
      await uploader.send(
        new CopyObjectCommand({
          Bucket: ARTIFACTS_BUCKET,
          CopySource: `${ARTIFACTS_BUCKET}/datasets/main/train/s-${i}.jpg`,
          Key: `runs/bench-copies/channels/train/s-${i}.jpg`,
        }),
      );
    },
  );
  const copiesPerSecond = sample / secondsSince(copyStart);
  const validation = dataset.filter((item) => item.split === 'validation').length;
  const listRequests = 2 * Math.ceil((items - validation) / 1000) + 2 * Math.ceil(validation / 1000);
  return [
    [
      '(c) channel manifests: index read + 4 manifests written',
      `${manifestSeconds.toFixed(1)} s, ${manifestRequests} S3 requests (${Math.ceil(items / 2000)} index shards)`,
    ],
    ['(c) channel check listing (computed: 1,000 keys a LIST)', `${listRequests} LIST requests`],
    [
      '(c) the copies they replace (2 CopyObject an item)',
      `${(2 * items).toLocaleString('en-US')} requests, ${((2 * items) / copiesPerSecond / 60).toFixed(0)} min at the ${Math.round(copiesPerSecond)} copies/s measured here on ${sample.toLocaleString('en-US')}`,
    ],
  ];
}

/** The task writer's Lambda: 15 minutes, of which it takes no new image in the last 3 (`write-labelstudio-tasks.ts`). */
const TASK_INVOCATION_MS = 12 * 60_000;
/** Chunks written at once (the map's `maxConcurrency`) and images in flight per chunk. */
const TASK_CHUNKS_AT_ONCE = 10;

/**
 * (d) A Label Studio round of `images` images: the task plan (`Prepare run`), then every chunk written
 * as the state machine writes it, invocation after invocation from where the last stopped, pre-labeled
 * by a simulated endpoint on a simulated clock: one serving instance answering `rate` images a second,
 * shared by 10 chunks of 4 images in flight, so each image of a chunk takes 10 / `rate` seconds of its
 * chunk's time. The S3 requests are real (embedded server) and counted; the hours are the simulation's.
 */
async function labelStudioTasks(client: S3Client, images: number, rate: number, say: (line: string) => void): Promise<string[][]> {
  const counter = new RequestCounter();
  counter.attach(client);
  const store = new S3ObjectStore(client);
  const round = { store, inboxBucket: INBOX_BUCKET, artifactsBucket: ARTIFACTS_BUCKET, runId: 'bench-ls', batch: 'bench-ls', round: '0' };
  const uris = Array.from({ length: images }, (_, i) => `s3://${INBOX_BUCKET}/images/bench-ls/photo-${String(i).padStart(6, '0')}.jpg`);
  const started = process.hrtime.bigint();
  const plan = await planTasks({ ...round, images: uris });
  const planRequests = counter.requests;
  let clock = 0;
  // Each image waits for the TASK_CHUNKS_AT_ONCE × ENDPOINT_CONCURRENCY in flight; a chunk has ENDPOINT_CONCURRENCY of them.
  const perImageMs = (1000 * TASK_CHUNKS_AT_ONCE) / rate;
  const prediction = { model_version: 'bench', result: [] };
  const prelabel: Prelabeler = async () => {
    clock += perImageMs;
    return { prediction };
  };
  const invocations: number[] = [];
  let predicted = 0;
  let chunkMs = 0;
  await forEachLimited(plan.chunks, 1, async (chunk) => {
    clock = 0;
    let summary: TaskChunkSummary | undefined;
    let count = 0;
    do {
      const deadline = clock + TASK_INVOCATION_MS;
      summary = await writeTaskChunk({ ...round, chunk, prelabel, resume: summary ?? { next: 0 }, deadline, now: () => clock });
      count++;
    } while (summary.next !== undefined);
    invocations.push(count);
    predicted += summary.predicted;
    chunkMs = Math.max(chunkMs, clock);
    if (chunk.index % 10 === 9) say(`(d) ${chunk.index + 1} of ${plan.chunks.length} chunks written`);
  });
  const seconds = secondsSince(started);
  const written = (await store.list(INBOX_BUCKET, `labelstudio/tasks/bench-ls/0/`)).length;
  if (written !== images || predicted !== images) throw new Error(`(d) ${written} tasks written, ${predicted} pre-labeled, of ${images}`);
  const waves = Math.ceil(plan.chunks.length / TASK_CHUNKS_AT_ONCE);
  const hours = (waves * chunkMs) / 3_600_000;
  return [
    [
      `(d) Label Studio round of ${images.toLocaleString('en-US')} images`,
      `${plan.chunks.length} chunks; every task written once and pre-labeled`,
    ],
    [
      '(d) invocations per chunk',
      `${Math.min(...invocations)} to ${Math.max(...invocations)} (at most 12 minutes each, simulated endpoint at ${rate} images/s)`,
    ],
    [
      '(d) pre-labeling time, simulated',
      `${hours.toFixed(1)} h (${plural(waves, 'wave')} of ${TASK_CHUNKS_AT_ONCE} chunks, ${(chunkMs / 60_000).toFixed(0)} minutes a chunk)`,
    ],
    [
      '(d) S3 requests',
      `${planRequests} to plan; ${((counter.requests - planRequests) / images).toFixed(3)} per image to write the tasks (the chunk manifests read by every invocation, and the check's listing of the tasks, included)`,
    ],
    ['(d) time on this machine', `${seconds.toFixed(0)} s (${perSecond(images, seconds)} tasks/s to the embedded S3 server)`],
  ];
}

new Command('npm run bench:scale --')
  .description(
    "the pipeline at 100,000 images, with the real handlers and the embedded S3 server: upload events per generation, an import through the Distributed Map, channel manifests against copies, a Label Studio round's tasks pre-labeled to the end",
  )
  .option('--events <n>', 'upload events of one batch', parsePositiveInteger, 100_000)
  .option('--import-items <n>', 'items of the import converted through the Distributed Map', parsePositiveInteger, 10_000)
  .option('--dataset-items <n>', 'dataset items the channel manifests list', parsePositiveInteger, 100_000)
  .option(
    '--labelstudio-images <n>',
    'images of the Label Studio round whose tasks are written and pre-labeled',
    parsePositiveInteger,
    100_000,
  )
  .option('--endpoint-rate <n>', 'images a second the simulated serving endpoint answers', parsePositiveInteger, 2)
  .option('--parts <letters>', 'which parts run: a (upload events), b (import), c (channel manifests), d (Label Studio tasks)', 'abcd')
  .option('--keep', 'keep the generated data', false)
  .hook('preAction', replaceSdkNodeVersionNotice())
  .action((options: ScaleBenchOptions) => runScaleBench(options, (line) => process.stdout.write(`${line}\n`)))
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`bench:scale: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
