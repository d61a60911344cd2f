// @ts-nocheck
import { EXPORT_FORMATS, type ExportClass, type ExportFormat, type ExportReader } from './export-item';
import { type ConversionLimits, DEFAULT_LIMITS } from './limits';
import { cocoReader } from './readers/coco';
import { cvatReader } from './readers/cvat';
import { manifestReader } from './readers/ground-truth';
import { isLookoutForVisionLine } from './readers/ground-truth-manifest';
import { LABEL_MAP_FILE } from './readers/label-map';
import { type LabelStudioExpectations, labelStudioReader } from './readers/label-studio';
import { vocReader } from './readers/voc';
import { folderPrefix, isS3Uri, type ObjectStore } from './stores/object-store';
import { ZipObjectStore } from './stores/zip-object-store';

const SNIFF_BYTES = 64 * 1024;
const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EXPORT_FILE = /\.(manifest|jsonl|json)$/i;

/** What each format's export looks like, for the error that names the formats segpipe knows. */
export const FORMAT_DESCRIPTIONS: Record<ExportFormat, string> = {
  groundtruth: 'Ground Truth output manifest (JSON Lines with source-ref)',
  lookoutvision: 'Lookout for Vision segmentation manifest (JSON Lines)',
  cvat: 'CVAT "Segmentation mask 1.1" (labelmap.txt, SegmentationClass/, JPEGImages/)',
  voc: 'Pascal VOC (SegmentationClass/ palette masks, JPEGImages/)',
  coco: 'COCO instance or panoptic segmentation JSON (panoptic PNGs in the folder named like the JSON)',
  labelstudio: 'Label Studio JSON export (a list of tasks, one task, or a folder of target-storage files)',
};

/** An input that is not an export segpipe can read; its message is one line naming what it knows. */
export class UnrecognisedExportError extends Error {
  override readonly name = 'UnrecognisedExportError';
}

export interface OpenExportOptions {
  /** A file, a folder, a `.zip`, or an `s3://` URI of any of these. */
  readonly input: string;
  /** @default 'auto' (decided from the content, not the name) */
  readonly format?: ExportFormat | 'auto';
  /** Where image names resolve. @default - the export's own folder (`JPEGImages/` for CVAT and VOC) */
  readonly images?: string;
  /**
   * Where image names resolve when the export's own folder does not hold them (the workflow: the
   * batch's `images/<batch>/` in the inbox).
   * @default - nowhere else
   */
  readonly fallbackImages?: string;
  /** Reads local paths (and `s3://` URIs from a local root). */
  readonly local: ObjectStore;
  /** Reads S3; `undefined` when S3 is read from a local root. */
  readonly s3?: ObjectStore;
  /** Reads the images a Ground Truth or Lookout for Vision manifest names. */
  readonly sources: ObjectStore;
  readonly labelAttribute?: string;
  /** Which Label Studio tasks belong (a batch, a project, the configured labels). @default - every task */
  readonly labelStudio?: LabelStudioExpectations;
  /**
   * Label Studio target-storage files of the folder `input`, read as its export instead of every file
   * it holds (a workflow's corrections run converts only the files saved since).
   * @default - the folder's files, or `input` itself
   */
  readonly labelStudioFiles?: readonly string[];
  /**
   * CVAT's `labelmap.txt` for an export that lacks it (a local path or an `s3://` URI): the folder is
   * then read as CVAT with these classes.
   * @default - the export's own label map, if any
   */
  readonly labelMap?: string;
  /**
   * What the export may declare: image and mask sizes, zip entries read whole.
   * @default DEFAULT_LIMITS
   */
  readonly limits?: ConversionLimits;
}

/** Label Studio's target storage names a file by the annotation id (no extension), or `<task id>.json`. */
const TARGET_STORAGE_FILE = /^\d+(\.json)?$/;

/** An opened export: its reader, and what to close when done (a zip). */
export interface OpenedExport {
  readonly reader: ExportReader;
  readonly close: () => void;
}

/**
 * Opens an export wherever it is (a file, a folder, a zip read in place, any of them on S3) and
 * picks its reader, from `format` or from the content.
 */
