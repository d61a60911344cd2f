import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { ObjectNotFoundError, type ObjectStore } from '../../../../lambda/convert/stores/object-store';
import { createS3Client, S3ObjectStore } from '../../../../lambda/convert/stores/s3-object-store';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../../local/embedded-s3-server';

/** An error as the SDK throws it for an HTTP status. */
function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message: name });
}

async function textOf(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

describe('S3ObjectStore against the embedded S3 server', () => {
  let server: EmbeddedS3Server;
  let client: S3Client;
  let store: S3ObjectStore;

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['data', 'other'] });
    client = server.client();
    store = new S3ObjectStore(client, { tagging: 'segpipe:retention=scratch&team=vision' });
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'dir/a b+c é.txt', Body: '0123456789' }));
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  test('readStart gives the first bytes and the whole size; undefined when there is no object', async () => {
    expect(await store.readStart('s3://data/dir/a b+c é.txt', 4)).toEqual({ data: Buffer.from('0123'), size: 10 });
    expect(await store.readStart('s3://data/dir/a b+c é.txt', 100)).toEqual({ data: Buffer.from('0123456789'), size: 10 });
    expect(await store.readStart('s3://data/dir/missing.txt', 4)).toBeUndefined();
  });

  test('reads whole, by range, and as streams; a missing object is ObjectNotFoundError', async () => {
    const location = 's3://data/dir/a b+c é.txt';
    expect((await store.read(location)).toString()).toBe('0123456789');
    expect((await store.readRange(location, 2, 4)).toString()).toBe('234');
    expect(await textOf(await store.readStream(location))).toBe('0123456789');
    expect(await textOf(await store.readRangeStream(location, 7, 9))).toBe('789');
    await expect(store.read('s3://data/nothing')).rejects.toThrow(new ObjectNotFoundError('s3://data/nothing'));
    await expect(store.read('/local/path')).rejects.toThrow('not an s3://bucket/key URI: /local/path');
  });

  test('writes with its tags, lists under a folder whatever its trailing slashes, and removes', async () => {
    await store.write('s3://data/out/x.png', Buffer.from('png'), 'image/png');
    await store.write('s3://data/out/y.png', Buffer.from('png'), 'image/png');
    await store.write('s3://data/out-old/z.png', Buffer.from('png'), 'image/png');
    const tags = await client.send(new GetObjectTaggingCommand({ Bucket: 'data', Key: 'out/x.png' }));
    expect(tags.TagSet).toEqual([
      { Key: 'segpipe:retention', Value: 'scratch' },
      { Key: 'team', Value: 'vision' },
    ]);
    const head = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'out/x.png' }));
    expect(head.ContentType).toBe('image/png');
    expect(await store.listUnder('s3://data/out')).toEqual(['s3://data/out/x.png', 's3://data/out/y.png']);
    expect(await store.listUnder('s3://data/out//')).toEqual(['s3://data/out/x.png', 's3://data/out/y.png']);
    await store.remove(['s3://data/out/x.png', 's3://data/out-old/z.png', 's3://data/out/never-written.png']);
    expect(await store.listUnder('s3://data/out')).toEqual(['s3://data/out/y.png']);
    expect(await store.listUnder('s3://data/out-old')).toEqual([]);
    expect(store.join('s3://data/out//', 'a', 'b.png')).toBe('s3://data/out/a/b.png');
  });

  test('a copy within the endpoint is server-side, its key encoded, its type replaced', async () => {
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize', name: 'recordCopyCommands' },
    );
    try {
      await store.copyFrom(store, 's3://data/dir/a b+c é.txt', 's3://other/copied.txt', 'text/plain');
      await expect(store.copyFrom(store, 's3://data/dir/none.txt', 's3://other/none.txt', 'text/plain')).rejects.toThrow(
        new ObjectNotFoundError('s3://data/dir/none.txt'),
      );
    } finally {
      client.middlewareStack.remove('recordCopyCommands');
    }
    expect(sent).toEqual(['CopyObjectCommand', 'CopyObjectCommand']);
    const copied = await client.send(new GetObjectCommand({ Bucket: 'other', Key: 'copied.txt' }));
    expect(copied.ContentType).toBe('text/plain');
    expect(await copied.Body?.transformToString()).toBe('0123456789');
  });

  test('a copy from another store is read and written', async () => {
    const elsewhere = { read: async () => Buffer.from('from a folder') } as unknown as ObjectStore;
    await store.copyFrom(elsewhere, '/tmp/a.txt', 's3://other/from-folder.txt', 'text/plain');
    expect((await store.read('s3://other/from-folder.txt')).toString()).toBe('from a folder');
    const otherClient = new S3ObjectStore(server.client());
    await otherClient.copyFrom(store, 's3://data/dir/a b+c é.txt', 's3://other/via-read.txt', 'text/plain');
    expect((await store.read('s3://other/via-read.txt')).toString()).toBe('0123456789');
    otherClient.client.destroy();
  });

  // s3rver ignores If-Match and If-None-Match: the conditions sent are checked on the mock below.
  test('readVersioned gives the data and its ETag, or undefined; writeIfUnchanged writes', async () => {
    expect(await store.readVersioned('s3://data/state.json')).toBeUndefined();
    expect(await store.writeIfUnchanged('s3://data/state.json', Buffer.from('{"v":1}'), 'application/json', undefined)).toBe(true);
    const first = await store.readVersioned('s3://data/state.json');
    expect(first?.data.toString()).toBe('{"v":1}');
    expect(first?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await store.writeIfUnchanged('s3://data/state.json', Buffer.from('{"v":2}'), 'application/json', first?.etag)).toBe(true);
    expect((await store.readVersioned('s3://data/state.json'))?.data.toString()).toBe('{"v":2}');
  });

  test("list gives each object's key, date and size", async () => {
    const listed = await store.list('data', 'dir/');
    expect(listed).toEqual([{ key: 'dir/a b+c é.txt', lastModified: expect.any(Date), size: 10 }]);
    expect(listed[0].lastModified.getTime()).toBeGreaterThan(Date.now() - 3_600_000);
  });
});

