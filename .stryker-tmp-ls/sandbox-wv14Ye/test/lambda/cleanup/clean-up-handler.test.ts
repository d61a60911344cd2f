import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteEndpointConfigCommand, DeleteModelCommand } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { CleanupEvent } from '../../../lambda/handlers/clean-up';
import { lambdaContext } from '../../../local/lambda-invocation';
import { withLogs } from '../../helpers/lambda-module';
import { SageMakerWorld } from '../../helpers/sagemaker-world';

const OURS = { 'segpipe:stack': 'Segpipe' };
const events = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
let world: SageMakerWorld;

const POLICY = {
  stackName: 'Segpipe',
  resourcePrefix: 'segpipe',
  topicArn: 'arn:aws:sns:us-east-1:123456789012:runs',
  idleMinutes: 120,
  timeToLiveHours: 0,
  keepModels: 0,
  dryRun: false,
  graceMinutes: 60,
};

/** The Lambda's handler is made from its settings when the module loads; each test makes one for its policy. */
function loadHandler(policy: Partial<typeof POLICY> = {}) {
  Object.assign(process.env, { SEGPIPE_SETTINGS: JSON.stringify(POLICY), AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  return (require('../../../lambda/handlers/clean-up') as typeof import('../../../lambda/handlers/clean-up')).cleanUpHandler({
    ...POLICY,
    ...policy,
  });
}

beforeEach(() => {
  world = new SageMakerWorld();
  events.reset();
  sns.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  const failedAt = new Date(Date.now() - 60_000);
  world.endpoints.set('segpipe-endpoint', {
    name: 'segpipe-endpoint',
    tags: OURS,
    createdAt: failedAt,
    status: 'Failed',
    failureReason: 'The primary container did not pass the ping health check.',
    config: 'segpipe-config-1',
  });
  world.configs.set('segpipe-config-1', {
    name: 'segpipe-config-1',
    tags: OURS,
    createdAt: new Date(Date.now() - 3 * 3600_000),
    models: ['segpipe-model-1'],
  });
  world.models.set('segpipe-model-1', { name: 'segpipe-model-1', tags: OURS, createdAt: new Date(Date.now() - 3 * 3600_000) });
});
afterEach(() => world.restore());

/** The envelope EventBridge puts around every event. */
const envelope = { id: 'e1', version: '0', account: '123456789012', time: '2026-12-02T00:00:00Z', region: 'us-east-1', resources: [] };
const failedEvent: CleanupEvent = {
  ...envelope,
  'detail-type': 'SageMaker Endpoint State Change',
  source: 'aws.sagemaker',
  detail: { EndpointName: 'segpipe-endpoint', EndpointStatus: 'FAILED' },
};
const scheduledEvent: CleanupEvent = { ...envelope, 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

test('an endpoint entering FAILED is deleted, each deletion published, and the user notified with the reason', async () => {
  const handler = loadHandler();
  const result = await handler(failedEvent, lambdaContext('clean-up'));
  expect(result.deleted.map((d) => `${d.kind} ${d.name}`)).toEqual([
    'endpoint segpipe-endpoint',
    'endpoint-config segpipe-config-1',
    'model segpipe-model-1',
  ]);
  const entries = events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
  expect(entries).toHaveLength(3);
  expect(entries[0]).toEqual({ Source: 'segpipe', DetailType: 'Segpipe Resource Deleted', Detail: expect.any(String) });
  expect(JSON.parse(entries[0].Detail!)).toEqual({
    stack: 'Segpipe',
    kind: 'endpoint',
    name: 'segpipe-endpoint',
    reason: 'Failed: The primary container did not pass the ping health check.',
  });
  const [publish] = sns.commandCalls(PublishCommand);
  expect(publish.args[0].input).toEqual(
    expect.objectContaining({ Subject: 'segpipe: endpoint segpipe-endpoint failed', TopicArn: 'arn:aws:sns:us-east-1:123456789012:runs' }),
  );
  expect(publish.args[0].input.Message).toContain('ping health check');
});

test('a scheduled dry run deletes and publishes nothing', async () => {
  const handler = loadHandler({ dryRun: true });
  const result = await handler(scheduledEvent, lambdaContext('clean-up'));
  expect(result.deleted).toHaveLength(3);
  expect(world.deleted).toEqual([]);
  expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
});

test('each deletion and each resource kept is logged with what started the sweep, then the totals', async () => {
  // A config made a minute ago is within the grace period: kept.
  world.configs.set('segpipe-config-new', { name: 'segpipe-config-new', tags: OURS, createdAt: new Date(Date.now() - 60_000), models: [] });
  const handler = loadHandler();
  const { result, logged } = await withLogs(() => handler(failedEvent, lambdaContext('clean-up')));
  expect(result?.kept.map((k) => k.name)).toContain('segpipe-config-new');
  expect(logged).toContainEqual(
    expect.objectContaining({
      message: 'deleted',
      kind: 'endpoint',
      name: 'segpipe-endpoint',
      trigger: 'endpoint segpipe-endpoint FAILED',
      dryRun: false,
    }),
  );
  expect(logged).toContainEqual(expect.objectContaining({ message: 'kept', kind: 'endpoint-config', name: 'segpipe-config-new' }));
  expect(logged).toContainEqual(expect.objectContaining({ message: 'clean-up done', deleted: 3, kept: result?.kept.length, vanished: 0 }));
  expect(logged.filter((line) => line.level === 'ERROR')).toEqual([]);
});

test('a dry run logs what it would delete', async () => {
  const dry = await withLogs(() => loadHandler({ dryRun: true })(scheduledEvent, lambdaContext('clean-up')));
  expect(dry.logged).toContainEqual(
    expect.objectContaining({
      message: 'dry run: would delete',
      kind: 'model',
      name: 'segpipe-model-1',
      trigger: 'schedule',
      dryRun: true,
    }),
  );
  expect(dry.logged.filter((line) => line.message === 'deleted')).toEqual([]);
});

test('a deletion event that cannot be published is logged, and the sweep goes on', async () => {
  events.reset();
  events
    .on(PutEventsCommand)
    .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] })
    .rejectsOnce(new Error('throttled'))
    .resolves({ FailedEntryCount: 0, Entries: [] });
  const { result, logged } = await withLogs(() => loadHandler()(scheduledEvent, lambdaContext('clean-up')));
  expect(result?.deleted).toHaveLength(3);
  expect(logged.filter((line) => line.message === 'deletion event not published')).toEqual([
    expect.objectContaining({ level: 'ERROR', kind: 'endpoint', entries: [{ ErrorCode: 'InternalFailure' }] }),
    expect.objectContaining({ level: 'ERROR', kind: 'endpoint-config', error: 'throttled' }),
  ]);
  // A scheduled sweep tells the user nothing.
  expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
});

test('a deletion SageMaker refuses fails the invocation, naming it, after the rest is swept; one deleted by someone else is logged as gone', async () => {
  world.sagemaker.on(DeleteModelCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
  world.sagemaker
    .on(DeleteEndpointConfigCommand)
    .rejects(Object.assign(new Error('Could not find endpoint configuration "segpipe-config-1".'), { name: 'ValidationException' }));
  const { error, logged } = await withLogs(() => loadHandler()(scheduledEvent, lambdaContext('clean-up')));
  expect((error as Error).message).toMatch(/^clean-up could not delete model segpipe-model-1 \(.*not authorized.*\)$/);
  expect(logged).toContainEqual(expect.objectContaining({ message: 'already gone', kind: 'endpoint-config', name: 'segpipe-config-1' }));
  expect(logged).toContainEqual(expect.objectContaining({ message: 'deleted', kind: 'endpoint', name: 'segpipe-endpoint' }));
  expect(logged.filter((line) => line.message === 'clean-up done')).toEqual([]);
});
