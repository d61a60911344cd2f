/**
 * segpipe's default values, each written once. The configuration schema (lib/config.ts, and so
 * docs/configuration.md), the CLI's options (bin/commands/) and the plain modules under lambda/ read
 * them here. Plain values only, no CDK: lambda/ imports this file and never lib/ (the CDK-typed
 * defaults of the constructs are in lib/defaults.ts).
 */
// @ts-nocheck


/** The defaults of the configuration's fields, by the path of each (see docs/configuration.md). */
export const CONFIG_DEFAULTS = {
  workforce: {
    type: 'none',
    attestNoPersonalData: false,
    attestNoAdultContent: false,
    taskTimeLimitSeconds: 1800,
  },
  labeling: {
    labelStudio: { deadlineHours: 168, minLabeledFraction: 0.8, pollMinutes: 5 },
  },
  /** The deterministic train/validation split: the workflow's, and `segpipe convert`'s. */
  split: { validationFraction: 0.2, seed: 'segpipe' },
  training: {
    trainer: 'builtin',
    instanceType: 'ml.p3.2xlarge',
    algorithm: 'fcn',
    backbone: 'resnet-50',
    epochs: 30,
    spot: false,
    maxRuntimeSeconds: 3600,
    volumeSizeGb: 30,
    minSamples: 10,
    pytorch: {
      instanceType: 'ml.g5.xlarge',
      model: 'deeplabv3',
      backbone: 'mobilenet_v3_large',
      pretrained: true,
      batchSize: 8,
      learningRate: 0.001,
      imageSize: 512,
    },
  },
  hosting: { instanceType: 'ml.c5.xlarge', idleMinutes: 120, timeToLiveHours: 0 },
  /** The evaluation on the endpoint: the workflow's, and `segpipe evaluate`'s `--max-images`. */
  evaluation: { maxImages: 100, maxBatchShare: 0.25, minImages: 5, tolerance: 0.01 },
  cleanup: { everyMinutes: 60, keepModels: 1, dryRun: false },
  minValidationMiou: 0.5,
  batch: { quietSeconds: 120 },
  /** `chunkEntries`: one Lambda converts a chunk well within its 15 minutes (~40 items/s measured locally). */
  conversion: { chunkEntries: 2000, maxConcurrency: 10, maxFailedChunkPercent: 0 },
  storage: { encryption: 's3-managed', retainOnDelete: true, scratchExpirationDays: 14, noncurrentVersionExpirationDays: 30 },
  logging: { level: 'error', includeExecutionData: false },
} as const;

/**
 * The role HumanSignal's Label Studio cloud assumes customers' storage roles as (its documentation, since
 * 2025-04-07): the default `labeling.labelStudio.role.trustedPrincipal` of a stack that creates that role.
 */
export const LABEL_STUDIO_CLOUD_PRINCIPAL = 'arn:aws:iam::490065312183:role/label-studio-app-production';

/** Defaults that depend on the workforce: Mechanical Turk tasks need more workers and expire sooner. */
export const WORKFORCE_DEFAULTS = {
  workersPerObject: { team: 1, public: 3 },
  taskAvailabilityLifetimeSeconds: { team: 864_000, public: 21_600 },
} as const;

/** Items one conversion converts at once (`segpipe convert --concurrency`, and each conversion Lambda). */
export const CONVERSION_CONCURRENCY = 4;

/** Requests in flight to an endpoint: the evaluation's, the Label Studio task writer's pre-labels, `segpipe prelabel`'s. */
export const ENDPOINT_CONCURRENCY = 4;