export async function openExport(options: OpenExportOptions): Promise<OpenedExport> {
  const store = isS3Uri(options.input) && options.s3 ? options.s3 : options.local;
  const input = options.input;
  if (options.labelStudioFiles) {
    const reader = labelStudioReader({
      store,
      location: input,
      files: options.labelStudioFiles,
      images: { ...(imagesRoot(options) ?? { store, root: input }), fallback: fallbackRoot(options) },
      s3: options.s3,
      expect: options.labelStudio,
      limits: options.limits,
    });
    return { reader, close: () => undefined };
  }
  const start = await store.readStart(input, SNIFF_BYTES);
  if (start?.data.subarray(0, 4).equals(ZIP_SIGNATURE)) {
    const zip = await ZipObjectStore.open(store, input, start.size, { maxEntryBytes: (options.limits ?? DEFAULT_LIMITS).maxFileBytes });
    try {
      return { reader: await folderReader(zip, '', options), close: () => zip.close() };
    } catch (err) {
      zip.close();
      throw err;
    }
  }
  if (start) {
    if (start.size === 0) throw new UnrecognisedExportError(`${input} is empty`);
    if (options.labelMap !== undefined)
      throw new UnrecognisedExportError(`--labelmap is for a CVAT "Segmentation mask 1.1" folder or zip; ${input} is a file`);
    return { reader: fileReader(store, input, start.data, options), close: () => undefined };
  }
  const files = await store.listUnder(input);
  if (files.length === 0) throw new UnrecognisedExportError(`${input} not found, or an empty folder`);
  return { reader: await folderReader(store, input, options), close: () => undefined };
}

/** A folder (or zip) export: CVAT or VOC by its layout, else the one export file it holds. */
async function folderReader(store: ObjectStore, root: string, options: OpenExportOptions): Promise<ExportReader> {
  const files = await store.listUnder(root);
  const prefixLength = folderPrefix(store, root).length;
  // macOS's zip tool adds `__MACOSX/` and `._` shadow files: they are not part of the export.
  const relative = files.map((f) => f.slice(prefixLength)).filter((f) => !/(^|\/)(__MACOSX\/|\._)/.test(f));
  // The layout's root: the export itself, or the one folder a zip wraps it in.
  const layoutRoot = relative
    .filter((f) => /(^|\/)SegmentationClass\/[^/]+$/.test(f))
    .map((f) => f.slice(0, f.lastIndexOf('SegmentationClass/')));
  const roots = [...new Set(layoutRoot)];
  if (options.format === 'cvat' || options.format === 'voc' || (options.format ?? 'auto') === 'auto') {
    if (roots.length === 1) {
      const exportRoot = roots[0] === '' ? root : store.join(root, ...roots[0].replace(/\/$/, '').split('/'));
      const hasLabelMap = relative.includes(`${roots[0]}${LABEL_MAP_FILE}`);
      const format =
        options.format === 'cvat' || options.format === 'voc'
          ? options.format
          : hasLabelMap || options.labelMap !== undefined
            ? 'cvat'
            : 'voc';
      if (format === 'voc' && options.labelMap !== undefined)
        throw new UnrecognisedExportError("--labelmap gives CVAT's classes; --format voc reads Pascal VOC's own: give one of them");
      const labelMap =
        options.labelMap === undefined ? undefined : { store: storeOf(options, options.labelMap), location: options.labelMap };
      if (format === 'cvat' && !hasLabelMap && !labelMap)
        throw new UnrecognisedExportError(
          `${options.input} has no ${LABEL_MAP_FILE}: a CVAT "Segmentation mask 1.1" export holds one (use --format voc for Pascal VOC palette masks)`,
        );
      const folder = { store, root: exportRoot, input: options.input, images: imagesRoot(options), fallbackImages: fallbackRoot(options) };
      return format === 'cvat' ? cvatReader({ ...folder, labelMap }) : vocReader(folder);
    }
    if (roots.length > 1)
      throw new UnrecognisedExportError(
        `${options.input} holds ${roots.length} SegmentationClass/ folders (${roots.slice(0, 3).join(', ')}); give one export`,
      );
    if (options.format === 'cvat' || options.format === 'voc')
      throw new UnrecognisedExportError(
        `${options.input} has no SegmentationClass/ folder, which a ${FORMAT_DESCRIPTIONS[options.format]} export holds`,
      );
  }
  if (options.labelMap !== undefined)
    throw new UnrecognisedExportError(
      `--labelmap is for a CVAT "Segmentation mask 1.1" folder or zip; ${options.input} has no SegmentationClass/ folder`,
    );
  const targetFiles = targetStorageFiles(files.filter((f) => relative.includes(f.slice(prefixLength))));
  if ((targetFiles && (options.format ?? 'auto') === 'auto') || options.format === 'labelstudio') {
    const labelStudioFiles = targetFiles ?? files.filter((f) => /\.json$/i.test(f));
    if (targetFiles || labelStudioFiles.length > 1) {
      return labelStudioReader({
        store,
        location: root,
        files: labelStudioFiles,
        images: { ...(imagesRoot(options) ?? { store, root }), fallback: fallbackRoot(options) },
        s3: options.s3,
        expect: options.labelStudio,
        limits: options.limits,
      });
    }
  }
  const kept = new Set(relative);
  const candidates = files.filter((f) => EXPORT_FILE.test(f) && kept.has(f.slice(prefixLength)));
  if (candidates.length === 0) throw new UnrecognisedExportError(`${options.input} holds no export: ${knownFormats()}`);
  const readers: ExportReader[] = [];
  for (const candidate of candidates) {
    const start = await store.readStart(candidate, SNIFF_BYTES);
    if (!start || start.size === 0) throw new UnrecognisedExportError(`${candidate} is empty`);
    // COCO's own layout (and CVAT's "COCO 1.0" export): annotations/<name>.json, the images in a
    // folder beside annotations/ (images/, val2017/): they resolve from the folder above it.
    const folder = folderOf(store, candidate);
    const besideAnnotations = /(^|\/)annotations$/i.test(folder) ? folderOf(store, folder) : undefined;
    readers.push(fileReader(store, candidate, start.data, options, root, besideAnnotations));
  }
  // Roboflow's COCO export holds one JSON per split (train/, valid/, test/), its images beside each.
  // JSONs side by side in one folder are other annotations of the same images (COCO's own
  // instances_*, panoptic_*, captions_*): never merged.
  const folders = new Set(candidates.map((c) => folderOf(store, c)));
  const panopticNamed = new Set(candidates.map((c) => /panoptic[^/\\]*\.json$/i.test(c)));
  if (readers.length > 1 && (!readers.every((r) => r.format === 'coco') || folders.size < candidates.length || panopticNamed.size > 1)) {
    const why = readers.every((r) => r.format === 'coco')
      ? ' of different annotations (such as instances_ and panoptic_ JSONs: they are not merged)'
      : '';
    throw new UnrecognisedExportError(
      `${options.input} holds ${candidates.length} export files${why} (${candidates.slice(0, 3).join(', ')}${candidates.length > 3 ? ', ...' : ''}); give one with --input`,
    );
  }
  return readers.length === 1 ? readers[0] : concatenatedReader(readers, options.input);
}

