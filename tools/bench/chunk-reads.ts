/**
 * What each conversion chunk reads of its export: a COCO JSON of `--images` images (default 100,000,
 * one polygon each, annotations listed after the images) planned and converted chunk by chunk with the
 * workflow's plan and chunk modules (planConversion, convertChunk: what the Distributed Map's Lambdas
 * run) against the embedded S3 server. Prints, per chunk, the time it took and the bytes of the export
 * it read, first chunk to last; `--from-start` also converts the first, middle and last chunks again
 * without the plan's chunk indexes, reading the export from its start as chunks did before them.
 *
 * The images are not uploaded (100,000 uploads would be the benchmark), and the run's allow-list
 * holds only the export's folder: each item is refused before any request for its image, so a chunk's
 * time is its reading of the export and its items' selection, what grew with the export's size.
 *
 * `--format manifest` reads a Ground Truth output manifest of as many lines instead. `--format
 * labelstudio` reads a Label Studio round: one target-storage file per task (an annotation with its
 * task nested, as Label Studio writes them), through the run's own list of its round's files, as a
 * Label Studio run converts them. `--latency-ms` makes each read wait first, as S3's first-byte
 * latency does (the embedded server answers in about a millisecond): what reading many small files
 * one after another would cost shows there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parsePositiveInteger } from '../../bin/commands/convert';
import { replaceSdkNodeVersionNotice } from '../../bin/node-support';
import { forEachLimited } from '../../lambda/common/concurrency';
import { writeLabelStudioFiles } from '../../lambda/labelstudio/run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX } from '../../lambda/labelstudio/storage-layout';
import { type ConversionPlan, convertChunk, planConversion } from '../../lambda/workflow/dataset';
import { runLayout } from '../../lambda/workflow/layout';
import { CountingStore } from '../../local/counting-store';
import { startEmbeddedS3Server } from '../../local/embedded-s3-server';

/** A Ground Truth output manifest of as many lines, for `--format manifest`. */
function manifestExport(images: number): Buffer {
  const lines: string[] = [];
  const map =
    '{"0":{"class-name":"BACKGROUND","hex-color":"#ffffff","confidence":0},"1":{"class-name":"turtle","hex-color":"#2ca02c","confidence":0}}';
  for (let i = 1; i <= images; i++) {
    lines.push(
      `{"source-ref":"s3://inbox/images/bench/${i}.jpg","label-ref":"s3://inbox/images/bench/${i}.png","label-ref-metadata":{"internal-color-map":${map},"type":"groundtruth/semantic-segmentation","human-annotated":"yes","creation-date":"2026-12-07T00:00:00","job-name":"labeling-job/bench"}}`,
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function cocoExport(images: number): Buffer {
  const parts = ['{"categories":[{"id":1,"name":"turtle"}],"images":['];
  for (let i = 1; i <= images; i++) parts.push(`${i > 1 ? ',' : ''}{"id":${i},"file_name":"${i}.jpg","width":640,"height":480}`);
  parts.push('],"annotations":[');
  for (let i = 1; i <= images; i++)
    parts.push(
      `${i > 1 ? ',' : ''}{"id":${i},"image_id":${i},"category_id":1,"segmentation":[[10,10,300,10,300,200,10,200]],"area":56000,"bbox":[10,10,290,190],"iscrowd":0}`,
    );
  parts.push(']}');
  return Buffer.from(parts.join(''));
}

/** A Label Studio round's target-storage files, one annotation (a polygon) each with its task nested; returns their list. */
async function labelStudioRound(store: CountingStore, images: number): Promise<string> {
  const files = Array.from({ length: images }, (_, i) => `s3://inbox/${LABELSTUDIO_ANNOTATIONS_PREFIX}${1000 + i}`);
  await forEachLimited(files, 16, async (file) => {
    const id = Number(file.slice(file.lastIndexOf('/') + 1));
    const annotation = {
      id,
      result: [
        {
          id: `r${id}`,
          type: 'polygonlabels',
          from_name: 'polygon',
          to_name: 'image',
          original_width: 640,
          original_height: 480,
          value: {
            points: [
              [2, 2],
              [40, 2],
              [40, 40],
              [2, 40],
            ],
            polygonlabels: ['turtle'],
          },
        },
      ],
      was_cancelled: false,
      created_at: '2026-12-07T10:00:00.000000Z',
      updated_at: '2026-12-07T10:00:00.000000Z',
      task: {
        id,
        data: { image: `s3://inbox/images/bench/${id}.jpg` },
        meta: { batch: 'bench', generation: '0', run: 'bench' },
        project: 1,
      },
    };
    await store.write(file, Buffer.from(JSON.stringify(annotation)), 'application/json');
  });
  return writeLabelStudioFiles(store, 'artifacts', 'bench', files);
}

interface ChunkBenchOptions {
  readonly images: number;
  readonly chunkEntries: number;
  readonly fromStart: boolean;
  readonly format: 'coco' | 'manifest' | 'labelstudio';
  readonly latencyMs: number;
}

async function main(options: ChunkBenchOptions): Promise<void> {
  const { images } = options;
  const manifest = options.format === 'manifest';
  const directory = mkdtempSync(join(tmpdir(), 'segpipe-bench-chunks-'));
  const server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts'], directory });
  const store = new CountingStore(server.client());
  try {
    if (options.format === 'labelstudio') {
      await labelStudioBench(store, options);
      return;
    }
    const body = manifest ? manifestExport(images) : cocoExport(images);
    const location = {
      export: `s3://inbox/labeled/bench/${manifest ? 'output.manifest' : 'coco.json'}`,
      batch: 'bench',
      inboxBucket: 'inbox',
      allowList: [{ bucket: 'inbox', prefix: 'labeled/bench/' }],
    };
    await store.write(location.export, body, 'application/json');
    store.watched = location.export;
    store.readLatencyMs = options.latencyMs;
    const planStart = performance.now();
    const plan = await benchPlan(store, location, options.chunkEntries);
    console.log(
      `${manifest ? 'Ground Truth manifest' : 'COCO export'}: ${images} images, ${(body.length / 1e6).toFixed(1)} MB; plan: ${((performance.now() - planStart) / 1000).toFixed(1)} s, ${(store.bytes / 1e6).toFixed(1)} MB read, ${plan.chunks.length} chunks`,
    );
    await convertChunks('chunks reading their share (chunk index)', plan, store, location);
    if (options.fromStart) {
      await store.remove(plan.chunks.map((chunk) => `s3://artifacts/${runLayout('bench').conversionIndex(chunk.index)}`));
      const sampled = [0, 1, Math.floor(plan.chunks.length / 2), plan.chunks.length - 2, plan.chunks.length - 1].filter(
        (i, n, all) => i >= 0 && all.indexOf(i) === n,
      );
      await convertChunks(
        "chunks reading from the export's start (no chunk index: before), a sample",
        { ...plan, chunks: sampled.map((i) => plan.chunks[i]) },
        store,
        location,
      );
    }
  } finally {
    store.client.destroy();
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** A Label Studio round: the plan's time and reads, and each chunk's, with the modelled latency. */
async function labelStudioBench(store: CountingStore, options: ChunkBenchOptions): Promise<void> {
  const writing = performance.now();
  const list = await labelStudioRound(store, options.images);
  console.log(
    `Label Studio round: ${options.images} target-storage files written in ${((performance.now() - writing) / 1000).toFixed(1)} s`,
  );
  const location = {
    export: `s3://inbox/${LABELSTUDIO_ANNOTATIONS_PREFIX}`,
    batch: 'bench',
    inboxBucket: 'inbox',
    labelStudioRound: '0',
    labelStudioFiles: list,
    allowList: [{ bucket: 'inbox', prefix: LABELSTUDIO_ANNOTATIONS_PREFIX }],
  };
  store.readLatencyMs = options.latencyMs;
  store.reads = 0;
  const planStart = performance.now();
  const plan = await benchPlan(store, location, options.chunkEntries);
  const seconds = (performance.now() - planStart) / 1000;
  console.log(
    `plan: ${seconds.toFixed(1)} s, ${store.reads} reads with ${options.latencyMs} ms of latency each (one after another: at least ${((store.reads * options.latencyMs) / 1000).toFixed(1)} s), ${plan.chunks.length} chunks`,
  );
  console.log('\nchunk  entries        seconds  reads');
  for (const chunk of plan.chunks) {
    store.reads = 0;
    const start = performance.now();
    await benchChunk(store, location, plan, chunk);
    console.log(
      `${String(chunk.index).padStart(5)}  ${`${chunk.first}-${chunk.last}`.padEnd(13)}  ${((performance.now() - start) / 1000).toFixed(2).padStart(7)}  ${String(store.reads).padStart(5)}`,
    );
  }
}

/** The export planned as the workflow's plan Lambda plans it. */
function benchPlan(store: CountingStore, location: BenchLocation, chunkEntries: number) {
  return planConversion({ ...location, store, bucket: 'artifacts', runId: 'bench', configuredClasses: [], chunkEntries });
}

/** One chunk of the plan converted as the workflow's chunk Lambda converts it. */
function benchChunk(store: CountingStore, location: BenchLocation, plan: ConversionPlan, chunk: ConversionPlan['chunks'][number]) {
  return convertChunk({
    ...location,
    store,
    bucket: 'artifacts',
    runId: 'bench',
    chunk,
    classes: plan.classes,
    exportVersion: plan.exportVersion,
    validationFraction: 0.2,
    seed: 'segpipe',
  });
}

type BenchLocation = Omit<Parameters<typeof planConversion>[0], 'store' | 'bucket' | 'runId' | 'configuredClasses'>;

async function convertChunks(title: string, plan: ConversionPlan, store: CountingStore, location: BenchLocation): Promise<void> {
  console.log(`\n${title}\nchunk  entries        seconds  export bytes read  chunk index bytes`);
  const rows: { seconds: number; bytes: number }[] = [];
  for (const chunk of plan.chunks) {
    store.bytes = 0;
    const start = performance.now();
    await benchChunk(store, location, plan, chunk);
    rows.push({ seconds: (performance.now() - start) / 1000, bytes: store.bytes });
    const index = await store.readStart(`s3://artifacts/${runLayout('bench').conversionIndex(chunk.index)}`, 1);
    console.log(
      `${String(chunk.index).padStart(5)}  ${`${chunk.first}-${chunk.last}`.padEnd(13)}  ${rows[rows.length - 1].seconds.toFixed(2).padStart(7)}  ${String(store.bytes).padStart(17)}  ${String(index?.size ?? 0).padStart(17)}`,
    );
  }
  const last = rows[rows.length - 1];
  console.log(
    `first → last chunk: ${rows[0].seconds.toFixed(2)} s → ${last.seconds.toFixed(2)} s, ${rows[0].bytes} → ${last.bytes} bytes; all chunks: ${rows.reduce((s, r) => s + r.seconds, 0).toFixed(1)} s, ${(rows.reduce((s, r) => s + r.bytes, 0) / 1e6).toFixed(1)} MB`,
  );
}

new Command('npm run bench:chunks --')
  .description(
    "what each conversion chunk of a large export reads of it, first chunk to last, through the workflow's plan and chunk modules",
  )
  .option('--images <n>', 'images of the export', parsePositiveInteger, 100_000)
  .option('--chunk-entries <n>', 'entries a chunk converts', parsePositiveInteger, 2000)
  .option('--from-start', "also convert a sample of chunks without the plan's chunk indexes (as before them)", false)
  .addOption(
    new Option(
      '--format <format>',
      "the export: a COCO JSON, a Ground Truth output manifest, or a Label Studio round's target-storage files",
    )
      .choices(['coco', 'manifest', 'labelstudio'])
      .default('coco'),
  )
  .option('--latency-ms <n>', "milliseconds each read waits first (S3's first-byte latency)", parsePositiveInteger, 0)
  .hook('preAction', replaceSdkNodeVersionNotice())
  .action(main)
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`bench:chunks: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
