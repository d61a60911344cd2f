// @ts-nocheck
import type { Readable } from 'node:stream';

/** Ground Truth's maximum size of one manifest line (one JSON object), in characters. */
export const MAX_MANIFEST_LINE_CHARACTERS = 100_000;
/** UTF-8 takes at most 4 bytes a character: past this many bytes a line is too long whatever it holds. */
const MAX_MANIFEST_LINE_BYTES = MAX_MANIFEST_LINE_CHARACTERS * 4;
const NEWLINE = 0x0a;

export const SEMANTIC_SEGMENTATION_TYPE = 'groundtruth/semantic-segmentation';

/** One line of a JSON Lines file: its text, or why it was dropped. */
export type ManifestLine = { readonly lineNumber: number; readonly text: string } | { readonly lineNumber: number; readonly error: string };

/** A line's place in a manifest: the byte it starts at and its number (1-based, blank lines counted). */
export interface ManifestPosition {
  readonly byte: number;
  readonly line: number;
}

export interface ManifestReadOptions {
  /**
   * Where the stream starts in the manifest (a ranged read of one chunk's lines).
   * @default - the manifest's start
   */
  readonly from?: ManifestPosition;
  /** Told where each line that is not blank starts, as it is read. */
  readonly onLine?: (position: ManifestPosition) => void;
}

/**
 * Splits a stream into JSON Lines lines: tolerates a BOM, CRLF and blank lines (skipped), and rejects
 * a line past Ground Truth's maximum without buffering it whole (its bytes are dropped as they arrive).
 */
export async function* readManifestLines(stream: Readable, options: ManifestReadOptions = {}): AsyncGenerator<ManifestLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;
  const from = options.from ?? { byte: 0, line: 1 };
  let lineNumber = from.line - 1;
  // A byte order mark only starts the file, not a line read from its middle.
  let first = from.byte === 0;
  /** Where the line being read starts in the whole file. */
  let lineStart = from.byte;
  let chunkStart = from.byte;

  const finish = (): ManifestLine | undefined => {
    lineNumber += 1;
    if (discarding) {
      discarding = false;
      return { lineNumber, error: `line is longer than Ground Truth's maximum of ${MAX_MANIFEST_LINE_CHARACTERS} characters` };
    }
    let text = Buffer.concat(pending, pendingBytes).toString('utf8');
    pending = [];
    pendingBytes = 0;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    text = text.trim();
    if (text === '') return undefined;
    if (text.length > MAX_MANIFEST_LINE_CHARACTERS) {
      return {
        lineNumber,
        error: `line is ${text.length} characters, longer than Ground Truth's maximum of ${MAX_MANIFEST_LINE_CHARACTERS}`,
      };
    }
    return { lineNumber, text };
  };

  const keep = (piece: Buffer): void => {
    if (discarding) return;
    if (pendingBytes + piece.length > MAX_MANIFEST_LINE_BYTES) {
      discarding = true;
      pending = [];
      pendingBytes = 0;
      return;
    }
    pending.push(piece);
    pendingBytes += piece.length;
  };

  const finishAt = (end: number): ManifestLine | undefined => {
    const line = finish();
    if (line) options.onLine?.({ byte: lineStart, line: line.lineNumber });
    lineStart = end;
    return line;
  };

  for await (const chunk of stream) {
    const data: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let newline = data.indexOf(NEWLINE, start); newline >= 0; newline = data.indexOf(NEWLINE, start)) {
      keep(data.subarray(start, newline));
      start = newline + 1;
      const line = finishAt(chunkStart + start);
      if (line) yield line;
    }
    if (start < data.length) keep(data.subarray(start));
    chunkStart += data.length;
  }
  if (pendingBytes > 0 || discarding) {
    const line = finishAt(chunkStart);
    if (line) yield line;
  }
}

/** A class of one line's `internal-color-map`. */
export interface ColourMapEntry {
  readonly key: string;
  readonly className: string;
  /** The colour as 0xRRGGBB. */
  readonly rgb: number;
  /** Ground Truth: key "0" or `BACKGROUND`; Lookout for Vision: `BACKGROUND` only (its key "0" may be a defect). */
  readonly background: boolean;
}

/**
 * Ground Truth's line shape as Ground Truth writes it, or as Lookout for Vision wrote it; `auto`
 * decides line by line (`isLookoutForVisionLine`).
 */
export type ManifestDialect = 'groundtruth' | 'lookoutvision' | 'auto';

const IMAGE_CLASSIFICATION_TYPE = 'groundtruth/image-classification';

/** A manifest line with a semantic-segmentation label. */
export interface LabeledItem {
  readonly lineNumber: number;
  /** `source-ref`, verbatim. */
  readonly source: string;
  readonly labelAttribute: string;
  /** The colour mask's URI. */
  readonly mask: string;
  readonly colourMap: readonly ColourMapEntry[];
  readonly dialect: Exclude<ManifestDialect, 'auto'>;
}

/**
 * A Lookout for Vision line classified `normal` (no anomaly, so no mask): an image whose every pixel
 * is background, as Lookout for Vision trains on it.
 */
export interface NormalImage {
  readonly lineNumber: number;
  readonly source: string;
  readonly normal: true;
}

