import { ConversionReport, ConvertedItem, SkippedItem, convertExport, surveyExport } from '../convert/convert-manifest';
import { OpenedExport, openExport } from '../convert/export-input';
import { ObjectStore } from '../convert/object-store';
import { AllowListedStore, SourceAllowList } from '../convert/source-allow-list';
import { readPngDirect } from '../convert/png-reader';
import { forEachLimited } from '../common/concurrency';
import { plainText } from '../common/untrusted-text';
import { channelManifestJson } from './channel-manifest';
import { DatasetItem, readDatasetIndex, writeIndexShard } from './dataset-index';
import { CHANNEL_NAMES, IMAGES_PREFIX, datasetLayout, runLayout, s3Uri } from './layout';
import { ListingStore, VersionedStore, updateJson } from './versioned-json';

/** Entries per conversion chunk: one Lambda converts a chunk well within its 15 minutes (~40 items/s measured locally). */
export const DEFAULT_CHUNK_ENTRIES = 2000;

/**
 * Most chunks a plan makes: their descriptors (~40 bytes) and the map's results (~80 bytes) travel in
 * the execution state, which Step Functions caps at 256 KiB ("Maximum input or output size for a
 * task, state, or execution", Step Functions quotas). Past 1,000 chunks, chunks grow instead.
 */
export const MAX_CHUNKS = 1000;

/** One Lambda's share of an export: its entries `first` to `last` (1-based, inclusive). */
export interface ConversionChunk {
  readonly index: number;
  readonly first: number;
  readonly last: number;
}

export interface ConversionPlan {
  /** The export, read where it is. */
  readonly export: string;
  readonly format: string;
  /** Class names in index order: the dataset's, then the configured, then new ones first-seen. */
  readonly classes: string[];
  readonly entries: number;
  readonly chunks: ConversionChunk[];
}

/** Where and how the workflow's conversion Lambdas read an export. */
export interface ExportLocation {
  /** The export: a Ground Truth or Lookout for Vision manifest, a COCO or Label Studio JSON, a CVAT or VOC zip. */
  readonly export: string;
  /** The batch whose `images/<batch>/` holds the images the export names but does not contain. */
  readonly batch?: string;
  readonly inboxBucket?: string;
  /** What the run may read (`sourceAllowList`): the export and every address it names are checked against it first. */
  readonly allowList: SourceAllowList;
}

/**
 * Opens an export on S3 (a zip is read in place with ranged GETs), images looked for in the batch too;
 * every read, of the export and of what it names, only under the run's allow-list.
 */
function openWorkflowExport(store: ObjectStore, location: ExportLocation): Promise<OpenedExport> {
  const sources = new AllowListedStore(store, location.allowList);
  const fallbackImages = location.batch !== undefined && location.inboxBucket ? s3Uri(location.inboxBucket, `${IMAGES_PREFIX}${location.batch}/`) : undefined;
  return openExport({ input: location.export, local: sources, s3: sources, sources, fallbackImages });
}

/**
 * Reads the export once to fix the class order for the whole run (chunks then agree whatever order
 * they finish in) and to cut its entries into chunks.
 */
export async function planConversion(options: ExportLocation & {
  readonly store: VersionedStore;
  readonly bucket: string;
  readonly configuredClasses: readonly string[];
  readonly chunkEntries?: number;
}): Promise<ConversionPlan> {
  const opened = await openWorkflowExport(options.store, options);
  let survey: { classes: string[]; lastEntry: number };
  try {
    survey = await surveyExport(opened.reader, options.configuredClasses);
  } finally {
    opened.close();
  }
  const dataset = datasetLayout();
  // The dataset's order wins; classes it lacks are appended (configured first, then first-seen).
  const classes = await updateJson<string[]>(options.store, s3Uri(options.bucket, dataset.classes), [], (known) =>
    known.length === 0 ? [...survey.classes] : [...known, ...survey.classes.slice(1).filter((c) => !known.includes(c))]);
  const chunkEntries = Math.max(options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES, Math.ceil(survey.lastEntry / MAX_CHUNKS));
  const chunks: ConversionChunk[] = [];
  for (let first = 1; first <= survey.lastEntry; first += chunkEntries) {
    chunks.push({ index: chunks.length, first, last: Math.min(survey.lastEntry, first + chunkEntries - 1) });
  }
  return { export: options.export, format: opened.reader.format, classes, entries: survey.lastEntry, chunks };
}

export interface ChunkSummary {
  readonly index: number;
  readonly converted: number;
  readonly skipped: number;
}

/** A chunk whose Lambda failed (caught in the map, so that other chunks go on); its entries are reported skipped. */
export interface FailedChunk extends ConversionChunk {
  readonly error: string;
  readonly cause?: string;
}

