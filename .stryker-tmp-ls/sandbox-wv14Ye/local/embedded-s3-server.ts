import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../lambda/convert/stores/s3-object-store';

/**
 * A local stand-in for Amazon S3: an S3-compatible server (s3rver) on 127.0.0.1, speaking the real
 * protocol to the real AWS SDK, for the tests and the local run. Its objects live under `directory`.
 */
export interface EmbeddedS3Server {
  readonly endpoint: string;
  readonly directory: string;
  /** A client configured for this server. */
  client(): S3Client;
  close(): Promise<void>;
}

/** Credentials for the embedded server: any pair does (see {@link takeAnyAccessKey}); these are s3rver's own. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The parts of s3rver's Koa context the middleware below uses. */
interface KoaContext {
  headers: Record<string, string>;
  status: number;
  type: string;
  body: unknown;
  response: { get(name: string): string };
  set(name: string, value: string): void;
}

/** The parts of s3rver's store and list result that the continuation tokens below use. */
interface ListResult {
  objects: { key: string }[];
  isTruncated: boolean;
}
interface ListingContext extends KoaContext {
  params: { bucket: string };
  query: Record<string, string | undefined>;
  store: { listObjects(bucket: string, options: unknown): Promise<ListResult> };
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers under
 * `--openssl-legacy-provider`: without it every listing past one page is an InternalError. Its list
 * handler is replaced, once per loaded s3rver, by one that pages with a plain token (the bucket and
 * the last key, base64url), as opaque to clients as S3's. The handler is looked up on the module's
 * exports at each request, so replacing the export is enough.
 */
function pageListingsWithoutDes(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const bucketController = require('s3rver/lib/controllers/bucket');
  const S3Error = require('s3rver/lib/models/error');
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (bucketController.getBucket.pagesWithoutDes) return;
  const listBucket: (ctx: ListingContext) => Promise<void> = bucketController.getBucket;
  const encode = (bucket: string, key: string) => Buffer.from(`${bucket}/${key}`, 'utf8').toString('base64url');
  const pagedListBucket = async (ctx: ListingContext) => {
    if (ctx.query['list-type'] !== '2') return listBucket(ctx);
    const token = ctx.query['continuation-token'];
    if (token) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (!decoded.startsWith(`${ctx.params.bucket}/`)) {
        throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
      }
      // Authentication has already checked the signature of the query as sent.
      const { 'continuation-token': _, ...query } = ctx.query;
      ctx.query = { ...query, 'start-after': decoded.slice(ctx.params.bucket.length + 1) };
    }
    // s3rver makes its DES token whenever the store says the listing is truncated: it is told
    // "not truncated", and the truth is restored in the answer with a token of ours.
    const store = ctx.store;
    let truncated: ListResult | undefined;
    ctx.store = Object.create(store, {
      listObjects: {
        value: async (bucket: string, listOptions: unknown) => {
          const result = await store.listObjects(bucket, listOptions);
          if (result.isTruncated) truncated = result;
          return { ...result, isTruncated: false };
        },
      },
    });
    await listBucket(ctx);
    const answer = (ctx.body as { ListBucketResult: Record<string, unknown> }).ListBucketResult;
    if (token) {
      answer.StartAfter = undefined;
      answer.ContinuationToken = token;
    }
    if (truncated) {
      answer.IsTruncated = true;
      answer.NextContinuationToken = encode(ctx.params.bucket, truncated.objects[truncated.objects.length - 1].key);
    }
  };
  pagedListBucket.pagesWithoutDes = true;
  bucketController.getBucket = pagedListBucket;
}

/**
 * s3rver knows one access key, `S3RVER`. Any key is taken instead, as the signature (SigV4) is not
 * checked anyway: the AWS CLI or `segpipe convert --endpoint-url` work against the local S3 with
 * whatever credentials the shell has, and a shell without any needs only to set two dummy values.
 */
function takeAnyAccessKey(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { registry, DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
  registry.get = (accessKeyId: string) => Map.prototype.get.call(registry, accessKeyId) ?? DUMMY_ACCOUNT;
}

/** The parts of s3rver's object and filesystem store that the atomic put below uses. */
interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: unknown;
}
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
}

/**
 * s3rver writes an object in place, and answers a PUT of a buffer before the file is written, so a
 * concurrent GET can read half an object: S3 replaces objects atomically. Its put is replaced, once
 * per loaded s3rver, by one that writes a temporary file, waits for it, and renames it into place.
 */
