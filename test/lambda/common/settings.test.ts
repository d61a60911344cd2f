import { readHandlerSettings, SettingsError } from '../../../lambda/common/settings';

describe("a handler's settings, read once at start-up", () => {
  test('are parsed from SEGPIPE_SETTINGS and typed', () => {
    expect(readHandlerSettings('check-quota', { SEGPIPE_SETTINGS: '{"trainingInstanceType":"ml.g5.xlarge","spot":true}' })).toEqual({
      trainingInstanceType: 'ml.g5.xlarge',
      spot: true,
    });
  });

  test.each([
    [undefined, /^the check-quota Lambda's SEGPIPE_SETTINGS is not set$/],
    ['{spot', /^the check-quota Lambda's SEGPIPE_SETTINGS is not JSON \(/],
    ['{"spot":true}', /^the check-quota Lambda's SEGPIPE_SETTINGS setting trainingInstanceType: .*expected string, received undefined/],
    [
      '{"trainingInstanceType":"ml.g5.xlarge","spot":"yes","quietSeconds":3}',
      /^the check-quota Lambda's SEGPIPE_SETTINGS has 2 problems: setting spot: .*expected boolean.*; has unknown settings quietSeconds$/,
    ],
  ])('missing or wrong (%s) fail the cold start naming the setting: no fallback', (value, message) => {
    const read = () => readHandlerSettings('check-quota', value === undefined ? {} : { SEGPIPE_SETTINGS: value });
    expect(read).toThrow(SettingsError);
    expect(read).toThrow(message);
  });

  test('an empty value is not set either', () => {
    expect(() => readHandlerSettings('check-quota', { SEGPIPE_SETTINGS: '' })).toThrow(
      "the check-quota Lambda's SEGPIPE_SETTINGS is not set",
    );
  });

  test('the error is named, and says each problem with the setting it is about', () => {
    let error: unknown;
    try {
      readHandlerSettings('check-quota', { SEGPIPE_SETTINGS: '{"spot":true,"quietSeconds":3,"dryRun":false}' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).name).toBe('SettingsError');
    expect((error as Error).message).toBe(
      "the check-quota Lambda's SEGPIPE_SETTINGS has 2 problems: setting trainingInstanceType: Invalid input: expected string, received undefined; has unknown settings quietSeconds, dryRun",
    );
  });

  test('a value that is not an object is named as the whole value', () => {
    expect(() => readHandlerSettings('check-quota', { SEGPIPE_SETTINGS: '[]' })).toThrow(
      "the check-quota Lambda's SEGPIPE_SETTINGS setting (the whole value): Invalid input: expected object, received array",
    );
  });

  test('a setting inside a list is named by its path', () => {
    const settings = { artifactsBucket: 'a', inboxBucket: 'i', endpointName: 'e', labelClasses: ['turtle', 3] };
    expect(() => readHandlerSettings('write-labelstudio-tasks', { SEGPIPE_SETTINGS: JSON.stringify(settings) })).toThrow(
      "the write-labelstudio-tasks Lambda's SEGPIPE_SETTINGS setting labelClasses.1: Invalid input: expected string, received number",
    );
  });
});