export type ChunkResult = ChunkSummary | FailedChunk;

/** Converts one chunk of the export into the dataset; its report goes under the run. */
export async function convertChunk(options: ExportLocation & {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly runId: string;
  readonly chunk: ConversionChunk;
  readonly classes: readonly string[];
  readonly validationFraction: number;
  readonly seed: string;
}): Promise<ChunkSummary> {
  const { chunk } = options;
  const opened = await openWorkflowExport(options.store, options);
  try {
    const report = await convertExport({
      reader: opened.reader,
      out: s3Uri(options.bucket, datasetLayout().prefix.replace(/\/$/, '')),
      output: options.store,
      classes: options.classes.slice(1),
      validationFraction: options.validationFraction,
      seed: options.seed,
      range: { first: chunk.first, last: chunk.last },
      reportLocation: s3Uri(options.bucket, runLayout(options.runId).conversionReport(chunk.index)),
    });
    return { index: chunk.index, converted: report.counts.converted, skipped: report.counts.skipped };
  } finally {
    opened.close();
  }
}

export interface ChannelSummary {
  /** The run's channel manifests: `<channels><channel>.manifest`. */
  readonly channels: string;
  readonly classes: readonly string[];
  readonly numClasses: number;
  readonly numTrainingSamples: number;
  readonly numValidationSamples: number;
  readonly converted: number;
  readonly skipped: number;
  /** The first skipped items, cut for the notification; the run's conversion report has them all, whole. */
  readonly skippedItems: readonly SkippedItem[];
  readonly failedChunks: number;
}

/** Thrown when the channels are not fit to train on; the workflow stops before any GPU is paid for. */
export class ChannelCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelCheckError';
  }
}

const MAX_SKIPS_IN_SUMMARY = 10;
/** Characters of an uploader's text (a source reference, a reason) the execution state carries. */
const MAX_TEXT_IN_SUMMARY = 200;

/**
 * Merges the chunks' reports into the run's conversion report, adds the run's items to the dataset's
 * index, writes the run's four channel manifests over the whole dataset (the exact input of its
 * training job; no object is copied), and checks them: this run's masks are 8-bit single-channel
 * with values below `num_classes` or 255, every listed image has its mask, both splits hold items,
 * and training has at least `minTrainingSamples`.
 */
