/**
 * What each segpipe Lambda is told at deploy time: one JSON value in one environment variable, with
 * only that function's settings. The stack writes it from the validated configuration
 * (`settingsEnvironment`); the handler parses it once per container (`readHandlerSettings`), with no
 * fallbacks: a missing or wrong setting fails the cold start naming it.
 */
// @ts-nocheck

import { z } from 'zod';

export const SETTINGS_VARIABLE = 'SEGPIPE_SETTINGS';

const name = z.string().min(1);
const count = z.int().nonnegative();
const labelClasses = z.array(name);

/** The part of the configuration a run's cost depends on (`CostSettings` of `lambda/cost/estimate.ts`). */
const costSettings = z.strictObject({
  labeling: z.strictObject({ tool: name }).optional(),
  workforce: z.strictObject({ type: name, workersPerObject: count, publicTaskPriceUsd: z.number().positive().optional() }),
  training: z.strictObject({
    trainer: z.enum(['builtin', 'pytorch']).optional(),
    instanceType: name,
    maxRuntimeSeconds: count,
    spot: z.boolean(),
  }),
  hosting: z.strictObject({ instanceType: name, idleMinutes: count, timeToLiveHours: count }),
  cleanup: z.strictObject({ everyMinutes: count, dryRun: z.boolean() }),
  evaluation: z.strictObject({ maxImages: z.int().positive() }),
  budgetUsd: z.number().positive().optional(),
});

/** Where a conversion may read besides its run's own prefixes (`SourceAllowListSettings` of `lambda/convert/stores/source-allow-list.ts`). */
const conversionSources = {
  inboxBucket: name,
  /** `import.readBuckets`: `bucket` or `bucket/prefix`. */
  readLocations: z.array(name),
};

/** Each handler's settings, by its file name under `lambda/handlers/`. */
export const HANDLER_SETTINGS = {
  'start-run': z.strictObject({ artifactsBucket: name, stateMachineArn: name }),
  'check-batch': z.strictObject({ artifactsBucket: name, inboxBucket: name, quietSeconds: count }),
  'snapshot-batch': z.strictObject({ artifactsBucket: name, inboxBucket: name }),
  'take-import-turn': z.strictObject({ artifactsBucket: name }),
  'take-corrections-turn': z.strictObject({ artifactsBucket: name, inboxBucket: name }),
  'prepare-run': z.strictObject({
    artifactsBucket: name,
    resourcePrefix: name,
    workforce: z.enum(['none', 'private', 'vendor', 'public']),
    labelClasses,
    /** Set when Label Studio labels: the run's tasks go to this inbox. */
    labelStudioInbox: name.optional(),
  }),
  'write-labelstudio-tasks': z.strictObject({ artifactsBucket: name, inboxBucket: name, endpointName: name, labelClasses }),
  'count-annotations': z.strictObject({
    artifactsBucket: name,
    inboxBucket: name,
    deadlineHours: z.number().positive(),
    minLabeledFraction: z.number().gt(0).max(1),
  }),
  'check-quota': z.strictObject({ trainingInstanceType: name, spot: z.boolean() }),
  'check-budget': costSettings,
  'plan-conversion': z.strictObject({ artifactsBucket: name, ...conversionSources, labelClasses, chunkEntries: z.int().positive() }),
  'convert-chunk': z.strictObject({
    artifactsBucket: name,
    ...conversionSources,
    validationFraction: z.number().gt(0).lt(1),
    splitSeed: name,
  }),
  'assemble-channels': z.strictObject({
    artifactsBucket: name,
    labelClasses,
    minTrainingSamples: z.int().positive(),
    maxFailedChunkPercent: z.number().min(0).max(100),
  }),
  'run-ended': z.strictObject({
    artifactsBucket: name,
    resourcePrefix: name,
    minValidationMiou: z.number().min(0).max(1),
    labeling: z.boolean(),
    /** Label Studio labels: an ended run's round, or its corrections turn, is over. Absent: it does not. */
    labelStudio: z.boolean().optional(),
    topicArn: name,
  }),
  'evaluate-variants': z.strictObject({
    artifactsBucket: name,
    endpointName: name,
    maxImages: z.int().positive(),
    maxBatchShare: z.number().gt(0).max(1),
    minImages: z.int().positive(),
    tolerance: z.number().min(0).max(1),
    minValidationMiou: z.number().min(0).max(1),
    /** The Secrets Manager secret (ARN) holding the key that orders the evaluation's images. */
    holdoutKeySecret: name,
  }),
  'deploy-lock': z.strictObject({ artifactsBucket: name, holdSeconds: count }),
  'finish-run': z.strictObject({ artifactsBucket: name, resourcePrefix: name, minValidationMiou: z.number().min(0).max(1) }),
  'clean-up': z.strictObject({
    stackName: name,
    resourcePrefix: name,
    idleMinutes: count,
    timeToLiveHours: count,
    keepModels: count,
    dryRun: z.boolean(),
    /** Endpoint configs and models younger than this are kept: a run may be about to deploy them. */
    graceMinutes: count,
    topicArn: name,
  }),
  'tear-down': z.strictObject({ stackName: name, resourcePrefix: name, stateMachineArn: name }),
};

export type HandlerName = keyof typeof HANDLER_SETTINGS;
export type HandlerSettings<N extends HandlerName> = z.output<(typeof HANDLER_SETTINGS)[N]>;

/** Thrown at a cold start whose settings are missing or wrong. */
export class SettingsError extends Error {
  constructor(handler: HandlerName, problems: readonly string[]) {
    super(
      `the ${handler} Lambda's ${SETTINGS_VARIABLE} ${problems.length === 1 ? problems[0] : `has ${problems.length} problems: ${problems.join('; ')}`}`,
    );
    this.name = 'SettingsError';
  }
}

/** The settings of a handler from its environment, validated. */
export function readHandlerSettings<N extends HandlerName>(handler: N, environment: NodeJS.ProcessEnv = process.env): HandlerSettings<N> {
  const text = environment[SETTINGS_VARIABLE];
  if (text === undefined || text === '') throw new SettingsError(handler, ['is not set']);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(handler, [`is not JSON (${(err as Error).message})`]);
  }
  const result = HANDLER_SETTINGS[handler].safeParse(value);
  if (!result.success) {
    throw new SettingsError(
      handler,
      result.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? `has unknown settings ${issue.keys.join(', ')}`
          : `setting ${issue.path.join('.') || '(the whole value)'}: ${issue.message}`,
      ),
    );
  }
  return result.data as HandlerSettings<N>;
}
