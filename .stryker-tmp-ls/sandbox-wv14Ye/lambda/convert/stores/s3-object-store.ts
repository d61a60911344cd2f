// @ts-nocheck
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ADAPTIVE_RETRY } from '../../common/aws-calls';
import { ObjectNotFoundError, type ObjectStore, parseS3Uri, type S3Uri } from './object-store';

export interface S3ObjectStoreOptions {
  /**
   * Tags (`key=value&...`) put on every object this store writes or copies.
   * @default - none
   */
  readonly tagging?: string;
}

/** An S3 client for AWS, or for an S3-compatible server when `endpoint` is given. */
export function createS3Client(
  options: { region?: string; endpoint?: string; credentials?: S3ClientConfig['credentials'] } = {},
): S3Client {
  const config: S3ClientConfig = { ...ADAPTIVE_RETRY, region: options.region, credentials: options.credentials };
  if (options.endpoint) {
    Object.assign(config, {
      endpoint: options.endpoint,
      forcePathStyle: true,
      // S3-compatible servers may store the SDK's default aws-chunked checksum framing as data.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }
  return new S3Client(config);
}

/** Object storage on S3 (AWS SDK v3); copies within the same endpoint are server-side `CopyObject`. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    readonly client: S3Client,
    private readonly options: S3ObjectStoreOptions = {},
  ) {}

  async readStart(location: string, maxBytes: number): Promise<{ data: Buffer; size: number } | undefined> {
    const { bucket, key } = s3Uri(location);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes - 1}` }));
      const data = Buffer.from((await response.Body?.transformToByteArray()) ?? []);
      // "bytes 0-65535/356450": the total follows the slash.
      const total = Number(/\/(\d+)$/.exec(response.ContentRange ?? '')?.[1] ?? data.length);
      return { data, size: total };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      // A range of an empty object is unsatisfiable.
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) return { data: Buffer.alloc(0), size: 0 };
      throw err;
    }
  }

  async read(location: string): Promise<Buffer> {
    return Buffer.from(await (await this.get(location)).transformToByteArray());
  }

  async readRange(location: string, start: number, end: number): Promise<Buffer> {
    return Buffer.from(await (await this.get(location, `bytes=${start}-${end}`)).transformToByteArray());
  }

  async readStream(location: string): Promise<Readable> {
    return (await this.get(location)) as unknown as Readable;
  }

  async readRangeStream(location: string, start: number, end: number): Promise<Readable> {
    return (await this.get(location, `bytes=${start}-${end}`)) as unknown as Readable;
  }

  async listUnder(location: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(`${location.replace(/\/+$/, '')}/`) ?? s3Uri(location);
    return (await this.list(bucket, key)).map((o) => `s3://${bucket}/${o.key}`);
  }

  async remove(locations: readonly string[]): Promise<void> {
    const byBucket = new Map<string, string[]>();
    for (const location of locations) {
      const { bucket, key } = s3Uri(location);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), key]);
    }
    for (const [bucket, keys] of byBucket) {
      // DeleteObjects takes at most 1,000 keys a request.
      for (let i = 0; i < keys.length; i += 1000) {
        const response = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = response.Errors ?? [];
        if (failed.length > 0)
          throw new Error(`cannot delete ${failed.length} objects of s3://${bucket} (first: ${failed[0].Key}: ${failed[0].Code})`);
      }
    }
  }

  async write(location: string, body: Buffer, contentType: string): Promise<void> {
    const { bucket, key } = s3Uri(location);
    await new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      tags: parseTagging(this.options.tagging),
    }).done();
  }

  async copyFrom(source: ObjectStore, from: string, to: string, contentType: string, bytes?: Buffer): Promise<void> {
    const origin = source.copySourceOf?.(from) ?? source;
    if (!(origin instanceof S3ObjectStore) || origin.client !== this.client) {
      await this.write(to, bytes ?? (await source.read(from)), contentType);
      return;
    }
    const src = s3Uri(from);
    const dst = s3Uri(to);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: dst.bucket,
          Key: dst.key,
          // CopySource is a URL path: encode the key (spaces, `+`, unicode), keep its slashes.
          CopySource: `${src.bucket}/${src.key.split('/').map(encodeURIComponent).join('/')}`,
          ContentType: contentType,
          MetadataDirective: 'REPLACE',
          ...(this.options.tagging ? { Tagging: this.options.tagging, TaggingDirective: 'REPLACE' as const } : {}),
        }),
      );
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(from);
      throw err;
    }
  }

  join(location: string, ...segments: string[]): string {
    return [location.replace(/\/+$/, ''), ...segments].join('/');
  }

  /** The object's ETag, which changes whenever it is written again; `undefined` when there is none. */
  async etagOf(location: string): Promise<string | undefined> {
    const { bucket, key } = s3Uri(location);
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A small object and its ETag, for a conditional update; `undefined` when there is none. */
  async readVersioned(location: string): Promise<{ data: Buffer; etag: string } | undefined> {
    const { bucket, key } = s3Uri(location);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { data: Buffer.from((await response.Body?.transformToByteArray()) ?? []), etag: response.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Writes only if the object still has `etag` (or, without one, still does not exist): S3's
   * conditional writes. Returns false when another writer came first.
   */
  async writeIfUnchanged(location: string, body: Buffer, contentType: string, etag: string | undefined): Promise<boolean> {
    const { bucket, key } = s3Uri(location);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }),
        }),
      );
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw err;
    }
  }

  /** Every object under `s3://bucket/prefix`, page by page. */
  async list(bucket: string, prefix: string): Promise<{ key: string; lastModified: Date; size: number }[]> {
    const objects: { key: string; lastModified: Date; size: number }[] = [];
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) objects.push({ key: o.Key!, lastModified: o.LastModified ?? new Date(0), size: o.Size ?? 0 });
    }
    return objects;
  }

  private async get(location: string, range?: string) {
    const { bucket, key } = s3Uri(location);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      if (!response.Body) throw new ObjectNotFoundError(location);
      return response.Body;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(location);
      throw err;
    }
  }
}

function s3Uri(location: string): S3Uri {
  const uri = parseS3Uri(location);
  if (!uri) throw new Error(`not an s3://bucket/key URI: ${location}`);
  return uri;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404;
}

function parseTagging(tagging: string | undefined): { Key: string; Value: string }[] | undefined {
  if (!tagging) return undefined;
  return [...new URLSearchParams(tagging)].map(([Key, Value]) => ({ Key, Value }));
}
