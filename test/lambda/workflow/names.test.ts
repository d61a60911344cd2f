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

  test('the prefix is the stack name\'s start, lower-case, and a hash of the whole name', () => {
    expect(resourcePrefix('Segpipe')).toMatch(/^segpipe-[0-9a-f]{8}$/);
    expect(resourcePrefix('My_Turtle_Stack_For_Production_Use')).toMatch(/^my-turtle-st-[0-9a-f]{8}$/);
    expect(resourcePrefix('---')).toMatch(/^segpipe-[0-9a-f]{8}$/);
    expect(resourcePrefix('Segpipe')).toBe(resourcePrefix('Segpipe'));
    expect(endpointName('segpipe')).toBe('segpipe-endpoint');
  });

  test('two stacks never share a prefix, nor does one\'s prefix start another\'s: the name ends in a fixed-length hash', () => {
    const names = ['Segpipe', 'Segpipe-Dev', 'segpipe', 'SegpipeTurtlesProduction', 'SegpipeTurtlesProductionB', 'Segpipe-Turtles-Production-Eu', 'Segpipe-Turtles-Production-Us'];
    const prefixes = names.map(resourcePrefix);
    expect(new Set(prefixes).size).toBe(names.length);
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(`${b}-`.startsWith(`${a}-`)).toBe(false);
  });

  test('a run\'s names stay within 63 characters under the longest prefix', () => {
    const prefix = resourcePrefix('x'.repeat(128));
    expect(prefix.length).toBeLessThanOrEqual(21);
    for (const name of [...Object.values(runResourceNames(prefix, 'y'.repeat(80))), endpointName(prefix)]) {
      expect(name).toMatch(SAGEMAKER_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });
});
