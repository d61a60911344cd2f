import { ClassIndex } from '../convert/classes';
import { ConversionReport, ConvertedItem, SkippedItem, convertGroundTruthManifest } from '../convert/convert-manifest';
import { parseManifestLine, readManifestLines } from '../convert/manifest';
import { ObjectStore } from '../convert/object-store';
import { readPngDirect } from '../convert/png-reader';
import { forEachLimited } from '../common/concurrency';
import { datasetLayout, runLayout, s3Uri } from './layout';
import { VersionedStore, updateJson } from './versioned-json';

/** Lines per conversion chunk: one Lambda converts a chunk well within its 15 minutes (~40 items/s measured locally). */
export const DEFAULT_CHUNK_LINES = 2000;

export interface ConversionChunk {
  readonly index: number;
  readonly manifest: string;
  readonly first: number;
  readonly last: number;
}

export interface ConversionPlan {
  /** Class names in index order: the dataset's, then the configured, then new ones first-seen. */
  readonly classes: string[];
  readonly lines: number;
  readonly chunks: ConversionChunk[];
}

/**
 * Reads a Ground Truth output manifest once to fix the class order for the whole run (chunks then
 * agree whatever order they finish in) and to cut it into chunks of lines.
 */
export async function planConversion(options: {
  readonly store: VersionedStore;
  readonly bucket: string;
  readonly manifest: string;
  readonly configuredClasses: readonly string[];
  readonly chunkLines?: number;
}): Promise<ConversionPlan> {
  const chunkLines = options.chunkLines ?? DEFAULT_CHUNK_LINES;
  const dataset = datasetLayout();
  const classIndex = new ClassIndex(options.configuredClasses);
  let lastLine = 0;
  let stream;
  try {
    stream = await options.store.readStream(options.manifest);
  } catch (err) {
    throw new Error(`cannot read the manifest ${options.manifest}: ${(err as Error).message}`);
  }
  for await (const line of readManifestLines(stream)) {
    lastLine = line.lineNumber;
    if ('error' in line) continue;
    const parsed = parseManifestLine(line);
    if ('colourMap' in parsed) classIndex.indicesOf(parsed.colourMap);
  }
  // The dataset's order wins; classes it lacks are appended (configured first, then first-seen).
  const classes = await updateJson<string[]>(options.store, s3Uri(options.bucket, dataset.classes), [], (known) =>
    known.length === 0 ? [...classIndex.classes] : [...known, ...classIndex.classes.slice(1).filter((c) => !known.includes(c))]);
  const chunks: ConversionChunk[] = [];
  for (let first = 1; first <= lastLine; first += chunkLines) {
    chunks.push({ index: chunks.length, manifest: options.manifest, first, last: Math.min(lastLine, first + chunkLines - 1) });
  }
  return { classes, lines: lastLine, chunks };
}

export interface ChunkSummary {
  readonly index: number;
  readonly converted: number;
  readonly skipped: number;
}

/** Converts one chunk of the manifest into the dataset; its report goes under the run. */
export async function convertChunk(options: {
  readonly sources: ObjectStore;
  readonly output: ObjectStore;
  readonly bucket: string;
  readonly runId: string;
  readonly chunk: ConversionChunk;
  readonly classes: readonly string[];
  readonly validationFraction: number;
  readonly seed: string;
}): Promise<ChunkSummary> {
  const { chunk } = options;
  const report = await convertGroundTruthManifest({
    manifest: chunk.manifest,
    out: s3Uri(options.bucket, datasetLayout().prefix.replace(/\/$/, '')),
    stores: { manifest: options.sources, sources: options.sources, output: options.output },
    classes: options.classes.slice(1),
    validationFraction: options.validationFraction,
    seed: options.seed,
    lines: { first: chunk.first, last: chunk.last },
    reportLocation: s3Uri(options.bucket, runLayout(options.runId).conversionReport(chunk.index)),
  });
  return { index: chunk.index, converted: report.counts.converted, skipped: report.counts.skipped };
}

/** An item of the dataset and the run that added it: the dataset's lineage. */
export interface DatasetItem {
  readonly source: string;
  readonly name: string;
  readonly split: 'train' | 'validation';
  readonly runId: string;
}

export interface ChannelSummary {
  readonly channels: string;
  readonly classes: readonly string[];
  readonly numClasses: number;
  readonly numTrainingSamples: number;
  readonly numValidationSamples: number;
  readonly converted: number;
  readonly skipped: number;
  /** The first skipped items, for the notification; the run report has them all. */
  readonly skippedItems: readonly SkippedItem[];
}

