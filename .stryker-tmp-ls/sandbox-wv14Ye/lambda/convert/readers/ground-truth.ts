// @ts-nocheck
import type { Readable } from 'node:stream';
import { decodeEventKey } from '../../common/s3-keys';
import type { ExportItem, ExportReader, ExportSkip, ObjectRef } from '../export-item';
import { findRelative, isRelativeReference, type ReferenceBase } from '../image-finder';
import type { ObjectStore } from '../stores/object-store';
import {
  type ManifestDialect,
  type ManifestPosition,
  type ManifestReadOptions,
  parseManifestLine,
  readManifestLines,
} from './ground-truth-manifest';

export interface ManifestReaderOptions {
  /** The output manifest and the store that holds it. */
  readonly manifest: string;
  readonly manifestStore: ObjectStore;
  /** Reads the images and masks the manifest names (S3, or a folder standing in for it). */
  readonly sources: ObjectStore;
  /**
   * `groundtruth` (key "0" is the background), `lookoutvision` (the background is `BACKGROUND` or
   * added; transparent mask pixels are background), or `auto`, line by line.
   * @default 'auto'
   */
  readonly dialect?: ManifestDialect;
  /** @default - the `-ref` attribute whose metadata type is semantic segmentation */
  readonly labelAttribute?: string;
  /**
   * Folders a relative `source-ref` or mask reference resolves against, in order (`--images`, the
   * manifest's folder, its parent).
   * @default - none: a relative reference is not found
   */
  readonly relativeTo?: readonly ReferenceBase[];
}

/**
 * Ground Truth output manifests, and Lookout for Vision's segmentation manifests (Ground Truth's line
 * shape written by another tool): each line's mask is a colour PNG whose classes are given by the
 * line's `internal-color-map`.
 */
export function manifestReader(options: ManifestReaderOptions): ExportReader {
  const dialect = options.dialect ?? 'auto';
  /** Where each line read from the start begins, in order: a chunk's lines are then one ranged read. */
  const positions: ManifestPosition[] = [];
  const reader = (slice?: ManifestSlice): ExportReader => ({
    format: dialect === 'lookoutvision' ? 'lookoutvision' : 'groundtruth',
    input: options.manifest,
    declaredClasses: async () => [],
    items: () => {
      if (slice) return manifestItems(options, dialect, slice);
      positions.length = 0;
      return manifestItems(options, dialect, { onLine: (position) => positions.push(position) });
    },
  });
  return {
    ...reader(),
    slicing: {
      // A range of blank lines alone has no slice (it is read from the start, and holds nothing).
      slicesOf: async (ranges) =>
        ranges.map((range): ManifestSlice | undefined => {
          const first = firstLineFrom(positions, range.first);
          const next = firstLineFrom(positions, range.last + 1);
          if (next <= first) return undefined;
          return { from: positions[first], end: next === positions.length ? -1 : positions[next].byte - 1 };
        }),
      readerOf: (slice) => reader(slice as ManifestSlice),
    },
  };
}

/** The index of the first position at or past `line` (positions are in line order): a binary search. */
function firstLineFrom(positions: readonly ManifestPosition[], line: number): number {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (positions[middle].line < line) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A chunk's lines: from a line's start up to `end` (inclusive; -1: the manifest's end). */
interface ManifestSlice {
  readonly from: ManifestPosition;
  readonly end: number;
}

/** A manifest's raw key, then its URL-decoded form (a key the manifest holds URL-encoded). */
function candidates(store: ObjectStore, uri: string): ObjectRef {
  const decoded = decodeEventKey(uri);
  return { store, locations: decoded === uri ? [uri] : [uri, decoded] };
}

async function* manifestItems(
  options: ManifestReaderOptions,
  dialect: ManifestDialect,
  read: ManifestSlice | ManifestReadOptions,
): AsyncGenerator<ExportItem | ExportSkip> {
  let stream: Readable;
  const slice = 'end' in read ? read : undefined;
  try {
    stream = slice
      ? await options.manifestStore.readRangeStream(options.manifest, slice.from.byte, slice.end < 0 ? Number.MAX_SAFE_INTEGER : slice.end)
      : await options.manifestStore.readStream(options.manifest);
  } catch (err) {
    throw new Error(`cannot read the manifest ${options.manifest}: ${(err as Error).message}`);
  }
  const { sources } = options;
  // Leaving this loop early (a chunk's range ends) returns the stream's iterator, which destroys it.
  for await (const line of readManifestLines(stream, slice ? { from: slice.from } : read)) {
    if ('error' in line) {
      yield { line: line.lineNumber, source: null, reason: line.error };
      continue;
    }
    const parsed = parseManifestLine(line, options.labelAttribute, dialect);
    if ('reason' in parsed) {
      yield { line: parsed.lineNumber, source: parsed.source, reason: parsed.reason };
      continue;
    }
    const bases = options.relativeTo ?? [];
    // Relative references (Lookout for Vision's sample manifests hold them) are found under the bases.
    const image = isRelativeReference(parsed.source) ? undefined : candidates(sources, parsed.source);
    const findImage = async () => image ?? findRelative(parsed.source, bases, 'image');
    if ('normal' in parsed) {
      // Lookout for Vision's normal image: all background, at the image's size.
      yield { line: parsed.lineNumber, source: parsed.source, findImage, mask: { kind: 'shapes', shapes: [] } };
      continue;
    }
    yield {
      line: parsed.lineNumber,
      source: parsed.source,
      findImage,
      mask: {
        kind: 'colour-png',
        file: isRelativeReference(parsed.mask) ? () => findRelative(parsed.mask, bases, 'mask') : candidates(sources, parsed.mask),
        colours: parsed.colourMap.map((entry) => ({ name: entry.className, background: entry.background, rgb: entry.rgb })),
        transparentIsBackground: parsed.dialect === 'lookoutvision',
      },
    };
  }
}
