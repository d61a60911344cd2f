import { SAGEMAKER_NAME_PATTERN, endpointName, resourcePrefix, runResourceNames } from '../../../lambda/workflow/names';

describe('SageMaker resource names', () => {
  test.each([
    'turtles-1',
    'Turtles_2026-11-29T10:00:00.000Z',
    'x'.repeat(80),
    '海龟-batch',
    '---',
  ])('names for run %j are valid, at most 63 characters, lower-case and under the prefix', (runId) => {
    for (const name of Object.values(runResourceNames('segpipe', runId))) {
      expect(name).toMatch(SAGEMAKER_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toBe(name.toLowerCase());
      expect(name.startsWith('segpipe-')).toBe(true);
    }
  });

  test('runs whose ids differ only in case or punctuation get different names', () => {
    const a = runResourceNames('segpipe', 'Turtles-1');
    const b = runResourceNames('segpipe', 'turtles-1');
    const c = runResourceNames('segpipe', 'turtles_1');
    expect(new Set([a.trainingJob, b.trainingJob, c.trainingJob]).size).toBe(3);
  });

  test('the prefix comes from the stack name, lower-case', () => {
    expect(resourcePrefix('Segpipe')).toBe('segpipe');
    expect(resourcePrefix('My_Turtle_Stack_For_Production_Use')).toBe('my-turtle-stack-for');
    expect(endpointName('segpipe')).toBe('segpipe-endpoint');
  });
});
