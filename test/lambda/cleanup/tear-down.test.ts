import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { tearDownStackResources } from '../../../lambda/cleanup/tear-down';
import { SageMakerWorld } from '../../helpers/sagemaker-world';

const OURS = { 'segpipe:stack': 'Segpipe' };
const TARGET = { stackName: 'Segpipe', resourcePrefix: 'segpipe', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Workflow' };
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

const pass = () => tearDownStackResources({ sagemaker: world.clients().sagemaker, sfn: new SFNClient({ region: 'us-east-1' }) }, TARGET, { baseDelayMs: 1 });

test('stops running executions and the stack\'s running jobs, deletes its endpoint, then configs and models, over passes', async () => {
  sfn.on(ListExecutionsCommand).resolvesOnce({
    executions: [{ executionArn: `${TARGET.stateMachineArn.replace('stateMachine', 'execution')}:run-1`, name: 'run-1', stateMachineArn: TARGET.stateMachineArn, status: 'RUNNING', startDate: created }],
  }).resolves({ executions: [] });
  world.jobs.set('segpipe-train-r1', { kind: 'training-job', name: 'segpipe-train-r1', tags: OURS, createdAt: created, status: 'InProgress' });
  world.jobs.set('segpipe-label-r1', { kind: 'labeling-job', name: 'segpipe-label-r1', tags: OURS, createdAt: created, status: 'InProgress' });
  world.jobs.set('segpipe-train-theirs', { kind: 'training-job', name: 'segpipe-train-theirs', tags: { 'segpipe:stack': 'Other' }, createdAt: created, status: 'InProgress' });
  world.endpoints.set('segpipe-endpoint', { name: 'segpipe-endpoint', tags: OURS, createdAt: created, status: 'Creating', config: 'segpipe-config-1' });
  world.configs.set('segpipe-config-1', { name: 'segpipe-config-1', tags: OURS, createdAt: created, models: ['segpipe-model-1'] });
  world.models.set('segpipe-model-1', { name: 'segpipe-model-1', tags: OURS, createdAt: created });
  world.models.set('segpipe-model-mine', { name: 'segpipe-model-mine', tags: {}, createdAt: created });

  const first = await pass();
  expect(first.complete).toBe(false);
  expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([expect.stringMatching(/:run-1$/)]);
  expect(world.stopped.sort()).toEqual(['labeling-job segpipe-label-r1', 'training-job segpipe-train-r1']);
  expect(first.waitingFor).toContain('endpoint segpipe-endpoint (Creating) before deleting it');
  expect(world.deleted).toEqual([]);

  world.endpoints.get('segpipe-endpoint')!.status = 'InService';
  const second = await pass();
  expect(second.complete).toBe(false);
  expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);

  const third = await pass();
  expect(third.complete).toBe(true);
  expect(world.deleted).toEqual(['endpoint segpipe-endpoint', 'endpoint-config segpipe-config-1', 'model segpipe-model-1']);
  expect(world.models.has('segpipe-model-mine')).toBe(true);
  expect(world.jobs.get('segpipe-train-theirs')!.status).toBe('InProgress');
});

test('a stack with nothing in SageMaker is done at once', async () => {
  expect(await pass()).toEqual({ complete: true, actions: [], waitingFor: [] });
});
