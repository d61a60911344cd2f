// @ts-nocheck
import { createHash } from 'node:crypto';
import { forEachLimited } from '../common/concurrency';
import { CONFIG_DEFAULTS } from '../common/defaults';
import { plainText } from '../common/untrusted-text';
import { MAX_CLASSES } from '../convert/classes';
import { encodeClassIndexPng } from '../convert/codecs/mask';
import { readPngDirect } from '../convert/codecs/png-reader';
import { convertExport } from '../convert/conversion/convert-export';
import { type ConversionReport, type ConvertedItem, duplicatesAcrossSplits, type SkippedItem } from '../convert/conversion/report';
import { type ExportSurvey, surveyExport } from '../convert/conversion/survey';
import { type OpenedExport, openExport } from '../convert/export-input';
import { isBackgroundName } from '../convert/export-item';
import type { NameScope } from '../convert/naming';
import type { ObjectStore } from '../convert/stores/object-store';
import { AllowListedStore, checkSource, type SourceAllowList } from '../convert/stores/source-allow-list';
import { readLabelStudioFiles } from '../labelstudio/run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX } from '../labelstudio/storage-layout';
import { channelManifestJson } from './channel-manifest';
import { type DatasetItem, itemIdentity, readDatasetIndex, writeIndexShard } from './dataset-index';
import { CHANNEL_NAMES, datasetLayout, datasetLayoutUnder, IMAGES_PREFIX, runLayout, s3Uri } from './layout';
import { removeStaging } from './staging';
import { type ListingStore, readJson, updateJson, type VersionedStore } from './versioned-json';

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

/** The run's class list, written once by its plan; chunks check they read the very version planned. */
export interface ClassListRef {
  readonly location: string;
  /** The first 16 hex digits of the list's SHA-256. */
  readonly version: string;
  readonly count: number;
}

export interface ConversionPlan {
  /** The export, read where it is. */
  readonly export: string;
  /** The export's ETag when planned: every chunk converts that version or fails. */
  readonly exportVersion: string;
  readonly format: string;
  /**
   * Class names in index order (the dataset's, then the configured, then the export's new ones), as an
   * S3 location: a list of up to 254 long names would crowd the execution state.
   */
  readonly classes: ClassListRef;
  readonly entries: number;
  readonly chunks: ConversionChunk[];
}

/** The export cannot be converted into the dataset at all; nothing was written. */
export class ConversionPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConversionPlanError';
  }
}

/** Where and how the workflow's conversion Lambdas read an export. */
export interface ExportLocation {
  /** The export: a Ground Truth or Lookout for Vision manifest, a COCO or Label Studio JSON, a CVAT or VOC zip. */
  readonly export: string;
  /** The batch whose `images/<batch>/` holds the images the export names but does not contain. */
  readonly batch?: string;
  readonly inboxBucket?: string;
  /** A Label Studio run's labeling round: only its tasks are read from the target storage's files. @default - any */
  readonly labelStudioRound?: string;
  /**
   * A Label Studio run's own list of target-storage files (`labelStudioFilesKey`, written by the run:
   * its round's files, or a corrections run's): only those are read. @default - every file of the target storage
   */
  readonly labelStudioFiles?: string;
  /** The run, whose own list `labelStudioFiles` must be. */
  readonly runId: string;
  /** The artifacts bucket, where the run's list is. */
  readonly bucket: string;
  /** What the run may read (`sourceAllowList`): the export and every address it names are checked against it first. */
  readonly allowList: SourceAllowList;
}

/**
 * Opens an export on S3 (a zip is read in place with ranged GETs), images looked for in the batch too;
 * every read, of the export and of what it names, only under the run's allow-list.
 */