/** A manifest line that cannot be converted, with its reason. */
export interface SkippedLine {
  readonly lineNumber: number;
  readonly source: string | null;
  readonly reason: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads one Ground Truth output line. The label attribute is `labelAttribute` when given, else the key
 * ending in `-ref` (not `source-ref`) whose `-metadata.type` is semantic segmentation; when a line was
 * labeled twice (a job and its adjustment job), the newest `creation-date` wins.
 */
export function parseManifestLine(
  line: { lineNumber: number; text: string },
  labelAttribute?: string,
  dialect: ManifestDialect = 'auto',
): LabeledItem | NormalImage | SkippedLine {
  const { lineNumber } = line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.text);
  } catch {
    return { lineNumber, source: null, reason: 'not valid JSON' };
  }
  if (!isObject(parsed)) return { lineNumber, source: null, reason: 'not a JSON object' };
  const lineDialect = dialect === 'auto' ? (isLookoutForVisionLine(parsed) ? 'lookoutvision' : 'groundtruth') : dialect;
  const source = parsed['source-ref'];
  if (typeof source !== 'string' || source === '') return { lineNumber, source: null, reason: 'no "source-ref"' };

  const attribute = labelAttribute ?? findLabelAttribute(parsed);
  if (attribute === undefined) {
    const failure = findFailureReason(parsed);
    if (failure === undefined && lineDialect === 'lookoutvision' && isNormal(parsed)) return { lineNumber, source, normal: true };
    return {
      lineNumber,
      source,
      reason: failure
        ? `labeling failed: ${failure}`
        : 'no semantic-segmentation label (no "<name>-ref" with metadata type groundtruth/semantic-segmentation)',
    };
  }
  const metadata = parsed[`${attribute}-metadata`];
  const mask = parsed[attribute];
  if (typeof mask !== 'string' || mask === '') {
    const failure = isObject(metadata) ? metadata['failure-reason'] : undefined;
    return { lineNumber, source, reason: typeof failure === 'string' ? `labeling failed: ${failure}` : `no label in "${attribute}"` };
  }
  if (!isObject(metadata)) return { lineNumber, source, reason: `no "${attribute}-metadata"` };
  const colourMap = parseColourMap(metadata['internal-color-map'], lineDialect);
  if (typeof colourMap === 'string') return { lineNumber, source, reason: `"${attribute}-metadata".internal-color-map ${colourMap}` };
  return { lineNumber, source, labelAttribute: attribute, mask, colourMap, dialect: lineDialect };
}

function findLabelAttribute(line: JsonObject): string | undefined {
  let best: { attribute: string; created: string } | undefined;
  for (const key of Object.keys(line)) {
    if (!key.endsWith('-ref') || key === 'source-ref') continue;
    const metadata = line[`${key}-metadata`];
    if (!isObject(metadata) || metadata.type !== SEMANTIC_SEGMENTATION_TYPE) continue;
    const created = typeof metadata['creation-date'] === 'string' ? metadata['creation-date'] : '';
    if (!best || created >= best.created) best = { attribute: key, created };
  }
  return best?.attribute;
}

/** Whether a line's image-classification label is `normal` (Lookout for Vision's class for an image without anomalies). */
function isNormal(line: JsonObject): boolean {
  return Object.entries(line).some(
    ([key, value]) =>
      key.endsWith('-metadata') &&
      isObject(value) &&
      value.type === IMAGE_CLASSIFICATION_TYPE &&
      typeof value['class-name'] === 'string' &&
      value['class-name'].trim().toLowerCase() === 'normal',
  );
}

function findFailureReason(line: JsonObject): string | undefined {
  for (const [key, value] of Object.entries(line)) {
    if (key.endsWith('-metadata') && isObject(value) && typeof value['failure-reason'] === 'string') return value['failure-reason'];
  }
  return undefined;
}

const HEX_COLOUR = /^#([0-9a-fA-F]{6})$/;

/**
 * Whether a line was written by Lookout for Vision: it carries an image-classification attribute
 * (its anomaly label) beside the segmentation one, or its colour map has no `BACKGROUND` class.
 */
export function isLookoutForVisionLine(parsed: unknown): boolean {
  if (!isObject(parsed)) return false;
  const metadata = Object.entries(parsed)
    .filter(([key, value]) => key.endsWith('-metadata') && isObject(value))
    .map(([, value]) => value as JsonObject);
  if (metadata.some((m) => m.type === IMAGE_CLASSIFICATION_TYPE)) return true;
  const colourMaps = metadata
    .filter((m) => m.type === SEMANTIC_SEGMENTATION_TYPE && isObject(m['internal-color-map']))
    .map((m) => m['internal-color-map'] as JsonObject);
  return colourMaps.some(
    (map) =>
      !Object.values(map).some(
        (entry) => isObject(entry) && typeof entry['class-name'] === 'string' && entry['class-name'].toUpperCase() === 'BACKGROUND',
      ),
  );
}

function parseColourMap(value: unknown, dialect: Exclude<ManifestDialect, 'auto'>): ColourMapEntry[] | string {
  if (!isObject(value) || Object.keys(value).length === 0) return 'is missing or empty';
  const entries: ColourMapEntry[] = [];
  const seen = new Map<number, string>();
  for (const [key, entry] of Object.entries(value)) {
    if (!isObject(entry)) return `entry "${key}" is not an object`;
    const className = entry['class-name'];
    const hex = typeof entry['hex-color'] === 'string' ? HEX_COLOUR.exec(entry['hex-color'].trim()) : null;
    if (typeof className !== 'string' || className === '') return `entry "${key}" has no class-name`;
    if (!hex) return `entry "${key}" (${className}) has hex-color ${JSON.stringify(entry['hex-color'])}, not #rrggbb`;
    const rgb = parseInt(hex[1], 16);
    const other = seen.get(rgb);
    if (other !== undefined) return `gives ${className} and ${other} the same colour #${hex[1]}`;
    seen.set(rgb, className);
    const background = className.toUpperCase() === 'BACKGROUND' || (dialect === 'groundtruth' && key === '0');
    entries.push({ key, className, rgb, background });
  }
  return entries;
}
