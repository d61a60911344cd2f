import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import { channelManifestJson } from '../../../lambda/workflow/channel-manifest';
import { type EmbeddedS3Server, handlerS3Environment, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { lambdaContext } from '../../../local/lambda-invocation';

const runtime = mockClient(SageMakerRuntimeClient);
const secrets = mockClient(SecretsManagerClient);
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:HoldoutKey-abc';

/**
 * The evaluation Lambda as deployed: its settings in the environment, the key from Secrets Manager,
 * the dataset and the run's channels on the embedded S3 server, the endpoint answering every image.
 */
describe('the evaluate-variants handler', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  let handler: typeof import('../../../lambda/handlers/evaluate-variants').handler;
  const big = Array.from({ length: 12 }, (_, i) => `big-${i}`);
  const small = Array.from({ length: 3 }, (_, i) => `small-${i}`);
  const legacy = ['old-0', 'old-1', 'old-2'];

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['artifacts'] });
    store = new S3ObjectStore(server.client());
    const jpeg = await sharp({ create: { width: 2, height: 1, channels: 3, background: '#204080' } })
      .jpeg()
      .toBuffer();
    const mask = await encodeClassIndexPng(Buffer.from([0, 1]), 2, 1);
    const names = [...big, ...small, ...legacy];
    await Promise.all(
      names.flatMap((name) => [
        store.write(`s3://artifacts/datasets/main/validation/${name}.jpg`, jpeg, 'image/jpeg'),
        store.write(`s3://artifacts/datasets/main/validation_annotation/${name}.png`, mask, 'image/png'),
      ]),
    );
    // Index entries with their batch (the lineage), and entries from before batches were recorded.
    const line = (name: string, batch?: string) =>
      JSON.stringify({
        name,
        split: 'validation',
        source: `s3://inbox/images/${batch ?? 'x'}/${name}.jpg`,
        runId: 'r0',
        ...(batch ? { batch } : {}),
      });
    await store.write(
      's3://artifacts/datasets/main/index/r0.jsonl',
      Buffer.from(
        `${[...big.map((n) => line(n, 'big')), ...small.map((n) => line(n, 'small')), ...legacy.map((n) => line(n))].join('\n')}\n`,
      ),
      'application/x-ndjson',
    );
    for (const [channel, folder, extension] of [
      ['validation', 'validation', 'jpg'],
      ['validation_annotation', 'validation_annotation', 'png'],
    ]) {
      await store.write(
        `s3://artifacts/runs/r1/channels/${channel}.manifest`,
        Buffer.from(
          channelManifestJson({ prefix: 's3://artifacts/datasets/main/', keys: names.map((n) => `${folder}/${n}.${extension}`) }),
        ),
        'application/json',
      );
    }
    Object.assign(process.env, {
      ...handlerS3Environment(server),
      POWERTOOLS_LOG_LEVEL: 'WARN',
      SEGPIPE_NO_CLOUDWATCH: '1',
      SEGPIPE_SETTINGS: JSON.stringify({
        artifactsBucket: 'artifacts',
        endpointName: 'segpipe-endpoint',
        maxImages: 10,
        maxBatchShare: 0.3,
        minImages: 5,
        tolerance: 0.01,
        minValidationMiou: 0.5,
        holdoutKeySecret: SECRET,
      }),
    });
    delete process.env.SEGPIPE_LOCAL_HOLDOUT_KEY;
    runtime.on(InvokeEndpointCommand).resolves({ Body: mask as never });
    ({ handler } = await import('../../../lambda/handlers/evaluate-variants'));
  });
  afterAll(async () => {
    runtime.restore();
    secrets.restore();
    store.client.destroy();
    await server.close();
  });

  const evaluatedWith = async (key: string) => {
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: key });
    await handler(
      { runId: 'r1', trainingJob: 'job', classes: ['background', 'turtle'], challenger: 'v1' },
      lambdaContext('evaluate-variants'),
    );
    return JSON.parse((await store.read('s3://artifacts/runs/r1/evaluation/metrics.json')).toString()).images as string[];
  };

  test('reads the key from Secrets Manager once per container; caps each batch, items of no batch capped together', async () => {
    const images = await evaluatedWith('first key');
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: SECRET }]);
    // 10 images at most, 3 (30 %) from a batch: 3 big, 3 small, 3 of no batch.
    expect(images).toHaveLength(9);
    expect(images.filter((n) => n.startsWith('big-'))).toHaveLength(3);
    expect(images.filter((n) => n.startsWith('small-'))).toHaveLength(3);
    expect(images.filter((n) => n.startsWith('old-'))).toHaveLength(3);
    await handler(
      { runId: 'r1', trainingJob: 'job', classes: ['background', 'turtle'], challenger: 'v1' },
      lambdaContext('evaluate-variants'),
    );
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  test("a key that cannot be read fails the invocation and is read again by the next; the report's link is in the function's region", async () => {
    // A cold start of its own: the SDK's modules are loaded again with it, and mocked as it sees them.
    jest.resetModules();
    const sm = await import('@aws-sdk/client-secrets-manager');
    const rt = await import('@aws-sdk/client-sagemaker-runtime');
    const freshSecrets = mockClient(sm.SecretsManagerClient);
    const freshRuntime = mockClient(rt.SageMakerRuntimeClient);
    freshRuntime.on(rt.InvokeEndpointCommand).resolves({ Body: (await encodeClassIndexPng(Buffer.from([0, 1]), 2, 1)) as never });
    freshSecrets
      .on(sm.GetSecretValueCommand)
      .resolvesOnce({ SecretBinary: new Uint8Array([1]) })
      .resolves({ SecretString: 'second key' });
    process.env.AWS_REGION = 'eu-central-1';
    ({ handler } = await import('../../../lambda/handlers/evaluate-variants'));
    const event = { runId: 'r1', trainingJob: 'job', classes: ['background', 'turtle'], challenger: 'v1' };
    await expect(handler(event, lambdaContext('evaluate-variants'))).rejects.toThrow(`the holdout key secret ${SECRET} holds no string`);
    const result = await handler(event, lambdaContext('evaluate-variants'));
    expect(freshSecrets.commandCalls(sm.GetSecretValueCommand)).toHaveLength(2);
    expect(result).toMatchObject({ promote: true, images: 9 });
    expect(result.reportConsoleUrl).toContain('?region=eu-central-1&');
    freshSecrets.restore();
    freshRuntime.restore();
  });
});
