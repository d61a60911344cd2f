import {
  endpointName,
  nameSafe,
  RUN_TAG_KEY,
  resourcePrefix,
  runResourceNames,
  SAGEMAKER_NAME_PATTERN,
  STACK_TAG_KEY,
} from '../../../lambda/workflow/names';

describe('SageMaker resource names', () => {
  test.each(['turtles-1', 'Turtles_2026-11-29T10:00:00.000Z', 'x'.repeat(80), '海龟-batch', '---'])(
    'names for run %j are valid, at most 63 characters, lower-case and under the prefix',
    (runId) => {
      for (const name of Object.values(runResourceNames('segpipe', runId))) {
        expect(name).toMatch(SAGEMAKER_NAME_PATTERN);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toBe(name.toLowerCase());
        expect(name.startsWith('segpipe-')).toBe(true);
      }
    },
  );

  test('runs whose ids differ only in case or punctuation get different names', () => {
    const a = runResourceNames('segpipe', 'Turtles-1');
    const b = runResourceNames('segpipe', 'turtles-1');
    const c = runResourceNames('segpipe', 'turtles_1');
    expect(new Set([a.trainingJob, b.trainingJob, c.trainingJob]).size).toBe(3);
  });

  test("the prefix is the stack name's start, lower-case, and a hash of the whole name", () => {
    expect(resourcePrefix('Segpipe')).toMatch(/^segpipe-[0-9a-f]{8}$/);
    expect(resourcePrefix('My_Turtle_Stack_For_Production_Use')).toMatch(/^my-turtle-st-[0-9a-f]{8}$/);
    expect(resourcePrefix('---')).toMatch(/^segpipe-[0-9a-f]{8}$/);
    expect(resourcePrefix('Segpipe')).toBe(resourcePrefix('Segpipe'));
    expect(endpointName('segpipe')).toBe('segpipe-endpoint');
  });

  test("two stacks never share a prefix, nor does one's prefix start another's: the name ends in a fixed-length hash", () => {
    const names = [
      'Segpipe',
      'Segpipe-Dev',
      'segpipe',
      'SegpipeTurtlesProduction',
      'SegpipeTurtlesProductionB',
      'Segpipe-Turtles-Production-Eu',
      'Segpipe-Turtles-Production-Us',
    ];
    const prefixes = names.map(resourcePrefix);
    expect(new Set(prefixes).size).toBe(names.length);
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(`${b}-`.startsWith(`${a}-`)).toBe(false);
  });

  test("a run's names stay within 63 characters under the longest prefix", () => {
    const prefix = resourcePrefix('x'.repeat(128));
    expect(prefix.length).toBeLessThanOrEqual(21);
    for (const name of [...Object.values(runResourceNames(prefix, 'y'.repeat(80))), endpointName(prefix)]) {
      expect(name).toMatch(SAGEMAKER_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  test("a run's names, written out: kind, readable run id, hash of the id (deployed stacks find their resources by them)", () => {
    expect(runResourceNames('segpipe-0a1b2c3d', 'Turtles_2026-12-02')).toEqual({
      labelingJob: 'segpipe-0a1b2c3d-label-turtles-2026-12-02-052b110e',
      trainingJob: 'segpipe-0a1b2c3d-train-turtles-2026-12-02-052b110e',
      model: 'segpipe-0a1b2c3d-model-turtles-2026-12-02-052b110e',
      endpointConfig: 'segpipe-0a1b2c3d-config-turtles-2026-12-02-052b110e',
      trialConfig: 'segpipe-0a1b2c3d-trial-turtles-2026-12-02-052b110e',
      variant: 'segpipe-0a1b2c3d-variant-turtles-2026-12-02-052b110e',
    });
  });

  test('a run id cut where a hyphen falls loses the hyphen, and one with nothing readable keeps just the hash', () => {
    const names = runResourceNames('segpipe-0a1b2c3d', `${'a'.repeat(30)}-${'b'.repeat(30)}`);
    expect(names.trainingJob).toBe(`segpipe-0a1b2c3d-train-${'a'.repeat(30)}-0d5805a5`);
    expect(runResourceNames('segpipe-0a1b2c3d', '***').model).toMatch(/^segpipe-0a1b2c3d-model-[0-9a-f]{8}$/);
  });

  test('a stack name cut where a hyphen falls loses the hyphen', () => {
    expect(resourcePrefix('abcdefghijk-lmnop')).toMatch(/^abcdefghijk-[0-9a-f]{8}$/);
    expect(resourcePrefix('Segpipe')).toBe('segpipe-8d72c884');
  });

  test('nameSafe keeps lower-case letters and digits and joins the rest into single hyphens', () => {
    expect(nameSafe('--Hello__World--')).toBe('hello-world');
    expect(nameSafe('a__b  c')).toBe('a-b-c');
  });

  test.each(['-abc', 'abc-', 'a_b', 'a'.repeat(64), ''])("SageMaker's name rule refuses %j", (name) => {
    expect(name).not.toMatch(SAGEMAKER_NAME_PATTERN);
  });

  test('the tags the IAM conditions and the clean-up match on keep their keys', () => {
    expect(STACK_TAG_KEY).toBe('segpipe:stack');
    expect(RUN_TAG_KEY).toBe('segpipe:run');
  });
});