/**
 * A folder Label Studio's target storage wrote: every file named `<annotation id>` or `<task id>.json`,
 * at least one of them `<annotation id>` or several (one export file named by digits is just that).
 */
function targetStorageFiles(files: readonly string[]): string[] | undefined {
  const names = files.map((f) => f.slice(f.replace(/\\/g, '/').lastIndexOf('/') + 1));
  if (files.length === 0 || !names.every((n) => TARGET_STORAGE_FILE.test(n))) return undefined;
  return files.length > 1 || !names[0].endsWith('.json') ? [...files] : undefined;
}

/** Several exports of one format read as one: classes merged by name in file order, entries numbered on. */
function concatenatedReader(readers: readonly ExportReader[], input: string): ExportReader {
  return {
    format: readers[0].format,
    input,
    declaredClasses: async () => {
      const merged = new Map<string, ExportClass>();
      for (const reader of readers) for (const cls of await reader.declaredClasses()) if (!merged.has(cls.name)) merged.set(cls.name, cls);
      return [...merged.values()];
    },
    items: async function* () {
      let offset = 0;
      for (const reader of readers) {
        let last = 0;
        for await (const entry of reader.items()) {
          last = Math.max(last, entry.line);
          yield { ...entry, line: offset + entry.line };
        }
        offset += last;
      }
    },
  };
}

/**
 * A single-file export, its format from `format` or sniffed from its first bytes; `exportRoot` is
 * the folder or zip it was found in, which relative references do not leave. Its images resolve from
 * `--images`, else `imagesAt` in its own store, else its folder.
 */
