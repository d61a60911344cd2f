// @ts-nocheck
import type { ExportFormat, ExportReader } from '../export-item';
import type { Split } from '../naming';
import type { ObjectStore } from '../stores/object-store';

export const REPORT_FILE = 'report.json';

/** Characters of a skip's reason kept in the report (reasons quote uploaded names and messages). */
export const MAX_REASON_CHARACTERS = 1000;
/** Share of the labelled (not background) pixels whose colour no class has, above which a conversion warns. */
const UNKNOWN_PIXELS_WARNING_SHARE = 0.01;

export interface ConvertedItem {
  /** Position in the export: manifest line, task or image number. */
  readonly line: number;
  /** The image reference exactly as the export wrote it. */
  readonly source: string;
  /** Output file stem: `<name>.jpg` and `<name>.png`. */
  readonly name: string;
  readonly split: Split;
  readonly width: number;
  readonly height: number;
  /** `copied` byte for byte, or `re-encoded` (PNG source, EXIF rotation, CMYK). */
  readonly image: 'copied' | 're-encoded';
  readonly pixelsPerClass: Record<string, number>;
  /** Pixels written as 255 (ignored by the algorithm): of a colour no class has, or ignored on purpose. */
  readonly ignoredPixels: number;
  /** Of `ignoredPixels`, those of a colour (or value) that no class of the export has; absent when none. */
  readonly unknownPixels?: number;
  /** Shapes of the item that were not painted, by reason (rectangles, unknown categories). */
  readonly notPainted?: Readonly<Record<string, number>>;
  /** SHA-256 of the source image's bytes: the same photo under two names has one. */
  readonly imageSha256: string;
}

/** Images of the same bytes in both splits: the validation score counts as unseen what training saw. */
export interface DuplicateAcrossSplits {
  readonly imageSha256: string;
  /** The sources of the copies in each split, as the export wrote them. */
  readonly train: readonly string[];
  readonly validation: readonly string[];
}

export interface SkippedItem {
  /** Position in the export: manifest line, task or image number. */
  readonly line: number;
  /** The image reference as the export wrote it; `null` when the entry has none. */
  readonly source: string | null;
  readonly reason: string;
}

export interface ConversionReport {
  /** The export read, and its format. */
  readonly input: string;
  readonly format: ExportFormat;
  /** Class names in index order, spelled as in the export or the configured classes. */
  readonly classes: readonly string[];
  readonly validationFraction: number;
  readonly seed: string;
  readonly counts: {
    /** Entries read: manifest lines, tasks, images. */
    readonly lines: number;
    readonly converted: number;
    readonly skipped: number;
    readonly train: number;
    readonly validation: number;
    readonly imagesCopied: number;
    readonly imagesReencoded: number;
    readonly ignoredPixels: number;
    /** Labelled pixels of a colour no class has (a wrong or missing label map), over all items. */
    readonly unknownPixels: number;
    /** Shapes not painted (not segmentation, unknown category), over all items. */
    readonly shapesNotPainted: number;
    /** Images whose bytes are in both splits (each counted once). */
    readonly duplicatesAcrossSplits: number;
  };
  readonly duplicatesAcrossSplits: readonly DuplicateAcrossSplits[];
  readonly items: readonly ConvertedItem[];
  readonly skipped: readonly SkippedItem[];
  /** What the conversion did that the user must know (most labelled pixels ignored); absent when nothing. */
  readonly warnings?: readonly string[];
}

