// @ts-nocheck
import { CONFIG_DEFAULTS, CONVERSION_CONCURRENCY } from '../../common/defaults';
import type { ClassIndex } from '../classes';
import type { ExportReader } from '../export-item';
import { ItemSkipped } from '../export-item';
import { cut, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MEMORY_BUDGET_BYTES, MemoryBudget } from '../limits';
import type { NameScope } from '../naming';
import { manifestReader } from '../readers/ground-truth';
import { ObjectNotFoundError, type ObjectStore, ReadRefusedError } from '../stores/object-store';
import { classIndexFor } from './class-indexing';
import { convertItem, type ItemLimits, type ItemResult } from './convert-item';
import { type EntrySkipped, type EntryToConvert, selectEntries } from './entries';
import {
  type ConversionReport,
  type ConvertedItem,
  MAX_REASON_CHARACTERS,
  REPORT_FILE,
  reportOf,
  type SkippedItem,
  writeConversionReport,
} from './report';
import { isSourceReadError } from './source-files';

export interface ConversionProgress {
  /** Items converted or skipped so far. */
  readonly done: number;
  /** Items read from the export so far (the total once `readAll`). */
  readonly seen: number;
  readonly readAll: boolean;
}

export interface ConvertExportOptions {
  /** The export, read by the reader of its format. */
  readonly reader: ExportReader;
  /** Location under which the channels and `report.json` are written. */
  readonly out: string;
  /** Writes the channels and the report. */
  readonly output: ObjectStore;
  /**
   * Share of items that go to validation.
   * @default 0.2
   */
  readonly validationFraction?: number;
  /**
   * Seed of the train/validation split.
   * @default 'segpipe'
   */
  readonly seed?: string;
  /**
   * Class names in index order after the background; classes not listed follow in the export's
   * declared order, then first-seen order. When the export declares more classes than the algorithm
   * takes, only these are trained and the others are ignored (255).
   * @default - the export's order
   */
  readonly classes?: readonly string[];
  /**
   * Items converted at once.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * Scale a mask whose size differs from its image's to the image's (nearest-neighbour) instead of skipping it.
   * @default false
   */
  readonly resizeMasks?: boolean;
  /**
   * Largest image or mask accepted, in pixels; larger declared sizes (decompression bombs) are skipped.
   * @default 67108864 (64 Mi pixels)
   */
  readonly maxPixels?: number;
  /**
   * Largest source file read, in bytes.
   * @default 268435456 (256 MiB)
   */
  readonly maxFileBytes?: number;
  /**
   * Bytes the items in flight may hold at once (see `MemoryBudget`); an item that needs more alone is skipped.
   * @default 805306368 (768 MiB)
   */
  readonly memoryBudgetBytes?: number;
  /**
   * Where the report is written.
   * @default - `<out>/report.json`
   */
  readonly reportLocation?: string;
  readonly onProgress?: (progress: ConversionProgress) => void;
  /**
   * Convert only the entries whose position in the export is `index` modulo `count`, so that `count`
   * threads share one export; every shard still reads all entries, so class order, duplicates and
   * names are decided as by one conversion. Merge the shards' reports with `mergeConversionReports`.
   * @default - the whole export
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /**
   * Convert only the entries at these positions (1-based, inclusive; lines, tasks, images), and stop
   * reading after `last`: the workflow converts a large export in chunks, one Lambda each. Entries
   * before `first` are still read, so that a duplicate of one of them is reported as one here, unless
   * the reader reads only a slice and `knownSkips` gives the duplicates.
   * @default - every entry
   */
  readonly range?: { readonly first: number; readonly last: number };
  /**
   * Entries skipped by decisions taken over the whole export, by position, with the reason: the
   * workflow's plan finds duplicates once, and a chunk reading only its share reports them.
   * @default - none
   */
  readonly knownSkips?: ReadonlyMap<number, string>;
  /**
   * Output names' namespace and suffix (the workflow's batch and run); the split depends on the source alone.
   * @default - names from the source alone
   */
  readonly names?: NameScope;
  /**
   * Write `report.json` (a shard's report is merged and written by the caller instead).
   * @default true
   */
  readonly writeReport?: boolean;
}

export interface ConvertGroundTruthManifestOptions extends Omit<ConvertExportOptions, 'reader' | 'output'> {
  /** Location of the Ground Truth (or Lookout for Vision) output manifest. */
  readonly manifest: string;
  readonly stores: ConversionStores;
  /**
   * The label attribute to read.
   * @default - the `-ref` attribute whose metadata type is semantic segmentation
   */
  readonly labelAttribute?: string;
}

export interface ConversionStores {
  /** Reads the manifest. */
  readonly manifest: ObjectStore;
  /** Reads the images and masks the manifest refers to. */
  readonly sources: ObjectStore;
  /** Writes the channels and the report. */
  readonly output: ObjectStore;
}

/** The options checked, their defaults filled in. */
interface Settings {
  readonly validationFraction: number;
  readonly seed: string;
  readonly concurrency: number;
  readonly limits: ItemLimits;
}