async function openWorkflowExport(store: ObjectStore, location: ExportLocation): Promise<OpenedExport> {
  const sources = new AllowListedStore(store, location.allowList);
  const fallbackImages =
    location.batch !== undefined && location.inboxBucket ? s3Uri(location.inboxBucket, `${IMAGES_PREFIX}${location.batch}/`) : undefined;
  // The target storage's files of a Label Studio run: only the batch's tasks are read, the others reported.
  const labelStudio =
    location.batch !== undefined && location.inboxBucket && location.export === s3Uri(location.inboxBucket, LABELSTUDIO_ANNOTATIONS_PREFIX)
      ? { batch: location.batch, ...(location.labelStudioRound ? { generation: location.labelStudioRound } : {}) }
      : undefined;
  const labelStudioFiles =
    labelStudio && location.labelStudioFiles
      ? await readLabelStudioFiles(store, location.bucket, location.runId, location.labelStudioFiles)
      : undefined;
  return openExport({ input: location.export, local: sources, s3: sources, sources, fallbackImages, labelStudio, labelStudioFiles });
}

/**
 * Reads the export once to fix the class order for the whole run (chunks then agree whatever order
 * they finish in) and to cut its entries into chunks.
 */
export async function planConversion(
  options: ExportLocation & {
    readonly store: VersionedStore;
    readonly bucket: string;
    readonly runId: string;
    readonly configuredClasses: readonly string[];
    readonly chunkEntries?: number;
  },
): Promise<ConversionPlan> {
  // The dataset's list only grows (at a commit), so the classes it holds now keep their indices.
  const known = await readJson<string[]>(options.store, s3Uri(options.bucket, datasetLayout().classes), []);
  const configured = [...known.slice(1), ...options.configuredClasses.filter((c) => !known.includes(c))];
  const exportVersion = await exportEtag(options.store, options);
  const opened = await openWorkflowExport(options.store, options);
  let survey: ExportSurvey;
  let chunks: ConversionChunk[];
  try {
    // Every class the export declares needs a place in the masks before any is painted: an export
    // that declares more than fit is refused whole, before anything is written.
    const declared = (await opened.reader.declaredClasses()).filter((c) => !c.background && !isBackgroundName(c.name)).map((c) => c.name);
    const candidates = new Set([...configured, ...declared]);
    if (candidates.size > MAX_CLASSES - 1) {
      throw new ConversionPlanError(
        `the export declares ${declared.length} classes; with the dataset's ${Math.max(known.length - 1, 0)} and the configured ones that is ${candidates.size} besides the background, and the algorithm takes at most ${MAX_CLASSES - 1}: nothing was converted`,
      );
    }
    survey = await surveyExport(opened.reader, configured, chunkNames(options));
    chunks = cutIntoChunks(
      survey.lastEntry,
      Math.max(options.chunkEntries ?? CONFIG_DEFAULTS.conversion.chunkEntries, Math.ceil(survey.lastEntry / MAX_CHUNKS)),
    );
    await writeChunkIndexes(
      options.store,
      options.bucket,
      options.runId,
      exportVersion,
      chunks,
      survey,
      await opened.reader.slicing?.slicesOf(chunks),
    );
  } finally {
    opened.close();
  }
  const classes = known.length === 0 ? survey.classes : [known[0], ...survey.classes.slice(1)];
  const classList = await writeClassList(options.store, s3Uri(options.bucket, runLayout(options.runId).conversionClasses), classes);
  // Read again after the survey: an export rewritten while it was read is refused, not half planned.
  if ((await exportEtag(options.store, options)) !== exportVersion) throw new ExportChangedError(options.export);
  return { export: options.export, exportVersion, format: opened.reader.format, classes: classList, entries: survey.lastEntry, chunks };
}

function cutIntoChunks(entries: number, chunkEntries: number): ConversionChunk[] {
  const chunks: ConversionChunk[] = [];
  for (let first = 1; first <= entries; first += chunkEntries)
    chunks.push({ index: chunks.length, first, last: Math.min(entries, first + chunkEntries - 1) });
  return chunks;
}

