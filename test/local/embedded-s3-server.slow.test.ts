import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import { startEmbeddedS3Server } from '../../local/embedded-s3-server';

test('a ranged read of an empty object (touch _START) is answered at once, as S3 answers it, not left hanging', async () => {
  const server = await startEmbeddedS3Server({ buckets: ['inbox'] });
  const client = server.client();
  try {
    await client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'images/b/_START', Body: Buffer.alloc(0) }));
    await client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'images/b/a.jpg', Body: Buffer.from('abc') }));
    const store = new S3ObjectStore(client);
    expect(await store.readStart('s3://inbox/images/b/_START', 1)).toEqual({ data: Buffer.alloc(0), size: 0 });
    expect(await store.readStart('s3://inbox/images/b/a.jpg', 2)).toEqual({ data: Buffer.from('ab'), size: 3 });
    expect(await store.read('s3://inbox/images/b/_START')).toEqual(Buffer.alloc(0));
  } finally {
    client.destroy();
    await server.close();
  }
}, 20_000);

test('ListObjectsV2 pages with continuation tokens on a Node without the legacy OpenSSL provider (no DES)', async () => {
  const server = await startEmbeddedS3Server({ buckets: ['inbox', 'other'] });
  const client = server.client();
  try {
    const keys = ['images/b/a b.jpg', 'images/b/a+b.jpg', 'images/b/c.jpg', 'images/b/é.jpg', 'images/b/sub/d.jpg'];
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: 'inbox', Key: key, Body: Buffer.from(key) }));
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'inbox', Prefix: 'images/b/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages.push((page.Contents ?? []).map((c) => c.Key!));
      expect(page.ContinuationToken).toBe(token);
      expect(page.IsTruncated).toBe(page.NextContinuationToken !== undefined);
      token = page.NextContinuationToken;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual([...keys].sort());
    // The store's own paging (the workflow's listings) sees every key once.
    expect((await new S3ObjectStore(client).list('inbox', 'images/b/')).map((o) => o.key)).toEqual(pages.flat());
    // A token is only good for the bucket that issued it, as in S3.
    const first = await client.send(new ListObjectsV2Command({ Bucket: 'inbox', MaxKeys: 1 }));
    await expect(
      client.send(new ListObjectsV2Command({ Bucket: 'other', ContinuationToken: first.NextContinuationToken })),
    ).rejects.toThrow(/continuation token/i);
  } finally {
    client.destroy();
    await server.close();
  }
}, 20_000);

test('any access key is taken (the signature is not checked), so the AWS CLI works with whatever keys a shell has', async () => {
  const server = await startEmbeddedS3Server({ buckets: ['inbox'] });
  const client = createS3Client({
    endpoint: server.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIAANYTHING', secretAccessKey: 'anything' },
  });
  try {
    await client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'a.jpg', Body: Buffer.from('abc') }));
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'inbox' }))).Contents?.map((c) => c.Key)).toEqual(['a.jpg']);
  } finally {
    client.destroy();
    await server.close();
  }
}, 20_000);

test('an object being rewritten is read whole, old or new, never half (S3 replaces objects atomically)', async () => {
  const server = await startEmbeddedS3Server({ buckets: ['state'] });
  const store = new S3ObjectStore(server.client());
  try {
    const documents = [0, 1].map((n) =>
      Buffer.from(JSON.stringify({ n, taken: Array.from({ length: 60_000 }, (_, i) => `s3://inbox/images/batch/${n}-${i}.jpg`) })),
    );
    await store.write('s3://state/state.json', documents[0], 'application/json');
    const writes = Array.from({ length: 12 }, (_, i) => store.write('s3://state/state.json', documents[i % 2], 'application/json'));
    const reads = Array.from({ length: 24 }, async () => (await store.read('s3://state/state.json')).length);
    const lengths = await Promise.all(reads);
    await Promise.all(writes);
    expect(lengths.every((length) => documents.some((d) => d.length === length))).toBe(true);
  } finally {
    store.client.destroy();
    await server.close();
  }
});

test('conditional writes are honoured as S3 honours them: If-None-Match * only creates, If-Match only replaces that version, and of racing writers one wins', async () => {
  const server = await startEmbeddedS3Server({ buckets: ['b'] });
  const store = new S3ObjectStore(server.client());
  try {
    const location = 's3://b/locks/deploy.json';
    expect(await store.writeIfUnchanged(location, Buffer.from('1'), 'application/json', undefined)).toBe(true);
    expect(await store.writeIfUnchanged(location, Buffer.from('2'), 'application/json', undefined)).toBe(false);
    const first = await store.readVersioned(location);
    expect(first?.data.toString()).toBe('1');
    expect(await store.writeIfUnchanged(location, Buffer.from('3'), 'application/json', first!.etag)).toBe(true);
    expect(await store.writeIfUnchanged(location, Buffer.from('4'), 'application/json', first!.etag)).toBe(false);
    expect((await store.read(location)).toString()).toBe('3');
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.writeIfUnchanged('s3://b/locks/race.json', Buffer.from(String(i)), 'application/json', undefined),
      ),
    );
    expect(racing.filter(Boolean)).toHaveLength(1);
    // A plain write is not conditional.
    await store.write(location, Buffer.from('5'), 'application/json');
    expect((await store.read(location)).toString()).toBe('5');
  } finally {
    store.client.destroy();
    await server.close();
  }
});
