// @ts-nocheck
import { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { DEFAULT_MAX_FILE_BYTES, MAX_ZIP_ENTRIES } from '../limits';
import { ObjectNotFoundError, type ObjectStore, ReadRefusedError } from './object-store';

/** Reads of the zip are served from blocks this large, so the central directory costs few requests. */
const BLOCK_BYTES = 1024 * 1024;
const CACHED_BLOCKS = 16;
/**
 * Entries read whole are kept for the next read of the same entry (head, then end marker, then copy),
 * up to this many bytes in all; a larger entry is not kept.
 */
const CACHED_ENTRY_BYTES = 64 * 1024 * 1024;
const CACHED_ENTRY_MAX = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * The bytes of a zip held in another store (a file, an S3 object), read in place with ranged reads:
 * a zip is never extracted to disk nor held whole in memory. Small reads are served from 1 MiB blocks.
 */
class StoredZipReader extends yauzl.RandomAccessReader {
  private readonly blocks = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly location: string,
    private readonly size: number,
  ) {
    super();
  }

  /**
   * yauzl reads the central directory with two small reads an entry; served straight from the
   * blocks, without a stream each (which cost about 70 µs a read: a minute for 400,000 entries).
   */
  read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    if (length > BLOCK_BYTES) {
      super.read(buffer, offset, length, position, callback);
      return;
    }
    (async () => {
      let copied = 0;
      for (let block = Math.floor(position / BLOCK_BYTES); block * BLOCK_BYTES < position + length; block++) {
        const data = await this.block(block);
        const from = Math.max(position - block * BLOCK_BYTES, 0);
        const to = Math.min(position + length - block * BLOCK_BYTES, data.length);
        if (to <= from) break;
        data.copy(buffer, offset + copied, from, to);
        copied += to - from;
      }
      return copied;
    })().then(
      (bytesRead) => callback(null, bytesRead),
      (err: Error) => callback(err),
    );
  }

  _readStreamForRange(start: number, end: number): Readable {
    if (end - start > BLOCK_BYTES) {
      const stream = new Readable({ read() {} });
      this.store.readRangeStream(this.location, start, end - 1).then(
        (body) =>
          body
            .on('data', (chunk: Buffer) => stream.push(chunk))
            .on('end', () => stream.push(null))
            .on('error', (err) => stream.destroy(err)),
        (err: Error) => stream.destroy(err),
      );
      return stream;
    }
    return Readable.from(this.readSmall(start, end));
  }

  private async *readSmall(start: number, end: number): AsyncGenerator<Buffer> {
    for (let block = Math.floor(start / BLOCK_BYTES); block * BLOCK_BYTES < end; block++) {
      const data = await this.block(block);
      const from = Math.max(start - block * BLOCK_BYTES, 0);
      const to = Math.min(end - block * BLOCK_BYTES, data.length);
      yield data.subarray(from, to);
    }
  }

  private block(block: number): Promise<Buffer> {
    let data = this.blocks.get(block);
    if (!data) {
      const start = block * BLOCK_BYTES;
      data = this.store.readRange(this.location, start, Math.min(this.size, start + BLOCK_BYTES) - 1);
      this.blocks.set(block, data);
      if (this.blocks.size > CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
    }
    return data;
  }
}

/**
 * A zip export (what CVAT and Label Studio download) as a read-only object store whose locations are
 * the entries' paths, so the readers and the converter treat it like a folder.
 */
export class ZipObjectStore implements ObjectStore {
  private readonly entryCache = new Map<string, { data: Promise<Buffer>; bytes: number }>();
  private cachedBytes = 0;

  private constructor(
    private readonly zip: ZipFile,
    private readonly entries: ReadonlyMap<string, Entry>,
    readonly description: string,
    private readonly maxEntryBytes: number,
  ) {}

