import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteEndpointCommand, ListEndpointsCommand, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { tearDownStackResources } from '../../../lambda/cleanup/tear-down';
import type { TearDownEvent } from '../../../lambda/handlers/tear-down';
import { lambdaContext } from '../../../local/lambda-invocation';
import { withLogs } from '../../helpers/lambda-module';
import { arnOf, SageMakerWorld } from '../../helpers/sagemaker-world';

const OURS = { 'segpipe:stack': 'Segpipe' };
const TARGET = {
  stackName: 'Segpipe',
  resourcePrefix: 'segpipe',
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Workflow',
};
const created = new Date('2026-11-01T00:00:00Z');

let world: SageMakerWorld;
const sfn = mockClient(SFNClient);
beforeEach(() => {
  world = new SageMakerWorld();
  sfn.reset();
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  sfn.on(StopExecutionCommand).resolves({});
});
afterEach(() => world.restore());
afterAll(() => sfn.restore());

const pass = () => tearDownStackResources({ sagemaker: world.clients().sagemaker, sfn: new SFNClient({ region: 'us-east-1' }) }, TARGET);

test("stops running executions and the stack's running jobs, deletes its endpoint, then configs and models, over passes", async () => {
  sfn
    .on(ListExecutionsCommand)
    .resolvesOnce({
      executions: [
        {
          executionArn: `${TARGET.stateMachineArn.replace('stateMachine', 'execution')}:run-1`,
          name: 'run-1',
          stateMachineArn: TARGET.stateMachineArn,
          status: 'RUNNING',
          startDate: created,
        },
      ],
    })
    .resolves({ executions: [] });
  world.jobs.set('segpipe-train-r1', {
    kind: 'training-job',
    name: 'segpipe-train-r1',
    tags: OURS,
    createdAt: created,
    status: 'InProgress',
  });
  world.jobs.set('segpipe-label-r1', {
    kind: 'labeling-job',
    name: 'segpipe-label-r1',
    tags: OURS,
    createdAt: created,
    status: 'Initializing',
  });
  world.jobs.set('segpipe-train-r0', {
    kind: 'training-job',
    name: 'segpipe-train-r0',
    tags: OURS,
    createdAt: created,
    status: 'Stopping',
  });
  world.jobs.set('segpipe-train-theirs', {
    kind: 'training-job',
    name: 'segpipe-train-theirs',
    tags: { 'segpipe:stack': 'Other' },
    createdAt: created,
    status: 'InProgress',
  });
  world.endpoints.set('segpipe-endpoint', {
    name: 'segpipe-endpoint',
    tags: OURS,
    createdAt: created,
    status: 'Creating',
    config: 'segpipe-config-1',
  });
  world.configs.set('segpipe-config-1', { name: 'segpipe-config-1', tags: OURS, createdAt: created, models: ['segpipe-model-1'] });
  world.models.set('segpipe-model-1', { name: 'segpipe-model-1', tags: OURS, createdAt: created });
  world.models.set('segpipe-model-mine', { name: 'segpipe-model-mine', tags: {}, createdAt: created });

  const first = await pass();
  expect(first).toEqual({
    complete: false,
    actions: ['stopped execution run-1', 'stopped training-job segpipe-train-r1', 'stopped labeling-job segpipe-label-r1'],
    waitingFor: [
      'training-job segpipe-train-r1 to stop',
      'training-job segpipe-train-r0 to stop',
      'labeling-job segpipe-label-r1 to stop',
      'endpoint segpipe-endpoint (Creating) before deleting it',
      'the endpoints to go before deleting endpoint configs and models',
    ],
  });
  // The execution ends as failed with a reason its history shows, not as a plain abort.
  expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
    {
      executionArn: `${TARGET.stateMachineArn.replace('stateMachine', 'execution')}:run-1`,
      error: 'StackDeleted',
      cause: 'The segpipe stack is being deleted.',
    },
  ]);
  // Each job by the call for its kind (the world finds no labeling job by StopTrainingJob).
  expect(world.stopped.sort()).toEqual(['labeling-job segpipe-label-r1', 'training-job segpipe-train-r1']);
  expect(world.deleted).toEqual([]);

  world.endpoints.get('segpipe-endpoint')!.status = 'InService';
  for (const job of world.jobs.values()) if (job.status === 'Stopping') job.status = 'Stopped';
  const second = await pass();
  expect(second).toEqual({
    complete: false,
    actions: ['deleted endpoint segpipe-endpoint (InService)'],
    waitingFor: ['endpoint segpipe-endpoint to be deleted', 'the endpoints to go before deleting endpoint configs and models'],
  });
  expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);

  const third = await pass();
  expect(third).toEqual({
    complete: true,
    actions: ['deleted endpoint-config segpipe-config-1', 'deleted model segpipe-model-1'],
    waitingFor: [],
  });
  expect(world.deleted).toEqual(['endpoint segpipe-endpoint', 'endpoint-config segpipe-config-1', 'model segpipe-model-1']);
  expect(world.models.has('segpipe-model-mine')).toBe(true);
  expect(world.jobs.get('segpipe-train-theirs')!.status).toBe('InProgress');
});