function fileReader(
  store: ObjectStore,
  location: string,
  head: Buffer,
  options: OpenExportOptions,
  exportRoot?: string,
  imagesAt?: string,
): ExportReader {
  const format = options.format && options.format !== 'auto' ? options.format : sniffFormat(head, location);
  const images = { ...(imagesRoot(options) ?? { store, root: imagesAt ?? folderOf(store, location) }), fallback: fallbackRoot(options) };
  switch (format) {
    case 'groundtruth':
    case 'lookoutvision': {
      // Relative references: under --images, then the manifest's folder, then its parent (Lookout for
      // Vision's sample keeps manifests/ beside training-images/ and mask-images/), then the batch's images.
      const folder = folderOf(store, location);
      const parent = parentFolder(store, folder, exportRoot);
      const relativeTo = [
        imagesRoot(options),
        { store, root: folder },
        parent === undefined ? undefined : { store, root: parent },
        fallbackRoot(options),
      ].filter((base): base is { store: ObjectStore; root: string } => base !== undefined);
      return manifestReader({
        manifest: location,
        manifestStore: store,
        sources: options.sources,
        dialect: format,
        labelAttribute: options.labelAttribute,
        relativeTo,
      });
    }
    case 'coco': {
      // COCO panoptic keeps its PNGs in the folder named like the JSON, beside it.
      const folder = folderOf(store, location);
      const stem = location.slice(location.replace(/\\/g, '/').lastIndexOf('/') + 1).replace(/\.json$/i, '');
      return cocoReader({
        store,
        location,
        images,
        s3: options.s3,
        panopticMasks: [
          { store, root: store.join(folder, stem) },
          { store, root: folder },
        ],
        limits: options.limits,
      });
    }
    case 'labelstudio':
      return labelStudioReader({ store, location, images, s3: options.s3, expect: options.labelStudio, limits: options.limits });
    default:
      throw new UnrecognisedExportError(`${location} is a file; a ${FORMAT_DESCRIPTIONS[format]} export is a folder or a zip`);
  }
}

/** The format of a single-file export, from its content. */
export function sniffFormat(head: Buffer, location: string): ExportFormat {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) return 'labelstudio';
  if (trimmed.startsWith('{')) {
    const firstLine = trimmed.slice(0, trimmed.indexOf('\n') >= 0 ? trimmed.indexOf('\n') : undefined).trim();
    let line: unknown;
    try {
      line = JSON.parse(firstLine);
    } catch {
      line = undefined;
    }
    if (typeof line === 'object' && line !== null && 'source-ref' in line)
      return isLookoutForVisionLine(line) ? 'lookoutvision' : 'groundtruth';
    // One Label Studio task (`data`) or target-storage annotation (`task`) has `annotations` too, but no COCO `images` list.
    if (/"(data|task)"\s*:\s*\{/.test(text) && !/"images"\s*:\s*\[/.test(text)) return 'labelstudio';
    if (/"(images|annotations|categories)"\s*:/.test(text)) return 'coco';
  }
  throw new UnrecognisedExportError(`${location} is not an export segpipe recognises: ${knownFormats()}`);
}

function knownFormats(): string {
  return `it reads ${EXPORT_FORMATS.map((f) => `${f} (${FORMAT_DESCRIPTIONS[f]})`).join(', ')}`;
}

function storeOf(options: OpenExportOptions, location: string): ObjectStore {
  return isS3Uri(location) && options.s3 ? options.s3 : options.local;
}

function imagesRoot(options: OpenExportOptions): { store: ObjectStore; root: string } | undefined {
  if (options.images === undefined) return undefined;
  return { store: isS3Uri(options.images) && options.s3 ? options.s3 : options.local, root: options.images };
}

function fallbackRoot(options: OpenExportOptions): { store: ObjectStore; root: string } | undefined {
  if (options.fallbackImages === undefined) return undefined;
  return { store: isS3Uri(options.fallbackImages) && options.s3 ? options.s3 : options.local, root: options.fallbackImages };
}

/** The folder above `folder`, unless that leaves `within` (the export's folder or zip) or the bucket. */
function parentFolder(store: ObjectStore, folder: string, within?: string): string | undefined {
  const trimmed = folder.replace(/[\\/]+$/, '');
  if (trimmed === '' || trimmed === '.' || /^s3:\/\/[^/]+$/.test(trimmed)) return undefined;
  const slash = trimmed.replace(/\\/g, '/').lastIndexOf('/');
  const parent = slash < 0 ? (store instanceof ZipObjectStore ? '' : '.') : trimmed.slice(0, slash) || '/';
  if (within !== undefined && !folderPrefix(store, parent).startsWith(folderPrefix(store, within))) return undefined;
  return parent;
}

function folderOf(store: ObjectStore, location: string): string {
  const slash = location.replace(/\\/g, '/').lastIndexOf('/');
  if (slash < 0) return store instanceof ZipObjectStore ? '' : '.';
  return location.slice(0, slash) || '/';
}