/** The output names of a run's items: its batch, and a tag of the run. */
function chunkNames(options: { readonly batch?: string; readonly runId: string }): NameScope {
  return { namespace: options.batch ?? '', suffix: runTag(options.runId) };
}

/**
 * What one chunk reads, written once by the plan (the execution state carries only the chunk's
 * range): where its share lies in the export (a reader's slice: byte positions, or COCO's images
 * gathered with their annotations), and the entries of its range that the whole export's reading
 * found to be duplicates.
 */
interface ChunkIndex {
  /** The export's ETag the plan read: the index describes that version only. */
  readonly exportVersion: string;
  readonly duplicates: readonly (readonly [number, string])[];
  /** @default - none: the reader has no slices, and the chunk reads from the export's start */
  readonly slice?: unknown;
}

async function writeChunkIndexes(
  store: ObjectStore,
  bucket: string,
  runId: string,
  exportVersion: string,
  chunks: readonly ConversionChunk[],
  survey: ExportSurvey,
  slices: readonly unknown[] | undefined,
): Promise<void> {
  // Chunks are of one size but the last: a duplicate's chunk follows from its position.
  const size = chunks.length === 0 ? 1 : chunks[0].last - chunks[0].first + 1;
  const duplicatesOf = chunks.map((): [number, string][] => []);
  for (const [line, reason] of survey.duplicates) duplicatesOf[Math.floor((line - 1) / size)].push([line, reason]);
  await forEachLimited(chunks, 16, async (chunk) => {
    const index: ChunkIndex = {
      exportVersion,
      duplicates: duplicatesOf[chunk.index],
      ...(slices ? { slice: slices[chunk.index] } : {}),
    };
    await store.write(s3Uri(bucket, runLayout(runId).conversionIndex(chunk.index)), Buffer.from(JSON.stringify(index)), 'application/json');
  });
}

/**
 * The chunk's index, or `undefined` when its plan wrote none (a run planned before chunk indexes
 * existed, in flight across a deploy): such a chunk reads the export from its start.
 */
async function readChunkIndex(
  store: ObjectStore,
  options: {
    readonly bucket: string;
    readonly runId: string;
    readonly chunk: ConversionChunk;
    readonly export: string;
    readonly exportVersion: string;
  },
): Promise<ChunkIndex | undefined> {
  const location = s3Uri(options.bucket, runLayout(options.runId).conversionIndex(options.chunk.index));
  if ((await store.readStart(location, 1)) === undefined) return undefined;
  const index = JSON.parse((await store.read(location)).toString('utf8')) as ChunkIndex;
  if (index.exportVersion !== options.exportVersion) throw new ExportChangedError(options.export);
  return index;
}

/** The export was written again between the plan and a chunk: its entries, classes and positions may differ. */
export class ExportChangedError extends Error {
  constructor(location: string) {
    super(`${location} changed while this run converted it (uploaded again?): its next upload starts a run of its own`);
    this.name = 'ExportChangedError';
  }
}

/** The export's ETag, read only where the run may read (a folder export, which has none, is `''`). */
async function exportEtag(store: VersionedStore, location: ExportLocation): Promise<string> {
  checkSource(location.export, location.allowList);
  return (await store.etagOf(location.export)) ?? '';
}