/** Converts a Ground Truth (or Lookout for Vision) output manifest: `convertExport` with its reader. */
export function convertGroundTruthManifest(options: ConvertGroundTruthManifestOptions): Promise<ConversionReport> {
  const { manifest, stores, labelAttribute, ...rest } = options;
  const reader = manifestReader({ manifest, manifestStore: stores.manifest, sources: stores.sources, labelAttribute });
  return convertExport({ ...rest, reader, output: stores.output });
}

/**
 * Converts a labeling export, read by the reader of its format, into the built-in algorithm's
 * channels: `<out>/{train,validation}/<name>.jpg`, `<out>/{train,validation}_annotation/<name>.png`
 * (8-bit single-channel class indices), and `<out>/report.json`. Bad items are reported and skipped;
 * sources are only read. Throws only when the export cannot be read or an output cannot be written.
 */
export async function convertExport(options: ConvertExportOptions): Promise<ConversionReport> {
  const settings = settingsOf(options);
  const { reader } = options;
  const classIndex = await classIndexFor(reader, options.classes ?? []);
  const { results, skipped, seen } = await convertEntries(
    selectEntries(reader, classIndex, {
      ...settings,
      shard: options.shard,
      range: options.range,
      names: options.names,
      knownSkips: options.knownSkips,
    }),
    settings,
    options,
  );
  const report = reportOf(
    reader,
    [...classIndex.classes],
    settings.validationFraction,
    settings.seed,
    seen,
    namedByClass(results, classIndex),
    skipped.sort((a, b) => a.line - b.line),
  );
  if (options.writeReport ?? true)
    await writeConversionReport(options.output, options.reportLocation ?? options.output.join(options.out, REPORT_FILE), report);
  return report;
}

/** Checks the options (every bad one before anything is read) and fills in their defaults. */
function settingsOf(options: ConvertExportOptions): Settings {
  const validationFraction = options.validationFraction ?? CONFIG_DEFAULTS.split.validationFraction;
  const seed = options.seed ?? CONFIG_DEFAULTS.split.seed;
  const concurrency = options.concurrency ?? CONVERSION_CONCURRENCY;
  const limits: ItemLimits = {
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    budget: new MemoryBudget(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES),
  };
  if (!(validationFraction > 0 && validationFraction < 1))
    throw new Error(`validation fraction must be between 0 and 1 (exclusive), received ${validationFraction}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, received ${concurrency}`);
  const { shard } = options;
  if (
    shard &&
    !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)
  ) {
    throw new Error(`shard ${shard.index} of ${shard.count} is not one of 0..count-1`);
  }
  return { validationFraction, seed, concurrency, limits };
}

/**
 * Converts the entries with `concurrency` workers pulling from one queue (entries are read in order,
 * items converted concurrently); an item that cannot be converted is skipped with its reason.
 */
async function convertEntries(
  entries: AsyncGenerator<EntryToConvert | EntrySkipped>,
  settings: Settings,
  options: ConvertExportOptions,
): Promise<{ results: ItemResult[]; skipped: SkippedItem[]; seen: number }> {
  const results: ItemResult[] = [];
  const skipped: SkippedItem[] = [];
  let seen = 0;
  let done = 0;
  let readAll = false;
  const progress = () => options.onProgress?.({ done, seen, readAll });
  const skip = ({ line, source, reason }: EntrySkipped) => {
    // Uploaded text is cut: a reason quotes names and messages, and a source can be megabytes.
    skipped.push({ line, source: source === null ? null : cut(source), reason: cut(reason, MAX_REASON_CHARACTERS) });
    done += 1;
    progress();
  };
  const next = async (): Promise<EntryToConvert | undefined> => {
    for (let entry = await entries.next(); !entry.done; entry = await entries.next()) {
      seen += 1;
      if ('item' in entry.value) return entry.value;
      skip(entry.value);
    }
    if (!readAll) {
      readAll = true;
      progress();
    }
    return undefined;
  };
  const worker = async () => {
    for (let entry = await next(); entry; entry = await next()) {
      const { item, mask, name, split } = entry;
      const result = await convertItem(item, mask, name, split, options, settings.limits).catch(skipReason);
      if (typeof result === 'string') {
        skip({ line: item.line, source: item.source, reason: result });
      } else {
        results.push(result);
        done += 1;
        progress();
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  return { results, skipped, seen };
}

/** Why an item is skipped, for the errors that concern that item alone; any other is rethrown. */
function skipReason(err: unknown): string {
  if (err instanceof ItemSkipped) return err.message;
  if (err instanceof ObjectNotFoundError) return err.message;
  if (err instanceof ReadRefusedError) return err.message;
  if (isSourceReadError(err)) return `cannot read a source: ${(err as Error).message}`;
  throw err;
}

/** The converted items in export order, their pixels counted by class name. */
function namedByClass(results: readonly ItemResult[], classIndex: ClassIndex): ConvertedItem[] {
  const classes = [...classIndex.classes];
  return results
    .map(({ pixelsPerIndex, ...item }) => ({
      ...item,
      pixelsPerClass: Object.fromEntries(classes.map((name, index) => [name, pixelsPerIndex[index]])),
    }))
    .sort((a, b) => a.line - b.line);
}
