// @ts-nocheck
import { ItemSkipped, type ObjectRef } from './export-item';
import { isS3Uri, type ObjectStore, ReadRefusedError } from './stores/object-store';

const IMAGE_EXTENSION = /\.(jpe?g|png)$/i;
/** Label Studio stores an upload as `<8 hex digits>-<original name>`. */
const UPLOAD_PREFIX = /^[0-9a-f]{8}-(.+)$/i;

/** Where an export's image names resolve, and where to look when they are not there. */
export interface ImagesRoot {
  readonly store: ObjectStore;
  readonly root: string;
  /** Looked in when an image is not under `root` (the workflow: the batch's `images/<batch>/`). */
  readonly fallback?: { readonly store: ObjectStore; readonly root: string };
}

/**
 * Finds the images an export names, under one images root (a folder, an S3 prefix, a zip folder):
 * by relative path first, then by file name, then (Label Studio uploads) by the name after the
 * upload's hash prefix; a name must match exactly one image.
 */
export class ImageFinder {
  private byName?: Promise<Map<string, string[]>>;

  private readonly store: ObjectStore;

  constructor(
    store: ObjectStore,
    private readonly root: string,
    /** Reads `s3://` references directly when they are not under the root (an export made on S3 data). */
    private readonly s3?: ObjectStore,
    /** Asked when an image is not under the root. */
    private readonly fallback?: ImageFinder,
  ) {
    // What an export names is found under its images root, and read from nowhere else, links included.
    this.store = store.within?.(root) ?? store;
  }

  /** A finder for an images root and its fallback. */
  static of(images: ImagesRoot, s3?: ObjectStore): ImageFinder {
    return new ImageFinder(
      images.store,
      images.root,
      s3,
      images.fallback && new ImageFinder(images.fallback.store, images.fallback.root, s3),
    );
  }

  async find(reference: string): Promise<ObjectRef> {
    const path = pathOf(reference);
    const locations = this.store.join(this.root, ...path.split('/').filter((s) => s !== '' && s !== '.' && s !== '..'));
    if (await this.exists(this.store, locations)) return { store: this.store, locations: [locations] };
    // An address the store refuses to read (outside the run's allow-list) is looked for by name, as a
    // missing one is: nothing outside is read, and an upload of the same name is found.
    let refused: ReadRefusedError | undefined;
    if (isS3Uri(reference) && this.s3) {
      const direct = await this.exists(this.s3, reference).catch((err: unknown) => {
        if (!(err instanceof ReadRefusedError)) throw err;
        refused = err;
        return false;
      });
      if (direct) return { store: this.s3, locations: [reference] };
    }
    const name = path.slice(path.lastIndexOf('/') + 1);
    const index = await (this.byName ??= this.indexByName());
    for (const candidate of [name, UPLOAD_PREFIX.exec(name)?.[1]]) {
      if (!candidate) continue;
      const found = index.get(candidate) ?? [];
      if (found.length === 1) return { store: this.store, locations: found };
      if (found.length > 1) throw new ItemSkipped(`image ${reference}: ${found.length} images under ${this.root} are named ${candidate}`);
    }
    const refusal = refused ? `; ${refused.message}` : '';
    if (this.fallback) {
      return this.fallback.find(reference).catch((err: unknown) => {
        throw err instanceof ItemSkipped
          ? new ItemSkipped(
              `image not found: ${reference} (looked under ${this.root} and ${this.fallback!.root} by path and by file name${refusal})`,
            )
          : err;
      });
    }
    throw new ItemSkipped(`image not found: ${reference} (looked under ${this.root} by path and by file name${refusal})`);
  }

  private async exists(store: ObjectStore, location: string): Promise<boolean> {
    try {
      return (await store.readStart(location, 1)) !== undefined;
    } catch (err) {
      if (err instanceof ReadRefusedError) throw err;
      throw new ItemSkipped(`image ${location} cannot be read: ${(err as Error).message}`);
    }
  }

  private async indexByName(): Promise<Map<string, string[]>> {
    const index = new Map<string, string[]>();
    for (const location of await this.store.listUnder(this.root)) {
      if (!IMAGE_EXTENSION.test(location)) continue;
      const name = location.slice(location.replace(/\\/g, '/').lastIndexOf('/') + 1);
      index.set(name, [...(index.get(name) ?? []), location]);
    }
    return index;
  }
}

/**
 * The path part of an image reference: an S3 key, a URL's path, Label Studio's
 * `/data/local-files/?d=<path>` or `/data/upload/<n>/<name>`, or a plain relative path.
 */
export function pathOf(reference: string): string {
  const s3 = /^s3:\/\/[^/]+\/(.*)$/s.exec(reference);
  if (s3) return s3[1];
  let path = reference;
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/[^?#]*)?(\?[^#]*)?/i.exec(reference);
  const query = url ? url[2] : reference.includes('?') ? reference.slice(reference.indexOf('?')) : undefined;
  const localFile = query ? new URLSearchParams(query.slice(1)).get('d') : null;
  if (localFile) return localFile;
  if (url) path = url[1] ?? '';
  else if (query) path = reference.slice(0, reference.indexOf('?'));
  try {
    path = decodeURIComponent(path);
  } catch {
    // A reference with a bare `%` is a file name, not an encoding.
  }
  return path.replace(/^\/+/, '');
}

/** A folder that relative references resolve against. */
export interface ReferenceBase {
  readonly store: ObjectStore;
  readonly root: string;
}

/**
 * Whether a reference is a relative path (no `scheme:`, no leading slash), as Lookout for
 * Vision's sample `template.manifest` holds.
 */
export function isRelativeReference(reference: string): boolean {
  return !/^([a-z][a-z0-9+.-]*:|[/\\])/i.test(reference);
}

/**
 * Finds a relative reference by its path under each base in turn. `.` and `..` segments are
 * dropped, so a reference never names anything outside a base; a base the store
 * refuses to read is passed over.
 */
export async function findRelative(reference: string, bases: readonly ReferenceBase[], what: string): Promise<ObjectRef> {
  const segments = reference
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..');
  for (const { store, root } of bases) {
    const location = store.join(root, ...segments);
    let found;
    try {
      found = await store.readStart(location, 1);
    } catch (err) {
      if (err instanceof ReadRefusedError) continue;
      throw new ItemSkipped(`${what} ${location} cannot be read: ${(err as Error).message}`);
    }
    if (found) return { store, locations: [location] };
  }
  const where =
    bases.length > 0 ? `looked under ${bases.map((b) => b.root || "the zip's top level").join(', ')}` : 'nothing to resolve it against';
  throw new ItemSkipped(`${what} not found: ${reference} (a relative reference; ${where})`);
}
