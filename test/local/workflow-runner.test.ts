import { type AslDefinition, LOCAL_TASK_TIMEOUT_SECONDS, runWorkflow, withStepFunctionsTaskTimeouts } from '../../local/workflow-runner';

test('a Task without a timeout of its own gets none locally either (Step Functions sets none; the interpreter would stop it after 60 s)', () => {
  const definition: AslDefinition = {
    StartAt: 'Convert chunks',
    States: {
      'Convert chunks': {
        Type: 'Map',
        ItemProcessor: { StartAt: 'Convert chunk', States: { 'Convert chunk': { Type: 'Task', Resource: 'arn:convert', End: true } } },
        Next: 'Train',
      },
      Train: { Type: 'Task', Resource: 'arn:train', Next: 'Poll' },
      Poll: { Type: 'Task', Resource: 'arn:poll', TimeoutSeconds: 30, Next: 'Later' },
      Later: { Type: 'Task', Resource: 'arn:later', TimeoutSecondsPath: '$.timeout', Next: 'Wait' },
      Wait: { Type: 'Wait', Seconds: 5, End: true },
    },
  };
  const local = withStepFunctionsTaskTimeouts(definition);
  expect(local.States.Train.TimeoutSeconds).toBe(LOCAL_TASK_TIMEOUT_SECONDS);
  expect(local.States['Convert chunks'].ItemProcessor!.States['Convert chunk'].TimeoutSeconds).toBe(LOCAL_TASK_TIMEOUT_SECONDS);
  expect(local.States.Poll.TimeoutSeconds).toBe(30);
  expect(local.States.Later.TimeoutSeconds).toBeUndefined();
  expect(local.States.Wait).toEqual(definition.States.Wait);
  expect(definition.States.Train.TimeoutSeconds).toBeUndefined();
});

test('an aborted run starts no Task and returns only once the Tasks it started have returned (a failed test then closes its stand-ins at once)', async () => {
  const definition: AslDefinition = {
    StartAt: 'Convert chunks',
    States: {
      'Convert chunks': {
        Type: 'Map',
        ItemsPath: '$.chunks',
        MaxConcurrency: 1,
        ItemProcessor: { StartAt: 'Convert chunk', States: { 'Convert chunk': { Type: 'Task', Resource: 'arn:convert', End: true } } },
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Report failure' }],
        Next: 'Train',
      },
      Train: { Type: 'Task', Resource: 'arn:train', End: true },
      'Report failure': { Type: 'Task', Resource: 'arn:report', End: true },
    },
  };
  const log: string[] = [];
  let started!: () => void;
  const convertStarted = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const controller = new AbortController();
  const outcome = runWorkflow({
    definition,
    input: { chunks: [1, 2] },
    executionName: 'aborted',
    signal: controller.signal,
    tasks: {
      'Convert chunk': async (chunk) => {
        log.push(`convert ${chunk} started`);
        started();
        await released;
        log.push(`convert ${chunk} returned`);
        return {};
      },
      Train: async () => {
        log.push('train started');
        return {};
      },
      'Report failure': async () => {
        log.push('report started');
        return {};
      },
    },
  }).then((o) => log.push(`outcome ${o.status} ${o.error} after ${o.path.join(', ')}`));
  await convertStarted;
  controller.abort();
  log.push('aborted');
  // Turns of the event loop in which an outcome that did not wait for the running Task would arrive.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  release();
  await outcome;
  expect(log).toEqual(['convert 1 started', 'aborted', 'convert 1 returned', 'outcome FAILED ExecutionAborted after Convert chunks']);
});