function classListVersion(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

export async function writeClassList(store: ObjectStore, location: string, classes: readonly string[]): Promise<ClassListRef> {
  const body = Buffer.from(`${JSON.stringify(classes)}\n`);
  await store.write(location, body, 'application/json');
  return { location, version: classListVersion(body), count: classes.length };
}

/** The run's class list, refused unless it is the version its plan wrote. */
export async function readClassList(store: ObjectStore, ref: ClassListRef): Promise<string[]> {
  const body = await store.read(ref.location);
  if (classListVersion(body) !== ref.version)
    throw new Error(`${ref.location} is not the class list this run planned (version ${ref.version}): it changed since`);
  return JSON.parse(body.toString('utf8')) as string[];
}

export interface ChunkSummary {
  readonly index: number;
  readonly converted: number;
  readonly skipped: number;
}

/** A chunk whose Lambda failed (caught in the map, so that other chunks go on); its entries are reported skipped. */
export interface FailedChunk extends ConversionChunk {
  /** The error's name (its cause stays in the chunk Lambda's log, out of the execution state). */
  readonly error: string;
  readonly cause?: string;
}

export type ChunkResult = ChunkSummary | FailedChunk;

/**
 * A run's tag in the names of the objects it adds to the dataset: a run writes only objects no
 * other run wrote, so nothing it does before its index entry can change what the dataset holds.
 */
export function runTag(runId: string): string {
  return createHash('sha256').update(runId).digest('hex').slice(0, 8);
}

/** Converts one chunk of the export into the run's staging area; its report goes under the run. */
export async function convertChunk(
  options: ExportLocation & {
    readonly store: VersionedStore;
    readonly bucket: string;
    readonly runId: string;
    readonly chunk: ConversionChunk;
    readonly classes: ClassListRef;
    /** The export's ETag the plan read (`ConversionPlan.exportVersion`). */
    readonly exportVersion: string;
    readonly validationFraction: number;
    readonly seed: string;
  },
): Promise<ChunkSummary> {
  const { chunk } = options;
  const classes = await readClassList(options.store, options.classes);
  if ((await exportEtag(options.store, options)) !== options.exportVersion) throw new ExportChangedError(options.export);
  const index = await readChunkIndex(options.store, options);
  const opened = await openWorkflowExport(options.store, options);
  try {
    const { slicing } = opened.reader;
    const report = await convertExport({
      // Only the chunk's share is read when the reader can (a slice); otherwise the export from its start.
      reader: slicing && index?.slice !== undefined ? slicing.readerOf(index.slice) : opened.reader,
      knownSkips: new Map(index?.duplicates ?? []),
      out: s3Uri(options.bucket, runLayout(options.runId).staging.replace(/\/$/, '')),
      output: options.store,
      classes: classes.slice(1),
      names: chunkNames(options),
      validationFraction: options.validationFraction,
      seed: options.seed,
      range: { first: chunk.first, last: chunk.last },
      reportLocation: s3Uri(options.bucket, runLayout(options.runId).conversionReport(chunk.index)),
    });
    // The version read to the end is the one planned, or the chunk's items are not this run's.
    if ((await exportEtag(options.store, options)) !== options.exportVersion) throw new ExportChangedError(options.export);
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
  /** Images of this run whose bytes are in both splits (the run's conversion report lists them). */
  readonly duplicatesAcrossSplits: number;
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

/** The conversion Lambdas' reports merged: the run's items, each source once, and every skip with its reason. */
async function mergeChunkReports(
  store: ObjectStore,
  bucket: string,
  runId: string,
  chunks: readonly ChunkResult[],
): Promise<{ items: ConvertedItem[]; skipped: SkippedItem[]; failed: FailedChunk[] }> {
  const run = runLayout(runId);
  const reports: ConversionReport[] = [];
  const skipped: SkippedItem[] = [];
  const failed = chunks.filter((chunk): chunk is FailedChunk => 'error' in chunk);
  for (const chunk of chunks) {
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
  return { items, skipped, failed };
}

/** Longest class name the dataset takes, as `labelClasses` allows. */
const MAX_CLASS_NAME_LENGTH = 256;

/** Why a class name may not join the dataset's list, if it may not. */
export function classNameProblem(name: string): string | undefined {
  if (name.length > MAX_CLASS_NAME_LENGTH)
    return `class name ${cut(name)} is ${name.length} characters long; at most ${MAX_CLASS_NAME_LENGTH}`;
  // Letters of any script and printable ASCII; no control, format or separator characters.
  if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u.test(name) || name.trim() !== name)
    return `class name ${cut(name)} is not printable text without leading or trailing spaces`;
  return undefined;
}

/** The dataset's class list with a run's new classes appended, or why they do not fit. */
export function withNewClasses(known: readonly string[], runClasses: readonly string[], added: readonly string[]): string[] {
  const list = known.length === 0 ? [runClasses[0]] : [...known];
  for (const name of added) if (!list.includes(name)) list.push(name);
  if (list.length > MAX_CLASSES)
    throw new ChannelCheckError(
      `the dataset's class list would hold ${list.length} classes; the algorithm takes at most ${MAX_CLASSES}: nothing of this run was added`,
    );
  return list;
}

/**
 * Stage, check, commit. The chunks converted the run's items into its staging area; this merges their
 * reports, checks what they wrote (every mask 8-bit single-channel with values below the run's class
 * count or 255, every image and mask present, both splits holding items once the run's are added,
 * at least `minTrainingSamples` to train on, the class list within what the algorithm takes, new
 * class names printable and bounded), and only then commits: the classes the run's items contain join
 * the dataset's list, the items are copied into the dataset under names no other run wrote (masks
 * re-indexed when a concurrent run took a new class's index first), and the run's index shard is
 * written last. A run that fails before that shard leaves the dataset's items as they were. Then the
 * run's four channel manifests are written over the whole dataset (the exact input of its training
 * job; no object is copied for it).
 */
export async function assembleChannels(options: {
  readonly store: VersionedStore & ListingStore;
  /** Writes the channel manifests, tagged as scratch data. */
  readonly scratchStore: ObjectStore;
  readonly bucket: string;
  readonly runId: string;
  /** The run's batch (`''` or absent for a run started by hand). */
  readonly batch?: string;
  readonly chunks: readonly ChunkResult[];
  /** The run's class list, as its plan wrote it. */
  readonly classes: ClassListRef;
  /**
   * Classes that join the dataset's list whether or not an item holds them (`labelClasses`).
   * @default - none
   */
  readonly configuredClasses?: readonly string[];
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
  const runClasses = await readClassList(store, options.classes);
  const { items, skipped, failed } = await mergeChunkReports(store, bucket, runId, options.chunks);
  const entries: DatasetItem[] = items.map((item) => ({
    source: item.source,
    name: item.name,
    split: item.split,
    runId,
    batch: options.batch ?? '',
  }));

  // The check, on the staging area: nothing is written to the dataset before it passes.
  const problems: string[] = [];
  const failedPercent = options.chunks.length === 0 ? 0 : (100 * failed.length) / options.chunks.length;
  const maxFailedPercent = options.maxFailedChunkPercent ?? CONFIG_DEFAULTS.conversion.maxFailedChunkPercent;
  if (failedPercent > maxFailedPercent) {
    problems.push(
      `${failed.length} of ${options.chunks.length} conversion chunks failed, over conversion.maxFailedChunkPercent ${maxFailedPercent} (first: ${cut(failed[0].error)})`,
    );
  }
  if (items.length === 0)
    problems.push(
      `no item of this run was converted (${skipped.length} skipped, first: ${cut(skipped[0]?.reason ?? 'none')}); nothing new to train on`,
    );
  const stagingLayout = datasetLayoutUnder(run.staging);
  await forEachLimited(items, 16, async (item) => {
    const problem = await maskProblem(store, s3Uri(bucket, stagingLayout.mask(item.split, item.name)), runClasses.length);
    if (problem) problems.push(`${item.name}: ${problem}`);
  });
  problems.push(...(await missingObjects(store, bucket, run.staging, entries)));
  const contained = new Set(
    items.flatMap((item) =>
      Object.entries(item.pixelsPerClass)
        .filter(([, pixels]) => pixels > 0)
        .map(([name]) => name),
    ),
  );
  const configured = new Set(options.configuredClasses ?? []);
  const joining = runClasses.slice(1).filter((name) => contained.has(name) || configured.has(name));
  for (const name of joining) {
    const problem = classNameProblem(name);
    if (problem) problems.push(problem);
  }
  const known = await readJson<string[]>(store, s3Uri(bucket, dataset.classes), []);
  let planned: string[] = [];
  try {
    planned = withNewClasses(known, runClasses, joining);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const before = await readDatasetIndex(store, bucket);
  problems.push(...(await missingObjects(store, bucket, dataset.prefix, [...before.values()])));
  const after = new Map(before);
  for (const entry of entries) after.set(itemIdentity(entry), entry);
  const trainAfter = [...after.values()].filter((i) => i.split === 'train').length;
  if (planned.length > 0 && planned.length < 2)
    problems.push(`the dataset has ${planned.length} class; the algorithm needs at least 2 (the background and one label)`);
  if (trainAfter < options.minTrainingSamples)
    problems.push(`the train channel would hold ${trainAfter} items; at least ${options.minTrainingSamples} are needed`);
  if (after.size - trainAfter === 0) problems.push('the validation channel would be empty: add images, or raise split.validationFraction');

  // Across the run's chunks, which each saw only their own items.
  const duplicates = duplicatesAcrossSplits(items.filter((item) => item.imageSha256 !== undefined));
  const reportOf = (summary: Omit<ChannelSummary, 'skippedItems'>) =>
    store.write(
      s3Uri(bucket, `${run.prefix}conversion/report.json`),
      Buffer.from(`${JSON.stringify({ ...summary, skippedItems: skipped, duplicates, items }, null, 1)}\n`),
      'application/json',
    );
  const counts = {
    converted: items.length,
    skipped: skipped.length,
    failedChunks: failed.length,
    duplicatesAcrossSplits: duplicates.length,
  };
  if (problems.length > 0) {
    await reportOf({
      channels: s3Uri(bucket, run.channels),
      classes: planned,
      numClasses: planned.length,
      numTrainingSamples: trainAfter,
      numValidationSamples: after.size - trainAfter,
      ...counts,
    });
    const distinct = [...new Set(problems)].sort();
    throw new ChannelCheckError(
      `the channels are not fit to train on (${distinct.length} problem${distinct.length === 1 ? '' : 's'}): ${distinct.slice(0, 10).join('; ')}`,
    );
  }

  await commitRun(store, bucket, runId, { runClasses, joining, items, entries });

  // Read after the commit, the index before the classes: every item listed was committed with classes the list already holds.
  const all = [...(await readDatasetIndex(store, bucket)).values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const classes = await readJson<string[]>(store, s3Uri(bucket, dataset.classes), []);
  const numTrainingSamples = all.filter((i) => i.split === 'train').length;
  await writeChannelManifests(options.scratchStore, bucket, runId, all);
  const summary: ChannelSummary = {
    channels: s3Uri(bucket, run.channels),
    classes,
    numClasses: classes.length,
    numTrainingSamples,
    numValidationSamples: all.length - numTrainingSamples,
    ...counts,
    skippedItems: skipped
      .slice(0, MAX_SKIPS_IN_SUMMARY)
      .map((s) => ({ line: s.line, source: s.source === null ? null : cut(s.source), reason: cut(s.reason) })),
  };
  await reportOf(summary);
  return summary;
}

/**
 * Commits a checked run to the dataset: its classes into the list (a conditional write, so that a
 * concurrent run's new classes are kept), its staged objects into the dataset (masks re-indexed where
 * the list gave a class another index than the run's plan), its index shard last, then its staging
 * area removed.
 */
async function commitRun(
  store: VersionedStore & ListingStore,
  bucket: string,
  runId: string,
  run: {
    readonly runClasses: readonly string[];
    readonly joining: readonly string[];
    readonly items: readonly ConvertedItem[];
    readonly entries: readonly DatasetItem[];
  },
): Promise<void> {
  const dataset = datasetLayout();
  const staging = datasetLayoutUnder(runLayout(runId).staging);
  const classes = await updateJson<string[]>(store, s3Uri(bucket, dataset.classes), [], (known) =>
    withNewClasses(known, run.runClasses, run.joining),
  );
  const indexOf = run.runClasses.map((name, index) => (index === 0 ? 0 : classes.indexOf(name)));
  await forEachLimited(run.items, 16, async (item) => {
    await store.copyFrom(
      store,
      s3Uri(bucket, staging.image(item.split, item.name)),
      s3Uri(bucket, dataset.image(item.split, item.name)),
      'image/jpeg',
    );
    const from = s3Uri(bucket, staging.mask(item.split, item.name));
    const to = s3Uri(bucket, dataset.mask(item.split, item.name));
    const moved = run.runClasses.some((name, index) => (item.pixelsPerClass[name] ?? 0) > 0 && indexOf[index] !== index);
    if (!moved) {
      await store.copyFrom(store, from, to, 'image/png');
      return;
    }
    const mask = await readPngDirect(await store.read(from), Number.MAX_SAFE_INTEGER);
    if (!mask) throw new Error(`${from} is no longer a PNG`);
    const table = new Uint8Array(256).map((_, value) => (value < indexOf.length && indexOf[value] >= 0 ? indexOf[value] : value));
    await store.write(
      to,
      await encodeClassIndexPng(Buffer.from(mask.data.map((value) => table[value])), mask.width, mask.height),
      'image/png',
    );
  });
  await writeIndexShard(store, bucket, runId, run.entries);
  await removeStaging(store, bucket, runId);
}

/** The run's four channel manifests over `items` (of the dataset), in name order: four writes, whatever the dataset's size. */
export async function writeChannelManifests(
  store: Pick<ObjectStore, 'write'>,
  bucket: string,
  runId: string,
  items: readonly DatasetItem[],
): Promise<void> {
  const dataset = datasetLayout();
  for (const channel of CHANNEL_NAMES) {
    const split = channel.startsWith('train') ? 'train' : 'validation';
    const extension = channel.endsWith('_annotation') ? 'png' : 'jpg';
    const keys = items.filter((item) => item.split === split).map((item) => `${item.name}.${extension}`);
    await store.write(
      s3Uri(bucket, runLayout(runId).channelManifest(channel)),
      Buffer.from(channelManifestJson({ prefix: s3Uri(bucket, dataset.channelPrefix(channel)), keys })),
      'application/json',
    );
  }
}

function cut(text: string): string {
  return plainText(text, MAX_TEXT_IN_SUMMARY);
}

/**
 * Items whose image or mask is not under `prefix` (the dataset, or a run's staging area) in the
 * channel layout, found by listing its four channel folders (a thousand keys a request) rather than
 * asking for each object.
 */
async function missingObjects(store: ListingStore, bucket: string, prefix: string, items: readonly DatasetItem[]): Promise<string[]> {
  const layout = datasetLayoutUnder(prefix);
  const present = new Set<string>();
  for (const channel of CHANNEL_NAMES) {
    for (const { key } of await store.list(bucket, layout.channelPrefix(channel))) present.add(key);
  }
  const problems: string[] = [];
  for (const item of items) {
    if (!present.has(layout.image(item.split, item.name))) problems.push(`${item.name}: image missing`);
    if (!present.has(layout.mask(item.split, item.name))) problems.push(`${item.name}: mask missing`);
  }
  return problems;
}

/** Why a mask is not fit for the algorithm: missing, not 8-bit single-channel, or a value past the classes. */
async function maskProblem(store: ObjectStore, location: string, numClasses: number): Promise<string | undefined> {
  const mask = await store.read(location).catch(() => undefined);
  if (!mask) return 'mask missing';
  const pixels = await readPngDirect(mask, Number.MAX_SAFE_INTEGER).catch(() => undefined);
  if (pixels?.channels !== 1 || pixels.palette) return 'mask is not an 8-bit single-channel PNG';
  const bad = pixels.data.find((v) => v >= numClasses && v !== 255);
  return bad === undefined ? undefined : `mask holds ${bad}, not a class index below ${numClasses} or 255`;
}