test('a pass that has just stopped a running job is not complete: the job bills until it has stopped', async () => {
  world.jobs.set('segpipe-train-r1', {
    kind: 'training-job',
    name: 'segpipe-train-r1',
    tags: OURS,
    createdAt: created,
    status: 'InProgress',
  });
  const result = await pass();
  expect(world.stopped).toEqual(['training-job segpipe-train-r1']);
  expect(result).toEqual({
    complete: false,
    actions: ['stopped training-job segpipe-train-r1'],
    waitingFor: ['training-job segpipe-train-r1 to stop'],
  });
});

test('running executions listed over two pages are all stopped', async () => {
  const execution = (name: string) => ({
    executionArn: `${TARGET.stateMachineArn.replace('stateMachine', 'execution')}:${name}`,
    name,
    stateMachineArn: TARGET.stateMachineArn,
    status: 'RUNNING' as const,
    startDate: created,
  });
  sfn
    .on(ListExecutionsCommand)
    .callsFake((input) =>
      input.nextToken === 'page-2' ? { executions: [execution('run-2')] } : { executions: [execution('run-1')], nextToken: 'page-2' },
    );
  await pass();
  expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
    expect.stringMatching(/:run-1$/),
    expect.stringMatching(/:run-2$/),
  ]);
  // Only running ones are asked for: a finished execution cannot be stopped, and there may be thousands.
  expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
    { stateMachineArn: TARGET.stateMachineArn, statusFilter: 'RUNNING', nextToken: undefined },
    { stateMachineArn: TARGET.stateMachineArn, statusFilter: 'RUNNING', nextToken: 'page-2' },
  ]);
});

test('an endpoint SageMaker is already deleting is waited for, not deleted again, and its config waits with it', async () => {
  world.endpoints.set('segpipe-endpoint', {
    name: 'segpipe-endpoint',
    tags: OURS,
    createdAt: created,
    status: 'Deleting',
    config: 'segpipe-config-1',
  });
  world.configs.set('segpipe-config-1', { name: 'segpipe-config-1', tags: OURS, createdAt: created, models: [] });
  expect(await pass()).toEqual({
    complete: false,
    actions: [],
    waitingFor: ['endpoint segpipe-endpoint to be deleted', 'the endpoints to go before deleting endpoint configs and models'],
  });
  expect(world.deleted).toEqual([]);
});

test("an endpoint made by hand under the stack's prefix, without the stack's tag, is not the tear-down's to delete", async () => {
  world.endpoints.set('segpipe-by-hand', {
    name: 'segpipe-by-hand',
    tags: {},
    createdAt: created,
    status: 'InService',
    config: 'segpipe-config-1',
  });
  expect(await pass()).toEqual({ complete: true, actions: [], waitingFor: [] });
  expect(world.deleted).toEqual([]);
});

test('a job already gone when the pass stops it is passed over; a call SageMaker refuses fails the pass', async () => {
  world.jobs.set('segpipe-train-r1', {
    kind: 'training-job',
    name: 'segpipe-train-r1',
    tags: OURS,
    createdAt: created,
    status: 'InProgress',
  });
  world.sagemaker
    .on(StopTrainingJobCommand)
    .rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFound' }));
  expect(await pass()).toEqual({ complete: false, actions: [], waitingFor: ['training-job segpipe-train-r1 to stop'] });

  // Anything but "not found" is not the pass's to swallow: the custom resource retries or fails visibly.
  world.jobs.clear();
  world.endpoints.set('segpipe-endpoint', {
    name: 'segpipe-endpoint',
    tags: OURS,
    createdAt: created,
    status: 'InService',
    config: 'segpipe-config-1',
  });
  world.sagemaker
    .on(DeleteEndpointCommand)
    .rejects(Object.assign(new Error('User is not authorized to perform: sagemaker:DeleteEndpoint'), { name: 'AccessDeniedException' }));
  await expect(pass()).rejects.toThrow('not authorized');
});

test('an endpoint listed without a status is deleted, its status reported as Unknown', async () => {
  world.endpoints.set('segpipe-endpoint', {
    name: 'segpipe-endpoint',
    tags: OURS,
    createdAt: created,
    status: 'InService',
    config: 'segpipe-config-1',
  });
  world.sagemaker.on(ListEndpointsCommand).resolves({
    Endpoints: [
      {
        EndpointName: 'segpipe-endpoint',
        EndpointArn: arnOf('endpoint', 'segpipe-endpoint'),
        CreationTime: created,
        LastModifiedTime: created,
        EndpointStatus: undefined,
      },
    ],
  });
  expect((await pass()).actions).toEqual(['deleted endpoint segpipe-endpoint (Unknown)']);
});

test('a stack with nothing in SageMaker is done at once', async () => {
  expect(await pass()).toEqual({ complete: true, actions: [], waitingFor: [] });
});

