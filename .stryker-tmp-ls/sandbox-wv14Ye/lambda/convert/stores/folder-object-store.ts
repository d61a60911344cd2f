// @ts-nocheck
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  isS3Uri,
  ObjectNotFoundError,
  type ObjectStart,
  type ObjectStore,
  parseS3Uri,
  ReadRefusedError,
  type ReadStartMore,
} from './object-store';

/**
 * Object storage in a folder. Plain paths are used as they are; with a `localRoot`, `s3://BUCKET/KEY`
 * is read from `localRoot/BUCKET/KEY`, the layout `aws s3 sync s3://BUCKET DIR/BUCKET` leaves.
 */
export class FolderObjectStore implements ObjectStore {
  private readonly localRoot?: string;
  /** Folders this store has made, so that a write of many files into few folders makes each once. */
  private readonly madeFolders = new Set<string>();
  private realRoot?: Promise<string>;
  private realBoundary?: Promise<string>;
  /** Real paths of the last locations read: an image read in parts (head, end, copy) has its links resolved once. */
  private readonly realPaths = new Map<string, Promise<string>>();

  /**
   * @param options.onlyUnderRoot the local root is a boundary (the sources a manifest names are
   * untrusted): only `s3://` addresses are read, and only when their real path, links resolved,
   * is under the root.
   */
  constructor(
    localRoot?: string,
    private readonly options: {
      readonly onlyUnderRoot?: boolean;
      /**
       * A reader given a folder (`within`: an export's images) follows no link out of it: with
       * `--local-root` exports are someone else's, and a link could reach any file of the machine.
       */
      readonly confineLinks?: boolean;
      /** Set by `within`: the folder every read must really lie under. */
      readonly boundary?: string;
      /**
       * Writes land in a folder that becomes visible only once whole (the command's staging folder),
       * so a file is written in place, without a partial file renamed: one file-system call less.
       * @default false
       */
      readonly staged?: boolean;
    } = {},
  ) {
    this.localRoot = localRoot === undefined ? undefined : resolve(localRoot);
    if (options.onlyUnderRoot && this.localRoot === undefined) throw new Error('a store confined to its local root needs a local root');
  }

  /** The file path of a location; refuses a key that would escape the local root (`..` segments). */
  pathOf(location: string): string {
    if (!isS3Uri(location)) return location;
    const uri = parseS3Uri(location);
    if (!uri) throw new Error(`not an s3://bucket/key URI: ${location}`);
    if (this.localRoot === undefined) throw new Error(`${location} is an S3 URI; give a local root to read it from a folder`);
    const bucketDir = resolve(this.localRoot, uri.bucket);
    const path = resolve(bucketDir, uri.key);
    if (!path.startsWith(bucketDir + sep) || uri.bucket.includes('..')) {
      throw new Error(`${location} escapes the local root ${this.localRoot}`);
    }
    return path;
  }

  /** This store, confined to `root` when it confines links (or its local root). */
  within(root: string): ObjectStore {
    if (!this.options.confineLinks && !this.options.onlyUnderRoot) return this;
    return new FolderObjectStore(this.localRoot, { ...this.options, boundary: root });
  }