/** Thrown when the channels are not fit to train on; the workflow stops before any GPU is paid for. */
export class ChannelCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelCheckError';
  }
}

const MAX_SKIPS_IN_SUMMARY = 10;

/**
 * Merges the chunks' reports into the run's conversion report, adds the run's items to the dataset,
 * copies the whole dataset into the run's channels (the exact input of its training job), and checks
 * them: every image has its mask, masks are 8-bit single-channel with values below `num_classes` or
 * 255, both splits hold items, and training has at least `minTrainingSamples`.
 */
export async function assembleChannels(options: {
  readonly store: VersionedStore;
  /** Writes the channel copies, tagged as scratch data. */
  readonly scratchStore: ObjectStore;
  readonly bucket: string;
  readonly runId: string;
  readonly chunks: number;
  readonly minTrainingSamples: number;
}): Promise<ChannelSummary> {
  const { store, bucket, runId } = options;
  const run = runLayout(runId);
  const dataset = datasetLayout();
  const classes = JSON.parse((await store.read(s3Uri(bucket, dataset.classes))).toString('utf8')) as string[];
  const reports: ConversionReport[] = [];
  for (let index = 0; index < options.chunks; index++) {
    reports.push(JSON.parse((await store.read(s3Uri(bucket, run.conversionReport(index)))).toString('utf8')));
  }
  const seen = new Set<string>();
  const items: ConvertedItem[] = [];
  const skipped: SkippedItem[] = reports.flatMap((r) => r.skipped);
  for (const item of reports.flatMap((r) => r.items)) {
    if (seen.has(item.source)) {
      skipped.push({ line: 0, source: item.source, reason: 'duplicate of an earlier line' });
      continue;
    }
    seen.add(item.source);
    items.push(item);
  }
  skipped.sort((a, b) => a.line - b.line);

  const all = await updateJson<DatasetItem[]>(store, s3Uri(bucket, dataset.items), [], (known) => {
    const byName = new Map(known.map((item) => [item.name, item]));
    for (const item of items) byName.set(item.name, { source: item.source, name: item.name, split: item.split, runId });
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  });

  const numClasses = classes.length;
  const problems: string[] = [];
  const convertedNow = new Set(items.map((item) => item.name));
  await forEachLimited(all, 16, async (item) => {
    const image = s3Uri(bucket, dataset.image(item.split, item.name));
    const mask = s3Uri(bucket, dataset.mask(item.split, item.name));
    // Masks of earlier runs were checked by their run, and the class list only grows: check this run's.
    if (convertedNow.has(item.name)) {
      const problem = await maskProblem(store, mask, numClasses);
      if (problem) {
        problems.push(`${item.name}: ${problem}`);
        return;
      }
    }
    try {
      await options.scratchStore.copyFrom(store, image, s3Uri(bucket, `${run.channel(item.split)}${item.name}.jpg`), 'image/jpeg');
      await options.scratchStore.copyFrom(store, mask, s3Uri(bucket, `${run.channel(`${item.split}_annotation`)}${item.name}.png`), 'image/png');
    } catch (err) {
      problems.push(`${item.name}: ${(err as Error).message}`);
    }
  });

  const numTrainingSamples = all.filter((i) => i.split === 'train').length;
  const numValidationSamples = all.length - numTrainingSamples;
  const summary: ChannelSummary = {
    channels: s3Uri(bucket, run.channels),
    classes,
    numClasses,
    numTrainingSamples,
    numValidationSamples,
    converted: items.length,
    skipped: skipped.length,
    skippedItems: skipped.slice(0, MAX_SKIPS_IN_SUMMARY),
  };
  await store.write(s3Uri(bucket, `${run.prefix}conversion/report.json`), Buffer.from(`${JSON.stringify({ ...summary, skippedItems: skipped, items }, null, 1)}\n`), 'application/json');

  if (items.length === 0) problems.push(`no item of this run was converted (${skipped.length} skipped, first: ${skipped[0]?.reason ?? 'none'}); nothing new to train on`);
  if (numClasses < 2) problems.push(`the dataset has ${numClasses} class; the algorithm needs at least 2 (the background and one label)`);
  if (numTrainingSamples < options.minTrainingSamples) problems.push(`the train channel holds ${numTrainingSamples} items; at least ${options.minTrainingSamples} are needed`);
  if (numValidationSamples === 0) problems.push('the validation channel is empty: add images, or raise split.validationFraction');
  if (problems.length > 0) {
    problems.sort();
    throw new ChannelCheckError(`the channels are not fit to train on (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.slice(0, 10).join('; ')}`);
  }
  return summary;
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
