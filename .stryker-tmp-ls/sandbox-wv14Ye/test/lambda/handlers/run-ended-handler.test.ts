import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeLabelingJobCommand, ResourceNotFound, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import { readBatchState, takeBatchSnapshot } from '../../../lambda/workflow/batch';
import { type EmbeddedS3Server, handlerS3Environment, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { lambdaContext } from '../../../local/lambda-invocation';
import { withLogs } from '../../helpers/lambda-module';

const sagemaker = mockClient(SageMakerClient);
const sns = mockClient(SNSClient);

/**
 * The run-end Lambda as deployed: its module loaded with its settings, S3 on the embedded server,
 * SageMaker answering DescribeLabelingJob with the SDK's own error for a job that does not exist.
 */
describe('the run-end handler', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  let handler: typeof import('../../../lambda/handlers/run-ended').handler;

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts'] });
    store = new S3ObjectStore(server.client());
    Object.assign(process.env, {
      ...handlerS3Environment(server),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      SEGPIPE_SETTINGS: JSON.stringify({
        artifactsBucket: 'artifacts',
        resourcePrefix: 'segpipe',
        minValidationMiou: 0.5,
        labeling: true,
        topicArn: 'arn:aws:sns:us-east-1:123456789012:runs',
      }),
    });
    ({ handler } = await import('../../../lambda/handlers/run-ended'));
  });
  afterAll(async () => {
    sagemaker.restore();
    sns.restore();
    store.client.destroy();
    await server.close();
  });

  test('a run that ended before its labeling job existed gives its images back (SageMaker answers ResourceNotFound)', async () => {
    await store.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'images/early/a.jpg', Body: 'x' }));
    await takeBatchSnapshot({ store, inboxBucket: 'inbox', artifactsBucket: 'artifacts', batch: 'early', generation: 0 });
    // The SDK's own exception class, with the name SageMaker's DescribeLabelingJob throws (@throws ResourceNotFound).
    sagemaker.on(DescribeLabelingJobCommand).rejects(new ResourceNotFound({ message: 'Could not find labeling job', $metadata: {} }));
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const { result: action, logged } = await withLogs(() =>
      handler(
        {
          version: '0',
          id: 'e1',
          'detail-type': 'Step Functions Execution Status Change',
          source: 'aws.states',
          account: '123456789012',
          time: '2026-12-01T11:00:00Z',
          region: 'us-east-1',
          resources: ['arn:aws:states:us-east-1:123456789012:execution:segpipe:early-g0'],
          detail: {
            name: 'early-g0',
            status: 'ABORTED',
            input: JSON.stringify({ batch: 'early', generation: 0 }),
            error: null,
            cause: null,
            startDate: Date.UTC(2026, 11, 1, 10),
            stopDate: Date.UTC(2026, 11, 1, 11),
          },
        },
        lambdaContext('run-ended'),
      ),
    );
    expect(action).toBe('reported');
    expect(logged).toContainEqual(
      expect.objectContaining({ message: 'execution ended', name: 'early-g0', status: 'ABORTED', action: 'reported', released: true }),
    );
    expect(sagemaker.commandCalls(DescribeLabelingJobCommand)[0].args[0].input).toEqual({
      LabelingJobName: expect.stringMatching(/^segpipe-/),
    });
    expect(sagemaker.commandCalls(DescribeLabelingJobCommand)).toHaveLength(1);
    expect((await readBatchState(store, 'artifacts', 'early')).released).toEqual([0]);
    expect(sns.commandCalls(PublishCommand)[0].args[0].input.Message).toContain('its images are given back');
  });

  const ended = (name: string, batch: string) => ({
    version: '0',
    id: name,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2026-12-01T11:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:states:us-east-1:123456789012:execution:segpipe:${name}`],
    detail: {
      name,
      status: 'FAILED',
      input: JSON.stringify({ batch, generation: 0 }),
      error: 'States.Timeout',
      cause: null,
      startDate: null,
      stopDate: null,
    },
  });

  test('a run whose labeling job exists keeps its images (they are being labeled); any other SageMaker error fails the invocation', async () => {
    await store.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'images/labeled/a.jpg', Body: 'x' }));
    await takeBatchSnapshot({ store, inboxBucket: 'inbox', artifactsBucket: 'artifacts', batch: 'labeled', generation: 0 });
    sagemaker.reset();
    sagemaker.on(DescribeLabelingJobCommand).resolves({ LabelingJobName: 'x' } as never);
    const { result, logged } = await withLogs(() => handler(ended('labeled-g0', 'labeled'), lambdaContext('run-ended')));
    expect(result).toBe('reported');
    expect((await readBatchState(store, 'artifacts', 'labeled')).released ?? []).toEqual([]);
    expect(logged).toContainEqual(expect.objectContaining({ message: 'execution ended', released: false }));

    await store.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: 'images/throttled/a.jpg', Body: 'x' }));
    await takeBatchSnapshot({ store, inboxBucket: 'inbox', artifactsBucket: 'artifacts', batch: 'throttled', generation: 0 });
    sagemaker.reset();
    sagemaker
      .on(DescribeLabelingJobCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    await expect(handler(ended('throttled-g0', 'throttled'), lambdaContext('run-ended'))).rejects.toThrow('Rate exceeded');
    expect((await readBatchState(store, 'artifacts', 'throttled')).released ?? []).toEqual([]);
  });
});