  /** The path to read a location from, after the boundary checks of a store confined to its root or a folder. */
  private async readablePath(location: string): Promise<string> {
    const path = await this.rootedPath(location);
    if (this.options.boundary === undefined) return path;
    const real = await this.realPathOf(path).catch((err) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    if (real === undefined) return path;
    const folder = await (this.realBoundary ??= realpath(this.pathOf(this.options.boundary)));
    if (!real.startsWith(folder + sep)) throw new ReadRefusedError(`${location} is a link that leads outside ${this.options.boundary}`);
    return real;
  }

  /** The path to read a location from, after the boundary checks of a store confined to its local root. */
  private async rootedPath(location: string): Promise<string> {
    if (!this.options.onlyUnderRoot) return this.pathOf(location);
    if (!isS3Uri(location))
      throw new Error(`${location} is not an s3:// address; with a local root only s3://BUCKET/KEY is read, from under the root`);
    const path = this.pathOf(location);
    let real;
    try {
      real = await this.realPathOf(path);
    } catch (err) {
      if (isMissing(err)) return path;
      throw err;
    }
    const root = await (this.realRoot ??= realpath(this.localRoot!));
    if (!real.startsWith(root + sep)) throw new Error(`${location} is a link that leads outside the local root ${this.localRoot}`);
    return real;
  }

  private realPathOf(path: string): Promise<string> {
    let real = this.realPaths.get(path);
    if (!real) {
      real = realpath(path);
      this.realPaths.set(path, real);
      real.catch(() => this.realPaths.delete(path));
      if (this.realPaths.size > REAL_PATHS_KEPT) this.realPaths.delete(this.realPaths.keys().next().value!);
    }
    return real;
  }

  async readStart(location: string, maxBytes: number, more: ReadStartMore = {}): Promise<ObjectStart | undefined> {
    let handle;
    const path = await this.readablePath(location);
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      // A small file is read whole through the handle already open: no second open to hash or copy it.
      const data = Buffer.allocUnsafe(info.size <= (more.wholeUpTo ?? 0) ? info.size : Math.min(info.size, maxBytes));
      const { bytesRead } = await handle.read(data, 0, data.length, 0);
      // The tail through the same handle: a JPEG's end marker costs one read, not an open and a close more.
      const tailBytes = more.tailBytes ?? 0;
      if (tailBytes > 0 && info.size > bytesRead) {
        const tail = Buffer.allocUnsafe(Math.min(tailBytes, info.size - bytesRead));
        const read = await handle.read(tail, 0, tail.length, info.size - tail.length);
        return { data: data.subarray(0, bytesRead), size: info.size, tail: tail.subarray(0, read.bytesRead) };
      }
      return { data: data.subarray(0, bytesRead), size: info.size };
    } finally {
      await handle.close();
    }
  }

  async read(location: string): Promise<Buffer> {
    try {
      return await readFile(await this.readablePath(location));
    } catch (err) {
      throw isMissing(err) ? new ObjectNotFoundError(location) : err;
    }
  }

  async readRange(location: string, start: number, end: number): Promise<Buffer> {
    let handle;
    const path = await this.readablePath(location);
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw isMissing(err) ? new ObjectNotFoundError(location) : err;
    }
    try {
      const buffer = Buffer.alloc(end - start + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async readStream(location: string): Promise<Readable> {
    const path = await this.readablePath(location);
    const info = await stat(path).catch((err) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    if (!info?.isFile()) throw new ObjectNotFoundError(location);
    return createReadStream(path);
  }

  async readRangeStream(location: string, start: number, end: number): Promise<Readable> {
    await this.readStream(location);
    return createReadStream(await this.readablePath(location), { start, end });
  }

  async listUnder(location: string): Promise<string[]> {
    const folder = this.pathOf(location);
    let entries;
    try {
      entries = await readdir(folder, { recursive: true, withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => this.join(location, ...relative(folder, join(entry.parentPath, entry.name)).split(sep)))
      .sort();
  }

  async remove(locations: readonly string[]): Promise<void> {
    for (const location of locations) await rm(this.pathOf(location), { force: true });
  }

  async write(location: string, body: Buffer): Promise<void> {
    const path = this.pathOf(location);
    await this.makeFolderOf(path);
    if (this.options.staged) {
      await writeFile(path, body);
      return;
    }
    // Write then rename, so a reader never sees half a file.
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, body);
    await rename(partial, path);
  }

  async copyFrom(source: ObjectStore, from: string, to: string, _contentType: string, bytes?: Buffer): Promise<void> {
    if (bytes || !(source instanceof FolderObjectStore)) {
      await this.write(to, bytes ?? (await source.read(from)));
      return;
    }
    const path = this.pathOf(to);
    await this.makeFolderOf(path);
    try {
      await copyFile(await source.readablePath(from), path);
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(from);
      throw err;
    }
  }

  private async makeFolderOf(path: string): Promise<void> {
    const folder = dirname(path);
    if (this.madeFolders.has(folder)) return;
    await mkdir(folder, { recursive: true });
    this.madeFolders.add(folder);
  }

  join(location: string, ...segments: string[]): string {
    return isS3Uri(location) ? [location.replace(/\/+$/, ''), ...segments].join('/') : join(location, ...segments);
  }
}

const REAL_PATHS_KEPT = 64;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