export async function assembleChannels(options: {
  readonly store: VersionedStore & ListingStore;
  /** Writes the channel manifests, tagged as scratch data. */
  readonly scratchStore: ObjectStore;
  readonly bucket: string;
  readonly runId: string;
  readonly chunks: readonly ChunkResult[];
  readonly minTrainingSamples: number;
  /**
   * Share of chunks that may fail (their entries reported skipped) before the run stops.
   * @default 0
   */
  readonly maxFailedChunkPercent?: number;
}): Promise<ChannelSummary> {
  const { store, bucket, runId } = options;
  const run = runLayout(runId);
  const dataset = datasetLayout();
  const classes = JSON.parse((await store.read(s3Uri(bucket, dataset.classes))).toString('utf8')) as string[];
  const reports: ConversionReport[] = [];
  const skipped: SkippedItem[] = [];
  const failed = options.chunks.filter((chunk): chunk is FailedChunk => 'error' in chunk);
  for (const chunk of options.chunks) {
    if ('error' in chunk) {
      const reason = `its chunk (entries ${chunk.first} to ${chunk.last}) failed: ${chunk.error}${chunk.cause ? `: ${chunk.cause}` : ''}`;
      for (let line = chunk.first; line <= chunk.last; line++) skipped.push({ line, source: null, reason });
      continue;
    }
    reports.push(JSON.parse((await store.read(s3Uri(bucket, run.conversionReport(chunk.index)))).toString('utf8')));
  }
  const seen = new Set<string>();
  const items: ConvertedItem[] = [];
  skipped.push(...reports.flatMap((r) => r.skipped));
  for (const item of reports.flatMap((r) => r.items)) {
    if (seen.has(item.source)) {
      skipped.push({ line: item.line, source: item.source, reason: 'duplicate of an earlier entry' });
      continue;
    }
    seen.add(item.source);
    items.push(item);
  }
  skipped.sort((a, b) => a.line - b.line);

  await writeIndexShard(store, bucket, runId, items.map((item) => ({ source: item.source, name: item.name, split: item.split, runId })));
  const index = await readDatasetIndex(store, bucket);
  const all = [...index.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const numClasses = classes.length;
  const problems: string[] = [];
  // Masks of earlier runs were checked by their run, and the class list only grows: decode this run's.
  await forEachLimited(items, 16, async (item) => {
    const problem = await maskProblem(store, s3Uri(bucket, dataset.mask(item.split, item.name)), numClasses);
    if (problem) problems.push(`${item.name}: ${problem}`);
  });
  problems.push(...await missingObjects(store, bucket, all));

  const numTrainingSamples = all.filter((i) => i.split === 'train').length;
  const numValidationSamples = all.length - numTrainingSamples;
  await writeChannelManifests(options.scratchStore, bucket, runId, all);
  const summary: ChannelSummary = {
    channels: s3Uri(bucket, run.channels),
    classes,
    numClasses,
    numTrainingSamples,
    numValidationSamples,
    converted: items.length,
    skipped: skipped.length,
    skippedItems: skipped.slice(0, MAX_SKIPS_IN_SUMMARY).map((s) => ({ line: s.line, source: s.source === null ? null : cut(s.source), reason: cut(s.reason) })),
    failedChunks: failed.length,
  };
  await store.write(s3Uri(bucket, `${run.prefix}conversion/report.json`), Buffer.from(`${JSON.stringify({ ...summary, skippedItems: skipped, items }, null, 1)}\n`), 'application/json');

  const failedPercent = options.chunks.length === 0 ? 0 : (100 * failed.length) / options.chunks.length;
  if (failedPercent > (options.maxFailedChunkPercent ?? 0)) {
    problems.push(`${failed.length} of ${options.chunks.length} conversion chunks failed, over conversion.maxFailedChunkPercent ${options.maxFailedChunkPercent ?? 0} (first: ${cut(failed[0].error)})`);
  }
  if (items.length === 0) problems.push(`no item of this run was converted (${skipped.length} skipped, first: ${cut(skipped[0]?.reason ?? 'none')}); nothing new to train on`);
  if (numClasses < 2) problems.push(`the dataset has ${numClasses} class; the algorithm needs at least 2 (the background and one label)`);
  if (numTrainingSamples < options.minTrainingSamples) problems.push(`the train channel holds ${numTrainingSamples} items; at least ${options.minTrainingSamples} are needed`);
  if (numValidationSamples === 0) problems.push('the validation channel is empty: add images, or raise split.validationFraction');
  if (problems.length > 0) {
    const distinct = [...new Set(problems)].sort();
    throw new ChannelCheckError(`the channels are not fit to train on (${distinct.length} problem${distinct.length === 1 ? '' : 's'}): ${distinct.slice(0, 10).join('; ')}`);
  }
  return summary;
}

/** The run's four channel manifests over `items` (of the dataset), in name order: four writes, whatever the dataset's size. */
export async function writeChannelManifests(store: Pick<ObjectStore, 'write'>, bucket: string, runId: string, items: readonly DatasetItem[]): Promise<void> {
  const dataset = datasetLayout();
  for (const channel of CHANNEL_NAMES) {
    const split = channel.startsWith('train') ? 'train' : 'validation';
    const extension = channel.endsWith('_annotation') ? 'png' : 'jpg';
    const keys = items.filter((item) => item.split === split).map((item) => `${item.name}.${extension}`);
    await store.write(s3Uri(bucket, runLayout(runId).channelManifest(channel)), Buffer.from(channelManifestJson({ prefix: s3Uri(bucket, dataset.channelPrefix(channel)), keys })), 'application/json');
  }
}

function cut(text: string): string {
  return plainText(text, MAX_TEXT_IN_SUMMARY);
}

/**
 * Items of the index whose image or mask is not in the dataset, found by listing its four channel
 * folders (a thousand keys a request) rather than asking for each object.
 */
async function missingObjects(store: ListingStore, bucket: string, items: readonly DatasetItem[]): Promise<string[]> {
  const dataset = datasetLayout();
  const present = new Set<string>();
  for (const channel of CHANNEL_NAMES) {
    for (const { key } of await store.list(bucket, dataset.channelPrefix(channel))) present.add(key);
  }
  const problems: string[] = [];
  for (const item of items) {
    if (!present.has(dataset.image(item.split, item.name))) problems.push(`${item.name}: image missing from the dataset`);
    if (!present.has(dataset.mask(item.split, item.name))) problems.push(`${item.name}: mask missing from the dataset`);
  }
  return problems;
}

/** Why a mask is not fit for the algorithm: missing, not 8-bit single-channel, or a value past the classes. */
async function maskProblem(store: ObjectStore, location: string, numClasses: number): Promise<string | undefined> {
  const mask = await store.read(location).catch(() => undefined);
  if (!mask) return 'mask missing from the dataset';
  const pixels = await readPngDirect(mask, Number.MAX_SAFE_INTEGER).catch(() => undefined);
  if (!pixels || pixels.channels !== 1 || pixels.palette) return 'mask is not an 8-bit single-channel PNG';
  const bad = pixels.data.find((v) => v >= numClasses && v !== 255);
  return bad === undefined ? undefined : `mask holds ${bad}, not a class index below ${numClasses} or 255`;
}
