import { PutObjectCommand } from '@aws-sdk/client-s3';
import { forEachLimited } from '../../../lambda/common/concurrency';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import { batchStateKey, RECENT_KEYS_MAX_BYTES, readBatchState, releaseGeneration, takeBatchSnapshot } from '../../../lambda/workflow/batch';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../local/embedded-s3-server';

/** Snapshots against the embedded S3 server: lists in S3, a state of a few numbers, retries and releases. */
describe('a batch snapshot', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  const inbox = 'inbox';
  const artifacts = 'artifacts';

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: [inbox, artifacts] });
    store = new S3ObjectStore(server.client());
  });
  afterAll(async () => {
    store.client.destroy();
    await server.close();
  });

  async function upload(keys: readonly string[]) {
    await forEachLimited(keys, 16, async (key) => {
      await store.client.send(new PutObjectCommand({ Bucket: inbox, Key: key, Body: 'x' }));
    });
  }
  const manifestImages = async (uri: string) =>
    (await store.read(uri))
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)['source-ref']);
  const snapshot = (batch: string, generation: number) =>
    takeBatchSnapshot({ store, inboxBucket: inbox, artifactsBucket: artifacts, batch, generation });

  test('takes what no generation took, writes it as an input manifest, and keeps the state a few numbers', async () => {
    await upload(['images/b/1.jpg', 'images/b/2.png', 'images/b/notes.txt']);
    const first = await snapshot('b', 0);
    expect(first).toMatchObject({ images: 2, ignored: 1 });
    expect(await manifestImages(first.imagesManifest)).toEqual(['s3://inbox/images/b/1.jpg', 's3://inbox/images/b/2.png']);
    expect(JSON.parse((await store.read(first.ignoredList)).toString())).toEqual([
      { key: 'images/b/notes.txt', reason: expect.stringContaining('not an image') },
    ]);
    const state = await readBatchState(store, artifacts, 'b');
    // The images were uploaded just before: the snapshot names them, as their events cannot be told apart by time.
    expect(state).toStrictEqual({ generation: 1, snapshotAt: expect.any(String), recent: ['images/b/1.jpg', 'images/b/2.png'] });

    await upload(['images/b/3.jpg']);
    const second = await snapshot('b', 1);
    expect(await manifestImages(second.imagesManifest)).toEqual(['s3://inbox/images/b/3.jpg']);
    // A retried snapshot of a generation already taken answers the same, and takes nothing more.
    expect(await snapshot('b', 0)).toEqual(first);
    expect((await readBatchState(store, artifacts, 'b')).generation).toBe(2);
  });

  test("a released generation's images are taken again by the next snapshot", async () => {
    await upload(['images/r/a.jpg']);
    await snapshot('r', 0);
    await releaseGeneration(store, artifacts, 'r', 0);
    await upload(['images/r/b.jpg']);
    const next = await snapshot('r', 1);
    expect(await manifestImages(next.imagesManifest)).toEqual(['s3://inbox/images/r/a.jpg', 's3://inbox/images/r/b.jpg']);
    expect(await readBatchState(store, artifacts, 'r')).toMatchObject({ generation: 2, released: [0] });
  });

  test('after an upgrade, the images an earlier version recorded as taken in the state are never taken again, and leave the state', async () => {
    await upload(['images/old/a.jpg', 'images/old/b.jpg']);
    await store.write(
      `s3://${artifacts}/${batchStateKey('old')}`,
      Buffer.from(JSON.stringify({ generation: 3, snapshotAt: '2026-11-01T00:00:00.000Z', taken: ['s3://inbox/images/old/a.jpg'] })),
      'application/json',
    );
    const first = await snapshot('old', 3);
    expect(await manifestImages(first.imagesManifest)).toEqual(['s3://inbox/images/old/b.jpg']);
    expect(await readBatchState(store, artifacts, 'old')).not.toHaveProperty('taken');
    await upload(['images/old/c.jpg']);
    expect(await manifestImages((await snapshot('old', 4)).imagesManifest)).toEqual(['s3://inbox/images/old/c.jpg']);
  });

  test('what the run carries and the state file stay small whatever the uploads (their lists stay in S3)', async () => {
    // 2,000 images and 2,000 other files once overflowed the 256 KiB state; the sizes checked here do not depend on the counts.
    await upload(Array.from({ length: 300 }, (_, i) => `images/big/photo-number-${i}-of-the-big-batch.jpg`));
    await upload(Array.from({ length: 300 }, (_, i) => `images/big/${'n'.repeat(150)}-${i}.txt`));
    // The snapshot's clock set just after the first image landed: every image is then "just before" it,
    // however slowly a loaded machine uploaded them, and the bound is what limits the recent keys.
    const oldest = Math.min(
      ...(await store.list(inbox, 'images/big/')).filter((o) => o.key.endsWith('.jpg')).map((o) => o.lastModified.getTime()),
    );
    const taken = await takeBatchSnapshot({
      store,
      inboxBucket: inbox,
      artifactsBucket: artifacts,
      batch: 'big',
      generation: 0,
      now: () => new Date(oldest + 1000),
    });
    expect(taken).toMatchObject({ images: 300, ignored: 300 });
    expect(JSON.stringify(taken).length).toBeLessThan(1024);
    expect((await store.read(`s3://${artifacts}/${batchStateKey('big')}`)).length).toBeLessThan(RECENT_KEYS_MAX_BYTES + 2048);
    // The keys uploaded just before the snapshot are named up to the bound; the events of the others count as possibly new.
    const { recent } = await readBatchState(store, artifacts, 'big');
    expect(recent!.length).toBeGreaterThan(100);
    expect(recent!.length).toBeLessThan(300);
    expect(Buffer.byteLength(recent!.join(''))).toBeLessThanOrEqual(RECENT_KEYS_MAX_BYTES);
  }, 60_000); // 600 uploads take seconds: past the 15 s a test gets under `npm run mutate`
});
