import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../lambda/convert/s3-object-store';
import { startEmbeddedS3Server } from '../../../lambda/local/embedded-s3-server';

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