  /**
   * Opens the zip at `location` of `store` by its central directory. A zip listing more than
   * `maxEntries` is refused before its entries are read; an entry whose declared uncompressed size
   * is more than `maxEntryBytes` is refused when read whole (its start and streams still read).
   */
  static async open(
    store: ObjectStore,
    location: string,
    size: number,
    bounds: { readonly maxEntries?: number; readonly maxEntryBytes?: number } = {},
  ): Promise<ZipObjectStore> {
    const reader = new StoredZipReader(store, location, size);
    const zip = await new Promise<ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(
        reader,
        size,
        { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true },
        (err, z) => (err ? reject(err) : resolve(z)),
      ),
    );
    const maxEntries = bounds.maxEntries ?? MAX_ZIP_ENTRIES;
    if (zip.entryCount > maxEntries) {
      zip.close();
      throw new ZipRefusedError(`${location} lists ${zip.entryCount} entries, more than the ${maxEntries} a zip export may hold`);
    }
    const entries = new Map<string, Entry>();
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: Entry) => {
        // Only what reading the entry needs is kept: 400,000 entries cost ~1 GB with their raw names and extra fields.
        Object.assign(entry, { fileNameRaw: EMPTY, extraFields: [], fileCommentRaw: EMPTY, fileComment: '', comment: '' });
        if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
    return new ZipObjectStore(zip, entries, location, bounds.maxEntryBytes ?? DEFAULT_MAX_FILE_BYTES);
  }

  close(): void {
    this.zip.close();
  }

  private entry(location: string): Entry | undefined {
    return this.entries.get(location.replace(/^\/+/, ''));
  }

  private async openEntry(entry: Entry): Promise<Readable> {
    return new Promise<Readable>((resolve, reject) =>
      this.zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))),
    );
  }

  private readEntry(location: string): Promise<Buffer> {
    const cached = this.entryCache.get(location);
    if (cached) return cached.data;
    const entry = this.entry(location);
    if (!entry) return Promise.reject(new ObjectNotFoundError(location));
    // The declared size is checked before inflating; yauzl stops a stream that inflates past it.
    if (entry.uncompressedSize > this.maxEntryBytes) {
      return Promise.reject(
        new ReadRefusedError(`${location} is ${entry.uncompressedSize} bytes uncompressed, more than the ${this.maxEntryBytes} read whole`),
      );
    }
    const data = this.openEntry(entry).then(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
    if (entry.uncompressedSize <= CACHED_ENTRY_MAX) {
      this.entryCache.set(location, { data, bytes: entry.uncompressedSize });
      this.cachedBytes += entry.uncompressedSize;
      for (const [key, old] of this.entryCache) {
        if (this.cachedBytes <= CACHED_ENTRY_BYTES) break;
        this.entryCache.delete(key);
        this.cachedBytes -= old.bytes;
      }
      data.catch(() => {
        if (this.entryCache.get(location)?.data !== data) return;
        this.entryCache.delete(location);
        this.cachedBytes -= entry.uncompressedSize;
      });
    }
    return data;
  }

  async readStart(location: string, maxBytes: number): Promise<{ data: Buffer; size: number } | undefined> {
    const entry = this.entry(location);
    if (!entry) return undefined;
    if (this.entryCache.has(location) || entry.uncompressedSize <= maxBytes) {
      const data = await this.readEntry(location);
      return { data: data.subarray(0, maxBytes), size: data.length };
    }
    // Only the start is inflated: an entry of gigabytes costs its first bytes here.
    const stream = await this.openEntry(entry);
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of stream) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
        if (length >= maxBytes) break;
      }
    } finally {
      stream.destroy();
    }
    return { data: Buffer.concat(chunks).subarray(0, maxBytes), size: entry.uncompressedSize };
  }

  read(location: string): Promise<Buffer> {
    return this.readEntry(location);
  }

  async readRange(location: string, start: number, end: number): Promise<Buffer> {
    return (await this.readEntry(location)).subarray(start, end + 1);
  }

  async readStream(location: string): Promise<Readable> {
    const entry = this.entry(location);
    if (!entry) throw new ObjectNotFoundError(location);
    return this.openEntry(entry);
  }

  async readRangeStream(location: string, start: number, end: number): Promise<Readable> {
    return Readable.from([await this.readRange(location, start, end)]);
  }

  async listUnder(location: string): Promise<string[]> {
    const prefix = location.replace(/^\/+|\/+$/g, '');
    return [...this.entries.keys()].filter((name) => prefix === '' || name.startsWith(`${prefix}/`)).sort();
  }

  remove(): Promise<void> {
    return Promise.reject(new Error(`${this.description} is a zip export, read only`));
  }

  write(): Promise<void> {
    return this.remove();
  }

  copyFrom(): Promise<void> {
    return this.remove();
  }

  join(location: string, ...segments: string[]): string {
    return [location.replace(/\/+$/, ''), ...segments].filter((part) => part !== '').join('/');
  }
}

/** A zip that is not opened (too many entries): the export is refused with the reason. */
export class ZipRefusedError extends Error {
  override readonly name = 'ZipRefusedError';
}