describe('S3ObjectStore on the answers S3 gives that the embedded server does not', () => {
  // Installed here, not at the top: it answers for every S3Client, the embedded server's too.
  let s3: AwsClientStub<S3Client>;
  const store = new S3ObjectStore(new S3Client({ region: 'eu-west-1' }));
  beforeAll(() => {
    s3 = mockClient(S3Client);
  });
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());

  test('a range of an empty object is unsatisfiable (416): an empty start, not an error', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('InvalidRange', 416));
    expect(await store.readStart('s3://data/empty', 10)).toEqual({ data: Buffer.alloc(0), size: 0 });
  });

  test.each([
    ['NoSuchKey', 400],
    ['NotFound', 400],
    ['NoSuchBucket', 400],
    ['AccessDenied', 404],
  ])('%s (HTTP %i) is a missing object', async (name, status) => {
    s3.on(GetObjectCommand).rejects(s3Error(name, status));
    expect(await store.readStart('s3://data/a', 10)).toBeUndefined();
    expect(await store.readVersioned('s3://data/a')).toBeUndefined();
    await expect(store.read('s3://data/a')).rejects.toThrow(ObjectNotFoundError);
  });

  test('any other error is passed on', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403));
    await expect(store.readStart('s3://data/a', 10)).rejects.toThrow('AccessDenied');
    await expect(store.readVersioned('s3://data/a')).rejects.toThrow('AccessDenied');
    await expect(store.read('s3://data/a')).rejects.toThrow('AccessDenied');
    s3.on(CopyObjectCommand).rejects(s3Error('AccessDenied', 403));
    await expect(store.copyFrom(store, 's3://data/a', 's3://data/b', 'text/plain')).rejects.toThrow('AccessDenied');
    s3.on(PutObjectCommand).rejects(s3Error('SlowDown', 503));
    await expect(store.writeIfUnchanged('s3://data/a', Buffer.from('x'), 'text/plain', '"e"')).rejects.toThrow('SlowDown');
  });

  test('a response without a body is a missing object; one without a Content-Range is as long as its data', async () => {
    s3.on(GetObjectCommand).resolves({});
    await expect(store.read('s3://data/a')).rejects.toThrow(new ObjectNotFoundError('s3://data/a'));
    expect(await store.readStart('s3://data/a', 10)).toEqual({ data: Buffer.alloc(0), size: 0 });
  });

  test('a conditional write that lost a race answers false, whether S3 says 412 or 409; the condition sent is the ETag, or none-match', async () => {
    s3.on(PutObjectCommand).rejectsOnce(s3Error('PreconditionFailed', 412)).rejectsOnce(s3Error('ConditionalRequestConflict', 409));
    expect(await store.writeIfUnchanged('s3://data/a', Buffer.from('x'), 'text/plain', '"e1"')).toBe(false);
    expect(await store.writeIfUnchanged('s3://data/a', Buffer.from('x'), 'text/plain', undefined)).toBe(false);
    const [withEtag, without] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(withEtag).toMatchObject({ IfMatch: '"e1"' });
    expect(withEtag.IfNoneMatch).toBeUndefined();
    expect(without).toMatchObject({ IfNoneMatch: '*' });
    expect(without.IfMatch).toBeUndefined();
  });

  test('removes 1,000 keys a request, bucket by bucket, and names the first key S3 could not delete', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    const keys = Array.from({ length: 2001 }, (_, i) => `s3://data/k${i}`);
    await store.remove([...keys, 's3://other/x']);
    const calls = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.Bucket, c.Delete?.Objects?.length, c.Delete?.Quiet])).toEqual([
      ['data', 1000, true],
      ['data', 1000, true],
      ['data', 1, true],
      ['other', 1, true],
    ]);
    expect(calls[2].Delete?.Objects).toEqual([{ Key: 'k2000' }]);
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [
        { Key: 'k7', Code: 'AccessDenied' },
        { Key: 'k8', Code: 'AccessDenied' },
      ],
    });
    await expect(store.remove(['s3://data/k7', 's3://data/k8'])).rejects.toThrow(
      'cannot delete 2 objects of s3://data (first: k7: AccessDenied)',
    );
  });

  test('a copy sends the key URL-encoded with its slashes kept, and tags only when the store has them', async () => {
    s3.on(CopyObjectCommand).resolves({});
    await store.copyFrom(store, 's3://src/a dir/b+c é.jpg', 's3://dst/x.jpg', 'image/jpeg');
    const tagged = new S3ObjectStore(store.client, { tagging: 'k=v' });
    await tagged.copyFrom(store, 's3://src/a.jpg', 's3://dst/y.jpg', 'image/jpeg');
    const [plain, withTags] = s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input);
    expect(plain).toEqual({
      Bucket: 'dst',
      Key: 'x.jpg',
      CopySource: 'src/a%20dir/b%2Bc%20%C3%A9.jpg',
      ContentType: 'image/jpeg',
      MetadataDirective: 'REPLACE',
    });
    expect(withTags).toMatchObject({ Tagging: 'k=v', TaggingDirective: 'REPLACE' });
  });
});

describe('createS3Client', () => {
  test("for AWS: virtual-hosted addresses and the SDK's checksums; for another endpoint: path style, checksums only when required", async () => {
    const aws = createS3Client({ region: 'eu-west-1' });
    expect(await aws.config.forcePathStyle).toBeFalsy();
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    expect(await aws.config.maxAttempts()).toBe(8);
    const local = createS3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    expect(await local.config.forcePathStyle).toBe(true);
    expect(await local.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await local.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect((await local.config.endpoint?.())?.hostname).toBe('127.0.0.1');
    expect(await local.config.credentials()).toMatchObject({ accessKeyId: 'a' });
    aws.destroy();
    local.destroy();
  });
});
