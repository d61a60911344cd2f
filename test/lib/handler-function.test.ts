import type { CfnElement } from 'aws-cdk-lib';
import { HANDLER_SETTINGS, SETTINGS_VARIABLE } from '../../lambda/common/settings';
import { HandlerFunction } from '../../lib/handler-function';
import { resolveCloudFormation } from '../../local/workflow-runner';
import { synthStack } from '../helpers/stack';

describe('each Lambda receives its own settings, as one JSON value its handler accepts', () => {
  const { stack, template } = synthStack({
    labelClasses: ['turtle'],
    training: { minSamples: 4, spot: true },
    batch: { quietSeconds: 30 },
    budgetUsd: 20,
  });
  const resources = template.toJSON().Resources as Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>;
  const functions = stack.node.findAll().filter((c): c is HandlerFunction => c instanceof HandlerFunction);
  const settingsOf = (fn: HandlerFunction) => {
    const variables = resources[stack.getLogicalId(fn.function.node.defaultChild as CfnElement)].Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(['NODE_OPTIONS', SETTINGS_VARIABLE]);
    return JSON.parse(resolveCloudFormation(variables[SETTINGS_VARIABLE] as never, { refs: {}, mappings: {} }) as string);
  };

  test('every handler has a function, and every function settings its handler parses', () => {
    expect([...new Set(functions.map((fn) => fn.handlerName))].sort()).toEqual(Object.keys(HANDLER_SETTINGS).sort());
    for (const fn of functions) expect(HANDLER_SETTINGS[fn.handlerName].safeParse(settingsOf(fn)).error).toBeUndefined();
  });

  test('the settings come from the configuration, with its defaults, and hold nothing another handler needs', () => {
    const byName = Object.fromEntries(functions.map((fn) => [fn.handlerName, settingsOf(fn)]));
    expect(byName['assemble-channels']).toEqual({
      artifactsBucket: expect.any(String),
      labelClasses: ['turtle'],
      minTrainingSamples: 4,
      maxFailedChunkPercent: 0,
    });
    expect(byName['check-batch']).toEqual({ artifactsBucket: expect.any(String), inboxBucket: expect.any(String), quietSeconds: 30 });
    expect(byName['check-quota']).toEqual({ trainingInstanceType: 'ml.p3.2xlarge', spot: true });
    expect(byName['convert-chunk']).toEqual({
      artifactsBucket: expect.any(String),
      inboxBucket: expect.any(String),
      readLocations: [],
      validationFraction: 0.2,
      splitSeed: 'segpipe',
    });
    expect(byName['plan-conversion']).toEqual({
      artifactsBucket: expect.any(String),
      inboxBucket: expect.any(String),
      readLocations: [],
      labelClasses: ['turtle'],
      chunkEntries: 2000,
    });
    expect(byName['prepare-run']).toEqual({
      artifactsBucket: expect.any(String),
      resourcePrefix: expect.stringMatching(/^segpipe-[0-9a-f]{8}$/),
      workforce: 'none',
      labelClasses: ['turtle'],
      labelStudioInbox: expect.any(String),
    });
    expect(byName['write-labelstudio-tasks']).toEqual({
      artifactsBucket: expect.any(String),
      inboxBucket: expect.any(String),
      endpointName: expect.stringMatching(/^segpipe-[0-9a-f]{8}-endpoint$/),
      labelClasses: ['turtle'],
    });
    expect(byName['count-annotations']).toEqual({
      artifactsBucket: expect.any(String),
      inboxBucket: expect.any(String),
      deadlineHours: 168,
      minLabeledFraction: 0.8,
    });
    expect(byName['check-budget']).toMatchObject({
      budgetUsd: 20,
      training: { instanceType: 'ml.p3.2xlarge', maxRuntimeSeconds: 3600, spot: true },
    });
  });
});
