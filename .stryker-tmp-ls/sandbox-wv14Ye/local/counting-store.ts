import { pipeline, type Readable, Transform } from 'node:stream';
import { S3ObjectStore } from '../lambda/convert/stores/s3-object-store';

/**
 * An S3 store that counts the bytes it reads of one object (`watched`), however they are asked for,
 * and the reads of any: what a conversion chunk reads of its export, in the chunk-reads test and benchmark.
 */
export class CountingStore extends S3ObjectStore {
  bytes = 0;
  watched = '';
  /**
   * Whether the first bytes read to sniff a format count too (`readStart`): every chunk reads at most
   * 64 KiB of its export's start, whatever its share.
   * @default true
   */
  countFirstBytes = true;
  /**
   * Milliseconds each read waits before it is sent: S3's first-byte latency (tens of milliseconds),
   * which the embedded server, answering in about one, does not have. @default 0
   */
  readLatencyMs = 0;
  /** Reads sent, of any object. */
  reads = 0;

  private async beforeRead(): Promise<void> {
    this.reads += 1;
    if (this.readLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readLatencyMs));
  }

  private counted(location: string, stream: Readable): Readable {
    if (location !== this.watched) return stream;
    // Counted as they are consumed (a 'data' listener would let them flow away before the reader reads).
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.bytes += chunk.length;
        done(null, chunk);
      },
    });
    pipeline(stream, counter, () => undefined);
    return counter;
  }

  private count(location: string, length: number): void {
    if (location === this.watched) this.bytes += length;
  }

  override async readStream(location: string): Promise<Readable> {
    await this.beforeRead();
    return this.counted(location, await super.readStream(location));
  }

  override async readRangeStream(location: string, start: number, end: number): Promise<Readable> {
    await this.beforeRead();
    return this.counted(location, await super.readRangeStream(location, start, end));
  }

  override async readStart(location: string, maxBytes: number): Promise<{ data: Buffer; size: number } | undefined> {
    await this.beforeRead();
    const start = await super.readStart(location, maxBytes);
    if (start && this.countFirstBytes) this.count(location, start.data.length);
    return start;
  }

  override async read(location: string): Promise<Buffer> {
    await this.beforeRead();
    const data = await super.read(location);
    this.count(location, data.length);
    return data;
  }

  override async readRange(location: string, start: number, end: number): Promise<Buffer> {
    await this.beforeRead();
    const data = await super.readRange(location, start, end);
    this.count(location, data.length);
    return data;
  }
}
