// @ts-nocheck
import type { ObjectStore } from './stores/object-store';

/** The labeling tools whose exports segpipe reads. */
export const EXPORT_FORMATS = ['groundtruth', 'lookoutvision', 'cvat', 'voc', 'coco', 'labelstudio'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * An object and the store that holds it (a zip entry, a file, an S3 object), as the locations to try
 * in order: a manifest's raw key, then its URL-decoded form.
 */
export interface ObjectRef {
  readonly store: ObjectStore;
  readonly locations: readonly string[];
}

/** A class an export declares or uses; `background` ones are index 0 whatever their name. */
export interface ExportClass {
  readonly name: string;
  readonly background: boolean;
}

/** A colour of a colour mask and the class it stands for. */
export interface ColourClass extends ExportClass {
  /** 0xRRGGBB. */
  readonly rgb: number;
}

/** A shape painted into a mask, in pixel coordinates of the mask. */
export type Shape =
  | {
      readonly kind: 'polygon';
      readonly className: string;
      /** One or more rings of `[x0, y0, x1, y1, ...]`; their union is the shape (COCO's parts of one object). */
      readonly rings: readonly (readonly number[])[];
      /** Coordinates in percent of the mask's width and height (Label Studio), not pixels. */
      readonly percent?: boolean;
    }
  | {
      readonly kind: 'bitmap';
      readonly className: string;
      readonly width: number;
      readonly height: number;
      /** Non-zero where the shape is, row by row. */
      readonly pixels: Uint8Array;
    }
  | {
      /** A bitmap of the image's size, which the export does not give: known once the image is read. */
      readonly kind: 'image-sized-bitmap';
      readonly className: string;
      /** The bitmap at the image's size (non-zero where the shape is), or why it cannot be painted at that size. */
      readonly pixelsAt: (width: number, height: number) => Uint8Array | string;
    }
  /** A decoded mask kept as its row spans `[y, x0, x1)` (`spansOfBitmap`): the size of its outline, not of the image. */
  | {
      readonly kind: 'spans';
      readonly className: string;
      readonly width: number;
      readonly height: number;
      readonly spans: Int32Array;
      readonly area: number;
    };

/** How an item's class-index mask is made. */
export type MaskSpec =
  /** A colour PNG: each pixel's class by its colour (Ground Truth, Lookout for Vision, CVAT). */
  | {
      readonly kind: 'colour-png';
      /** The mask, or how to find it (a relative reference is looked for when the item is converted). */
      readonly file: ObjectRef | (() => Promise<ObjectRef>);
      readonly colours: readonly ColourClass[];
      /** Pixels with alpha below 128 are background (Lookout for Vision's transparent masks). */
      readonly transparentIsBackground: boolean;
      /** Colours the format itself leaves unlabelled, ignored (255) on purpose (COCO panoptic's void). */
      readonly ignoredColours?: readonly number[];
    }
  /**
   * A palette or grey PNG whose pixel values are class numbers (Pascal VOC): `classOfValue[v]`, 255
   * stays ignored. A mask saved as RGB by another tool is read by `colourOfValue[v]` instead.
   */
  | {
      readonly kind: 'index-png';
      readonly file: ObjectRef;
      readonly classOfValue: readonly (ExportClass | undefined)[];
      readonly colourOfValue: readonly number[];
    }
  /** Shapes painted largest first on the background (COCO, Label Studio); the size is the image's unless given. */
  | { readonly kind: 'shapes'; readonly size?: { readonly width: number; readonly height: number }; readonly shapes: readonly Shape[] };

/** One labeled image of an export, as every reader yields it. */
export interface ExportItem {
  /** Position in the export (line, task, image), 1-based: report order and chunking. */
  readonly line: number;
  /** The image reference exactly as the export wrote it. */
  readonly source: string;
  /** Finds the image; throws `ItemSkipped` with the reason when it cannot. */
  readonly findImage: () => Promise<ObjectRef>;
  readonly mask: MaskSpec;
  /** Things of the item that are not converted but counted in the report (e.g. `{"rectanglelabels": 2}`). */
  readonly notPainted?: Readonly<Record<string, number>>;
}

/** An entry of an export that cannot be converted, with its reason. */
export interface ExportSkip {
  readonly line: number;
  readonly source: string | null;
  readonly reason: string;
}

/** A reader of one export format: declared classes first, then items in export order. */
export interface ExportReader {
  readonly format: ExportFormat;
  /** Where the export was read from, for the report. */
  readonly input: string;
  /** Classes in the export's own order (a label map, the categories), registered before any item. */
  readonly declaredClasses: () => Promise<readonly ExportClass[]>;
  readonly items: () => AsyncIterable<ExportItem | ExportSkip>;
  /**
   * Reading one share of the export without the entries before it (the workflow's chunks).
   * @default - none: a share is read from the export's start (a zip's entries are addressed anyway)
   */
  readonly slicing?: ExportSlicing;
}

/** Positions 1-based and inclusive: a chunk's entries. */
export interface EntryRange {
  readonly first: number;
  readonly last: number;
}

/**
 * How a reader reads one range of its entries alone. Once `items()` has been read to its end,
 * `slicesOf` says what each range needs (its bytes' place in the export, or its entries gathered from
 * all over it), as JSON written once by the plan; `readerOf` reads one such slice, and only it.
 */
export interface ExportSlicing {
  readonly slicesOf: (ranges: readonly EntryRange[]) => Promise<unknown[]>;
  readonly readerOf: (slice: unknown) => ExportReader;
}

/** Raised for an item that cannot be converted; its message is the reason reported. */
export class ItemSkipped extends Error {
  override readonly name = 'ItemSkipped';
}

/** Class names matched as the background, whatever the tool: `BACKGROUND`, `background`, `Background`. */
export function isBackgroundName(name: string): boolean {
  return name.trim().toLowerCase() === 'background';
}
