import type { Command } from 'commander';
import { convertCommand } from '../../../bin/commands/convert';
import { evaluateCommand } from '../../../bin/commands/evaluate';
import { prelabelCommand } from '../../../bin/commands/prelabel';
import { CONFIG_DEFAULTS, CONVERSION_CONCURRENCY, ENDPOINT_CONCURRENCY, WORKFORCE_DEFAULTS } from '../../../lambda/common/defaults';
import { resolveConfig } from '../../../lib/config';

const optionDefault = (command: Command, flag: string) => command.options.find((option) => option.long === flag)?.defaultValue;

describe('one home for defaults', () => {
  test('the configuration schema fills in every default the module holds', () => {
    expect(resolveConfig({})).toMatchObject(CONFIG_DEFAULTS);
  });

  test("the workforce-dependent defaults are the module's, for a team and for the public crowd", () => {
    const team = resolveConfig({
      labelClasses: ['a'],
      workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t' },
    });
    expect(team.workforce).toMatchObject({
      workersPerObject: WORKFORCE_DEFAULTS.workersPerObject.team,
      taskAvailabilityLifetimeSeconds: WORKFORCE_DEFAULTS.taskAvailabilityLifetimeSeconds.team,
    });
    const crowd = resolveConfig({
      labelClasses: ['a'],
      workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true },
    });
    expect(crowd.workforce).toMatchObject({
      workersPerObject: WORKFORCE_DEFAULTS.workersPerObject.public,
      taskAvailabilityLifetimeSeconds: WORKFORCE_DEFAULTS.taskAvailabilityLifetimeSeconds.public,
    });
  });

  test("the CLI's options default to the same values as the workflow", () => {
    const convert = convertCommand();
    expect(optionDefault(convert, '--validation-fraction')).toBe(CONFIG_DEFAULTS.split.validationFraction);
    expect(optionDefault(convert, '--seed')).toBe(CONFIG_DEFAULTS.split.seed);
    expect(optionDefault(convert, '--concurrency')).toBe(CONVERSION_CONCURRENCY);
    expect(optionDefault(evaluateCommand(), '--max-images')).toBe(CONFIG_DEFAULTS.evaluation.maxImages);
    expect(optionDefault(prelabelCommand(), '--concurrency')).toBe(ENDPOINT_CONCURRENCY);
  });
});
