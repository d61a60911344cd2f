/**
 * What one conversion accepts from an upload. Every size an upload declares (a PNG header, an RLE's
 * `size`, a brush RLE's value count, a zip entry's size) is checked against these before anything of
 * that size is allocated. docs/converter-limits.md gives the arithmetic against the Lambdas' memory.
 */
// @ts-nocheck

export interface ConversionLimits {
  /** Largest image or mask, in pixels. */
  readonly maxPixels: number;
  /** Largest source file (image, mask, zip entry) held in memory, in bytes. */
  readonly maxFileBytes: number;
}

export const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_LIMITS: ConversionLimits = { maxPixels: DEFAULT_MAX_PIXELS, maxFileBytes: DEFAULT_MAX_FILE_BYTES };

/**
 * Bytes the items in flight of one conversion may hold at once (decoded masks, files read whole). An
 * item reserves its share, from the sizes its headers declare, before reading more than its headers;
 * one that needs more than the whole budget is skipped. 768 MiB holds one item at the largest
 * `maxPixels` (7 bytes a pixel: 448 MiB) and leaves the rest of the conversion Lambdas' 2,048 MB to
 * Node, libvips and the export's reader (docs/converter-limits.md has the sum).
 */
export const DEFAULT_MEMORY_BUDGET_BYTES = 768 * 1024 * 1024;

/**
 * Largest JSON element read whole (a Label Studio task, a COCO image or annotation). A Label Studio
 * brush task of a 4K image is a few MiB; parsing holds several times an element's bytes.
 */
export const MAX_JSON_ELEMENT_BYTES = 32 * 1024 * 1024;
/** Deepest nesting inside one JSON element: real exports nest under 10 levels; `JSON.parse` recurses. */
export const MAX_JSON_DEPTH = 100;
/**
 * Most entries a zip may list. A CVAT export of 100,000 images lists about 300,000 (images, class and
 * object masks); reading the directory peaks at about 0.6 KB an entry (400,000: 378 MB measured).
 */
export const MAX_ZIP_ENTRIES = 500_000;
/** Most polygon vertices of one item (all its shapes). */
export const MAX_ITEM_VERTICES = 500_000;
/**
 * Most row crossings of one item's polygon edges, and row spans of its bitmaps: the work of painting
 * it. A polygon's outline crosses each row it covers about twice; 16 Mi allows 2,000 rows crossed
 * 8,000 times, far past any drawn outline, and paints in about a second.
 */
export const MAX_ITEM_PAINT_WORK = 16 * 1024 * 1024;
/** Characters of uploaded text (a category id, an image reference) a report or message carries. */
export const MAX_REPORTED_TEXT = 300;
/** Metadata a PNG may carry beside its pixels (ICC profile, text, EXIF) before its size is refused. */
const PNG_METADATA_ALLOWANCE = 4 * 1024 * 1024;

/** Why a declared size is refused (empty, not whole numbers, more than `maxPixels`), or `undefined`. */
export function declaredSizeProblem(what: string, width: number, height: number, maxPixels: number): string | undefined {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0)
    return `${what} declares a size of ${cut(String(width))}×${cut(String(height))}, not whole numbers of pixels`;
  if (width === 0 || height === 0) return `${what} declares an empty ${width}×${height} size`;
  if (width * height > maxPixels)
    return `${what} declares ${width}×${height} pixels, more than the ${maxPixels} accepted (a decompression bomb?)`;
  return undefined;
}

/**
 * The most bytes a PNG of this size can need: its rows stored uncompressed (deflate's stored blocks
 * add 5 bytes per 65,535), chunk overhead, and room for metadata. A larger file holds something else.
 */
export function pngBytesBound(width: number, height: number, channels = 4): number {
  const raw = (width * channels + 1) * height;
  return raw + Math.ceil(raw / 65_535) * 5 + PNG_METADATA_ALLOWANCE;
}

/**
 * Bytes one item holds while its mask is decoded and re-encoded, from its declared sizes: the mask
 * file, its inflated rows (at most 4 bytes a pixel, plus the filter byte of each row), the class
 * indices, and the encoder's copy and output; a PNG image read whole and decoded for re-encoding.
 */
export function itemMemoryEstimate(mask: { pixels: number; fileBytes: number }, image?: { pixels: number; fileBytes: number }): number {
  const maskBytes = mask.fileBytes + mask.pixels * 4 + mask.pixels * 3;
  const imageBytes = image ? image.fileBytes + image.pixels * 4 * 2 : 0;
  return maskBytes + imageBytes;
}

/** Uploaded text for a report, cut to {@link MAX_REPORTED_TEXT} characters with a note of what was left out. */
export function cut(text: string, maxLength = MAX_REPORTED_TEXT): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength)}...(${text.length - maxLength} more characters)`;
}

/**
 * Bytes that items in flight hold, reserved before they are allocated: `reserve` waits until the
 * bytes are free, so concurrency never multiplies the per-item limits past the budget.
 */
export class MemoryBudget {
  private free: number;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly totalBytes: number) {
    this.free = totalBytes;
  }

  /**
   * Waits until `bytes` are free and takes them; returns the release. Throws when `bytes` is more
   * than the whole budget (no wait could ever grant it).
   */
  async reserve(bytes: number): Promise<() => void> {
    if (bytes > this.totalBytes)
      throw new RangeError(`needs about ${mib(bytes)} MiB, more than the ${mib(this.totalBytes)} MiB the items in flight may hold`);
    if (this.waiting.length > 0 || bytes > this.free) await new Promise<void>((grant) => this.waiting.push({ bytes, grant }));
    else this.free -= bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += bytes;
      // First come, first served: a large reservation is not starved by small ones behind it.
      while (this.waiting.length > 0 && this.waiting[0].bytes <= this.free) {
        const next = this.waiting.shift()!;
        this.free -= next.bytes;
        next.grant();
      }
    };
  }
}

const mib = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
