import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../convert/s3-object-store';

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

/** The parts of s3rver's Koa context the middleware below uses. */
interface KoaContext {
  headers: Record<string, string>;
  status: number;
  type: string;
  body: unknown;
  response: { get(name: string): string };
  set(name: string, value: string): void;
}

export async function startEmbeddedS3Server(options: { buckets: readonly string[]; directory?: string; port?: number }): Promise<EmbeddedS3Server> {
  // s3rver has no type declarations.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
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
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>';
    }
  });
  const { port } = await server.run();
  // Node closes idle keep-alive sockets after 5 s, racing the SDK reusing them after a long pause (a
  // local training job): the SDK then sees ECONNRESET. Keep them open longer than any pause here.
  server.httpServer.keepAliveTimeout = 120_000;
  server.httpServer.headersTimeout = 121_000;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    directory,
    // s3rver checks signatures against its fixed key pair.
    client: () => createS3Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }),
    close: () => server.close(),
  };
}
