import { Readable } from 'node:stream';
import yauzl, { Entry, ZipFile } from 'yauzl';
import { ObjectNotFoundError, ObjectStore } from './object-store';

/** Reads of the zip are served from blocks this large, so the central directory costs few requests. */
const BLOCK_BYTES = 1024 * 1024;
const CACHED_BLOCKS = 16;
/** Entries read whole and kept for the next read of the same entry (head, then end marker, then copy). */
const CACHED_ENTRIES = 8;

/**
 * The bytes of a zip held in another store (a file, an S3 object), read in place with ranged reads:
 * a zip is never extracted to disk nor held whole in memory. Small reads are served from 1 MiB blocks.
 */
class StoredZipReader extends yauzl.RandomAccessReader {
  private readonly blocks = new Map<number, Promise<Buffer>>();

  constructor(private readonly store: ObjectStore, private readonly location: string, private readonly size: number) {
    super();
  }

  _readStreamForRange(start: number, end: number): Readable {
    if (end - start > BLOCK_BYTES) {
      const stream = new Readable({ read() {} });
      this.store.readRangeStream(this.location, start, end - 1).then(
        (body) => body.on('data', (chunk: Buffer) => stream.push(chunk)).on('end', () => stream.push(null)).on('error', (err) => stream.destroy(err)),
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
  private readonly entryCache = new Map<string, Promise<Buffer>>();

  private constructor(private readonly zip: ZipFile, private readonly entries: ReadonlyMap<string, Entry>, readonly description: string) {}

  /** Opens the zip at `location` of `store` by its central directory. */
  static async open(store: ObjectStore, location: string, size: number): Promise<ZipObjectStore> {
    const reader = new StoredZipReader(store, location, size);
    const zip = await new Promise<ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z))));
    const entries = new Map<string, Entry>();
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: Entry) => {
        if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
    return new ZipObjectStore(zip, entries, location);
  }

  close(): void {
    this.zip.close();
  }

  private entry(location: string): Entry | undefined {
    return this.entries.get(location.replace(/^\/+/, ''));
  }

  private async openEntry(entry: Entry): Promise<Readable> {
    return new Promise<Readable>((resolve, reject) => this.zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));
  }

  private readEntry(location: string): Promise<Buffer> {
    let data = this.entryCache.get(location);
    if (!data) {
      const entry = this.entry(location);
      if (!entry) return Promise.reject(new ObjectNotFoundError(location));
      data = this.openEntry(entry).then(async (stream) => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      });
      this.entryCache.set(location, data);
      if (this.entryCache.size > CACHED_ENTRIES) this.entryCache.delete(this.entryCache.keys().next().value!);
    }
    return data;
  }

  async readStart(location: string, maxBytes: number): Promise<{ data: Buffer; size: number } | undefined> {
    const entry = this.entry(location);
    if (!entry) return undefined;
    const data = await this.readEntry(location);
    return { data: data.subarray(0, maxBytes), size: data.length };
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