/** The report of a conversion (or of one shard or chunk), its counts made from its items and skips. */
export function reportOf(
  reader: Pick<ExportReader, 'input' | 'format'>,
  classes: readonly string[],
  validationFraction: number,
  seed: string,
  lines: number,
  items: readonly ConvertedItem[],
  skipped: readonly SkippedItem[],
): ConversionReport {
  const unknownPixels = items.reduce((sum, i) => sum + (i.unknownPixels ?? 0), 0);
  const warnings = unknownPixelsWarning(items, classes, unknownPixels);
  const duplicates = duplicatesAcrossSplits(items);
  return {
    input: reader.input,
    format: reader.format,
    classes,
    validationFraction,
    seed,
    counts: {
      lines,
      converted: items.length,
      skipped: skipped.length,
      train: items.filter((i) => i.split === 'train').length,
      validation: items.filter((i) => i.split === 'validation').length,
      imagesCopied: items.filter((i) => i.image === 'copied').length,
      imagesReencoded: items.filter((i) => i.image === 're-encoded').length,
      ignoredPixels: items.reduce((sum, i) => sum + i.ignoredPixels, 0),
      unknownPixels,
      shapesNotPainted: items.reduce((sum, i) => sum + Object.values(i.notPainted ?? {}).reduce((a, b) => a + b, 0), 0),
      duplicatesAcrossSplits: duplicates.length,
    },
    duplicatesAcrossSplits: duplicates,
    items,
    skipped,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** A warning when more than a small share of the labelled (not background) pixels have a colour no class has. */
function unknownPixelsWarning(items: readonly ConvertedItem[], classes: readonly string[], unknownPixels: number): string[] {
  if (unknownPixels === 0) return [];
  const labelled = items.reduce((sum, i) => sum + i.width * i.height - (i.pixelsPerClass[classes[0]] ?? 0), 0);
  if (unknownPixels <= labelled * UNKNOWN_PIXELS_WARNING_SHARE) return [];
  const worst = items.reduce((a, b) => ((b.unknownPixels ?? 0) > (a.unknownPixels ?? 0) ? b : a));
  const share = (100 * unknownPixels) / labelled;
  return [
    `${share < 99.95 ? share.toFixed(1) : '100'} % of the labelled pixels (${unknownPixels} of ${labelled}, in ${items.filter((i) => (i.unknownPixels ?? 0) > 0).length} of ${items.length} items) have a colour no class of the export has, and are ignored (255): ` +
      `the masks' colours do not match the export's classes (most in ${worst.source}); check its label or colour map`,
  ];
}

/** The images whose bytes are in both splits, in export order. */
export function duplicatesAcrossSplits(items: readonly ConvertedItem[]): DuplicateAcrossSplits[] {
  const byHash = new Map<string, ConvertedItem[]>();
  for (const item of items) byHash.set(item.imageSha256, [...(byHash.get(item.imageSha256) ?? []), item]);
  return [...byHash.entries()]
    .filter(([, copies]) => copies.some((c) => c.split === 'train') && copies.some((c) => c.split === 'validation'))
    .map(([imageSha256, copies]) => ({
      imageSha256,
      train: copies.filter((c) => c.split === 'train').map((c) => c.source),
      validation: copies.filter((c) => c.split === 'validation').map((c) => c.source),
    }));
}

export function writeConversionReport(output: ObjectStore, location: string, report: ConversionReport): Promise<void> {
  return output.write(location, Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'application/json');
}

/**
 * One report from the reports of a conversion's shards: what one conversion of the whole export
 * would have reported, items and skips back in export order.
 */
export function mergeConversionReports(reports: readonly ConversionReport[]): ConversionReport {
  const [first] = reports;
  if (reports.some((r) => JSON.stringify(r.classes) !== JSON.stringify(first.classes))) {
    throw new Error(`the shards of a conversion disagree on the classes: ${reports.map((r) => r.classes.join(',')).join(' / ')}`);
  }
  const byLine = (a: { readonly line: number }, b: { readonly line: number }) => a.line - b.line;
  const items = reports.flatMap((r) => r.items).sort(byLine);
  const skipped = reports.flatMap((r) => r.skipped).sort(byLine);
  return reportOf(
    first,
    first.classes,
    first.validationFraction,
    first.seed,
    reports.reduce((sum, r) => sum + r.counts.lines, 0),
    items,
    skipped,
  );
}
