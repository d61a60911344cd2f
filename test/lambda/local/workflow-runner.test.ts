import { AslDefinition, LOCAL_TASK_TIMEOUT_SECONDS, withStepFunctionsTaskTimeouts } from '../../../lambda/local/workflow-runner';

test('a Task without a timeout of its own gets none locally either (Step Functions sets none; the interpreter would stop it after 60 s)', () => {
  const definition: AslDefinition = {
    StartAt: 'Convert chunks',
    States: {
      'Convert chunks': { Type: 'Map', ItemProcessor: { StartAt: 'Convert chunk', States: { 'Convert chunk': { Type: 'Task', Resource: 'arn:convert', End: true } } }, Next: 'Train' },
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
