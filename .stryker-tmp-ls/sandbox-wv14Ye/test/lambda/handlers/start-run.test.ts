import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { forEachLimited } from '../../../lambda/common/concurrency';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import type { ObjectCreatedEvent } from '../../../lambda/handlers/start-run';
import { ALREADY_TAKEN, takeBatchSnapshot } from '../../../lambda/workflow/batch';
import { type EmbeddedS3Server, LOCAL_S3_CREDENTIALS, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { lambdaContext } from '../../../local/lambda-invocation';

/**
 * The start Lambda's cost per event, counted on its own S3 client: the same for a batch of 10 images
 * as for one of 400, whatever the batch's history (the replay test checks the runs it starts).
 */
describe('start-run: constant work per upload event', () => {
  const sfn = mockClient(SFNClient);
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  let handler: typeof import('../../../lambda/handlers/start-run').handler;
  const counted = { requests: 0, bytes: 0 };

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts'] });
    store = new S3ObjectStore(server.client());
    Object.assign(process.env, {
      SEGPIPE_S3_ENDPOINT: server.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      SEGPIPE_SETTINGS: JSON.stringify({
        artifactsBucket: 'artifacts',
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:segpipe',
      }),
    });
    ({ handler } = await import('../../../lambda/handlers/start-run'));
    const { store: handlerStore } = await import('../../../lambda/common/runtime');
    (handlerStore.client as S3Client).middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        counted.requests += 1;
        counted.bytes += Number((result.response as { headers: Record<string, string> }).headers['content-length'] ?? 0);
        return result;
      },
      { step: 'deserialize' },
    );
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  });
  afterAll(async () => {
    sfn.restore();
    (await import('../../../lambda/common/runtime')).store.client.destroy();
    store.client.destroy();
    await server.close();
  });

  const event = (key: string, time: string) =>
    ({
      version: '0',
      id: key,
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      time,
      region: 'us-east-1',
      resources: ['arn:aws:s3:::inbox'],
      detail: {
        version: '0',
        bucket: { name: 'inbox' },
        object: { key, size: 1, etag: 'e', sequencer: '0' },
        'request-id': 'r',
        requester: '123456789012',
        reason: 'PutObject',
      },
    }) as ObjectCreatedEvent;

  /** A batch of `count` images taken by a snapshot a minute after their upload (as after a quiet window), then one late image. */
  async function batchCost(batch: string, count: number) {
    const uploadedAt = new Date().toISOString();
    await forEachLimited(
      Array.from({ length: count }, (_, i) => i),
      16,
      async (i) => {
        await store.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: `images/${batch}/${i}.jpg`, Body: 'x' }));
      },
    );
    const aMinuteLater = new Date(Date.now() + 60_000);
    await takeBatchSnapshot({ store, inboxBucket: 'inbox', artifactsBucket: 'artifacts', batch, generation: 0, now: () => aMinuteLater });
    await store.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: `images/${batch}/late.jpg`, Body: 'x' }));
    const costOf = async (key: string, time: string) => {
      const before = { ...counted };
      const result = await handler(event(key, time), lambdaContext('start-run'));
      return { result, requests: counted.requests - before.requests, bytes: counted.bytes - before.bytes };
    };
    return {
      taken: await costOf(`images/${batch}/${count - 1}.jpg`, uploadedAt),
      late: await costOf(`images/${batch}/late.jpg`, new Date(aMinuteLater.getTime() + 10_000).toISOString()),
    };
  }

  test('a repeated event of a taken image and a late image cost two small reads each, in a batch of 10 as in one of 400', async () => {
    const small = await batchCost('small', 10);
    const large = await batchCost('large', 400);
    for (const cost of [small, large]) {
      expect(cost.taken.result).toEqual({ action: 'ignored', reason: ALREADY_TAKEN });
      expect(cost.late.result).toMatchObject({ action: 'started', executionName: expect.stringMatching(/-g1$/) });
    }
    expect(large.taken.requests).toBe(2);
    expect(large.late.requests).toBe(2);
    // The same bytes whatever the batch's size: one byte of the image, and the batch's state.
    expect(large.taken.bytes).toBe(small.taken.bytes);
    expect(large.late.bytes).toBe(small.late.bytes);
    expect(large.taken.bytes).toBeLessThan(200);
  });
});