describe('the tear-down custom resource handler', () => {
  const cloudformation = mockClient(CloudFormationClient);
  afterAll(() => cloudformation.restore());
  const load = () => {
    Object.assign(process.env, {
      SEGPIPE_SETTINGS: JSON.stringify({ stackName: 'Segpipe', resourcePrefix: 'segpipe', stateMachineArn: TARGET.stateMachineArn }),
      AWS_REGION: 'us-east-1',
    });
    return require('../../../lambda/handlers/tear-down') as typeof import('../../../lambda/handlers/tear-down');
  };
  // The event as the CDK provider framework passes it on.
  const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
    ({
      RequestType,
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Segpipe/1',
      PhysicalResourceId: 'Segpipe-sagemaker-tear-down',
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
      ResponseURL: 'https://example.invalid/response',
      RequestId: 'r1',
      LogicalResourceId: 'TearDown',
      ResourceType: 'Custom::SegpipeSageMakerTearDown',
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider' },
      OldResourceProperties: {},
    }) as TearDownEvent;

  beforeEach(() => {
    world.endpoints.set('segpipe-endpoint', {
      name: 'segpipe-endpoint',
      tags: OURS,
      createdAt: created,
      status: 'InService',
      config: 'segpipe-config-1',
    });
  });

  test('a Delete while the stack is being deleted tears down', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'Segpipe', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: created }] });
    const { onEvent, isComplete } = load();
    expect(await onEvent(event('Delete'), lambdaContext('tear-down'))).toEqual({ PhysicalResourceId: 'Segpipe-sagemaker-tear-down' });
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);
    expect(await isComplete(event('Delete'), lambdaContext('tear-down'))).toEqual({ IsComplete: true });
  });

  const stackIs = (StackStatus: string) =>
    cloudformation
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'Segpipe', StackStatus: StackStatus as never, CreationTime: created }] });

  test('a Delete while the stack rolls back its creation tears down', async () => {
    stackIs('ROLLBACK_IN_PROGRESS');
    const { onEvent } = load();
    await onEvent(event('Delete'), lambdaContext('tear-down'));
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);
  });

  test.each(['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'])(
    'a Delete while the stack stays (%s: the resource replaced, an update cleaning up or rolled back) touches nothing',
    async (status) => {
      stackIs(status);
      const { onEvent, isComplete } = load();
      await onEvent(event('Delete'), lambdaContext('tear-down'));
      expect(await isComplete(event('Delete'), lambdaContext('tear-down'))).toEqual({ IsComplete: true });
      expect(world.deleted).toEqual([]);
    },
  );

  test("the physical id is made at Create and kept after; the stack's status and each pass are logged", async () => {
    stackIs('UPDATE_COMPLETE');
    const { onEvent, isComplete } = load();
    const kept = (type: 'Update' | 'Delete') => ({ ...event(type), PhysicalResourceId: 'kept-id' }) as TearDownEvent;
    expect(await onEvent(kept('Update'), lambdaContext('tear-down'))).toEqual({ PhysicalResourceId: 'kept-id' });
    const staying = await withLogs(() => onEvent(kept('Delete'), lambdaContext('tear-down')));
    expect(staying.result).toEqual({ PhysicalResourceId: 'kept-id' });
    expect(staying.logged).toContainEqual(
      expect.objectContaining({
        message: 'delete of the tear-down resource while the stack stays: nothing torn down',
        status: 'UPDATE_COMPLETE',
      }),
    );
    expect(cloudformation.commandCalls(DescribeStacksCommand).at(-1)?.args[0].input).toEqual({ StackName: event('Delete').StackId });
    // A stack CloudFormation no longer describes is not known to be going away: nothing is torn down.
    cloudformation.reset();
    cloudformation.on(DescribeStacksCommand).resolves({});
    const unknown = await withLogs(() => isComplete(kept('Delete'), lambdaContext('tear-down')));
    expect(unknown.result).toEqual({ IsComplete: true });
    expect(unknown.logged).toContainEqual(expect.objectContaining({ status: 'unknown' }));
    expect(world.deleted).toEqual([]);
    stackIs('DELETE_IN_PROGRESS');
    const going = await withLogs(() => isComplete(kept('Delete'), lambdaContext('tear-down')));
    expect(going.logged).toEqual([
      expect.objectContaining({ message: 'tear-down pass', complete: expect.any(Boolean), actions: expect.any(Array) }),
    ]);
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);
  });

  test('a Create or Update touches nothing, even while the stack is being deleted', async () => {
    // DELETE_IN_PROGRESS: the stack's status would let a tear-down through, so only the request type refuses.
    stackIs('DELETE_IN_PROGRESS');
    const { onEvent, isComplete } = load();
    for (const type of ['Create', 'Update'] as const) {
      expect(await onEvent(event(type), lambdaContext('tear-down'))).toEqual({ PhysicalResourceId: 'Segpipe-sagemaker-tear-down' });
      expect(await isComplete(event(type), lambdaContext('tear-down'))).toEqual({ IsComplete: true });
    }
    expect(world.deleted).toEqual([]);
  });
});
