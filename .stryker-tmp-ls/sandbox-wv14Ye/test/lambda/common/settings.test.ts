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
});