function putObjectsAtomically(): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem');
  if (FilesystemStore.prototype.putObject.atomic) return;
  const atomicPut = async function (this: FilesystemStore, object: StoredObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const partial = `${objectPath}.${randomUUID()}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    await pipeline(content, counted, createWriteStream(partial));
    const digest = md5.digest('hex');
    await rename(partial, objectPath);
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
  atomicPut.atomic = true;
  FilesystemStore.prototype.putObject = atomicPut;
}

/** The parts of s3rver's Koa context the conditional writes below use. */
interface ObjectRequestContext extends KoaContext {
  method: string;
  path: string;
  store: {
    existsObject(bucket: string, key: string): Promise<boolean>;
    getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  };
}

/**
 * S3 honours `If-None-Match: *` and `If-Match: <etag>` on PutObject (conditional writes: 412
 * PreconditionFailed when they do not hold), which the dataset's class list and the deploy lock rely
 * on; s3rver ignores both, so two local runs would overwrite each other's updates. Conditional puts
 * of one key are checked and written one at a time, as S3 decides them.
 */
function conditionalWrites(): (ctx: ObjectRequestContext, next: () => Promise<void>) => Promise<void> {
  const queues = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    const ifNoneMatch = ctx.headers['if-none-match'];
    const ifMatch = ctx.headers['if-match'];
    const [, bucket, ...rest] = ctx.path.split('/');
    if (ctx.method !== 'PUT' || (!ifNoneMatch && !ifMatch) || rest.length === 0 || ctx.headers['x-amz-copy-source']) return next();
    const key = decodeURIComponent(rest.join('/'));
    const queued = `${bucket}/${key}`;
    const before = queues.get(queued) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    queues.set(
      queued,
      before.then(() => mine),
    );
    await before;
    try {
      const exists = await ctx.store.existsObject(bucket, key);
      const etag = exists ? (await ctx.store.getMetadata(bucket, key)).etag : undefined;
      const holds = ifNoneMatch === '*' ? !exists : etag !== undefined && etag === ifMatch;
      if (!holds) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
        return;
      }
      await next();
    } finally {
      release();
      if (queues.get(queued) === mine) queues.delete(queued);
    }
  };
}

/**
 * The environment a segpipe Lambda handler needs for its S3 client (`lambda/common/runtime.ts`) to
 * reach this server: its endpoint, the server's dummy keys and a region.
 */
export function handlerS3Environment(server: Pick<EmbeddedS3Server, 'endpoint'>): Record<string, string> {
  return {
    SEGPIPE_S3_ENDPOINT: server.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
}

export async function startEmbeddedS3Server(options: {
  buckets: readonly string[];
  directory?: string;
  port?: number;
}): Promise<EmbeddedS3Server> {
  // s3rver has no type declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
  pageListingsWithoutDes();
  takeAnyAccessKey();
  putObjectsAtomically();
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'segpipe-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  // S3 decodes x-amz-copy-source fully; s3rver uses decodeURI, which keeps `%2B` and the like encoded.
  // Re-encode the header so that s3rver's decoding yields the key S3 would (keys with `+`, `&`, ...).
  server.middleware.unshift(async (ctx: KoaContext, next: () => Promise<void>) => {
    const source = ctx.headers['x-amz-copy-source'];
    if (source) ctx.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
    await next();
    // A range of an empty object (`touch _START`): S3 answers 416; s3rver promises one byte and sends
    // none, so the client waits for ever. Answer as S3 does.
    if (ctx.status === 206 && /\/0$/.test(ctx.response.get('Content-Range'))) {
      ctx.status = 416;
      ctx.set('Content-Range', 'bytes */0');
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>';
    }
  });
  // Before the last middleware, s3rver's router, which answers every request.
  server.middleware.splice(server.middleware.length - 1, 0, conditionalWrites());
  const { port } = await server.run();
  // Node closes idle keep-alive sockets after 5 s, racing the SDK reusing them after a long pause (a
  // local training job): the SDK then sees ECONNRESET. Keep them open longer than any pause here.
  server.httpServer.keepAliveTimeout = 120_000;
  server.httpServer.headersTimeout = 121_000;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    directory,
    client: () => createS3Client({ endpoint, region: 'us-east-1', credentials: LOCAL_S3_CREDENTIALS }),
    close: () => server.close(),
  };
}
