/**
 * segpipe's configuration: one object under the `segpipe` key of cdk.json's context, over which
 * `cdk synth -c segpipe='<json>'` deep-merges. One zod schema holds each field's type, default
 * (its value written in lambda/common/defaults.ts, which the CLI and the Lambdas read too), allowed
 * values and description: `resolveConfig` validates and fills defaults, reporting every problem at
 * once so a user fixes a config in one round trip, and the table of docs/configuration.md is generated from it.
 *
 * Limits that come from the SageMaker API cite it: the SageMaker API Reference, or the SDK's model
 * (@aws-sdk/client-sagemaker 3.1142.0, `dist-types/models/`), read on 2026-12-02.
 */
import { z } from 'zod';
import { CONFIG_DEFAULTS, LABEL_STUDIO_CLOUD_PRINCIPAL, WORKFORCE_DEFAULTS } from '../lambda/common/defaults';
import {
  instanceFamily,
  PYTORCH_TRAINING_INSTANCE_TYPES,
  SEGMENTATION_HOSTING_INSTANCE_TYPES,
  SEGMENTATION_TRAINING_INSTANCE_TYPES,
} from './sagemaker-instance-types';

/** Mechanical Turk prices allowed for semantic segmentation, USD per task (SageMaker API reference, `PublicWorkforceTaskPrice`). */
const PUBLIC_SEGMENTATION_PRICES_USD = [0.84, 0.96, 1.08, 1.2] as const;

/** Hyperparameters segpipe sets itself: passing them through `training.hyperparameters` is refused. */
const MANAGED_HYPERPARAMETERS = ['num_classes', 'num_training_samples', 'algorithm', 'backbone', 'epochs'] as const;

/** `StoppingCondition.MaxRuntimeInSeconds`: "The maximum value is 28 days" (SDK model, `StoppingCondition`). */
const MAX_TRAINING_SECONDS = 28 * 24 * 3600;
/** Managed spot waits up to twice the runtime (`MaxWaitTimeInSeconds`), and that wait is bound by the same 28 days. */
const SPOT_WAIT_FACTOR = 2;

/**
 * `HumanTaskConfig.TaskAvailabilityLifetimeInSeconds`: at most 12 hours for Mechanical Turk, 30 days for
 * a private or vendor workforce (SDK model, `HumanTaskConfig`).
 */
const MAX_TASK_AVAILABILITY_SECONDS = { team: 2_592_000, public: 43_200 };

/** What a field documents in docs/configuration.md, besides its description: its default and what it allows. */
interface FieldDoc {
  /** Markdown text of what is allowed; also the "allowed:" of its problems. */
  readonly allowed: string;
  /** Markdown text of the default, where the schema's own default does not say it (conditional or absent). */
  readonly defaultText?: string;
}

const fieldDocs = z.registry<FieldDoc>();

/** Registers what a leaf allows as the table of docs/configuration.md says it; its error messages say the same in plain text. */
function field<T extends z.ZodType>(schema: T, allowed: string): T {
  fieldDocs.add(schema, { allowed });
  return schema;
}

function integer(min: number, max: number, allowed = `an integer from ${min} to ${max}`) {
  return field(z.int({ error: allowed }).min(min, allowed).max(max, allowed), allowed);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const allowed = values.join(', ');
  return field(z.enum(values, { error: allowed }), values.map((v) => `\`${v}\``).join(', '));
}

function bool() {
  return field(z.boolean({ error: '`true` or `false`' }), '`true`, `false`');
}

function matching(pattern: RegExp, allowed: string, readme = allowed) {
  return field(z.string({ error: allowed }).regex(pattern, allowed), readme);
}

/** A group of fields: unknown fields in it are problems that name the known ones. */
function group<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `known fields here: ${known}` : 'an object'),
  });
}

/** Instance types grouped by family, e.g. `ml.p3: 2xlarge, 8xlarge, 16xlarge`. */
function byFamily(types: readonly string[]): string {
  const sizes = new Map<string, string[]>();
  for (const type of types) {
    const family = instanceFamily(type);
    sizes.set(family, [...(sizes.get(family) ?? []), type.split('.')[2]]);
  }
  return [...sizes].map(([family, s]) => `ml.${family}: ${s.join(', ')}`).join('; ');
}

/**
 * An instance type out of a fixed list. A wrong size of a known family is answered with that family's
 * sizes; anything else with every type, or with the families where the types are too many to read.
 */
function instanceType(types: readonly string[], what: string, readme: string) {
  const families = [...new Set(types.map(instanceFamily))];
  const allowedFor = (input: unknown) => {
    const family = typeof input === 'string' ? instanceFamily(input) : '';
    if (families.includes(family)) return `${what}; ${byFamily(types.filter((t) => instanceFamily(t) === family))}`;
    return families.length <= 8 ? `${what}: ${byFamily(types)}` : `${what}, of the families ml.${families.join(', ml.')}`;
  };
  return field(z.enum(types as [string, ...string[]], { error: (issue) => allowedFor(issue.input) }), readme);
}

const READ_LOCATION_ALLOWED =
  'an S3 bucket name, optionally followed by / and a key prefix that ends with / (a prefix without it, `exports`, would also grant `exports-private/`), without *, ?, control characters or . and .. segments';

const LABEL_CLASSES_ALLOWED =
  'unique non-empty names of at most 256 characters, at most 253 of them and 3072 characters as JSON, not `BACKGROUND`';
/**
 * The algorithm's `num_classes` is at most 254 and counts the background (SageMaker Developer Guide,
 * "Semantic Segmentation Hyperparameters").
 */
const MAX_LABEL_CLASSES = 253;
/**
 * The Lambdas that label and convert receive the class names in their environment, which holds 4 KB in
 * all (AWS Lambda Developer Guide, "Lambda quotas"); the rest of their settings fits in the remaining 1 KB.
 */
const MAX_LABEL_CLASSES_JSON = 3072;

const labelClasses = field(
  z
    .array(z.string({ error: 'a class name (a string)' }), { error: 'an array of class names' })
    .max(MAX_LABEL_CLASSES, `at most ${MAX_LABEL_CLASSES} class names (the algorithm's num_classes, background included, is at most 254)`)
    .refine(
      (names) => JSON.stringify(names).length <= MAX_LABEL_CLASSES_JSON,
      `class names of at most ${MAX_LABEL_CLASSES_JSON} characters as JSON in all (they travel in a Lambda's environment, which holds 4 KB)`,
    )
    .superRefine((names, ctx) => {
      names.forEach((name, i) => {
        const firstIndex = names.indexOf(name);
        const reason =
          name.trim() === '' || name.length > 256
            ? 'a non-empty class name of at most 256 characters'
            : /^background$/i.test(name)
              ? 'a class name other than BACKGROUND (index 0 is the background)'
              : firstIndex !== i
                ? `a class name not listed before (it is also at index ${firstIndex})`
                : undefined;
        if (reason) ctx.addIssue({ code: 'custom', path: [i], message: reason, input: name });
      });
    }),
  LABEL_CLASSES_ALLOWED,
)
  .default([])
  .describe('Classes to label, in index order after the background (index 0). Required once a workforce is set.');

const workforce = group({
  type: oneOf(['none', 'private', 'vendor', 'public'])
    .default(CONFIG_DEFAULTS.workforce.type)
    .describe(
      '`none`: labels are only imported (an export dropped under `labeled/<batch>/`); `private`/`vendor`: a Ground Truth workteam; `public`: Amazon Mechanical Turk.',
    ),
  // `WorkteamArn`'s pattern in the API reference, with segpipe's two kinds of team.
  workteamArn: matching(
    /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:workteam\/[a-z-]+\/[A-Za-z0-9._-]+$/,
    'a workteam ARN, arn:aws:sagemaker:<region>:<account>:workteam/<private-crowd|vendor-crowd>/<name>',
    '`arn:aws:sagemaker:<region>:<account>:workteam/<type>/<name>`',
  )
    .optional()
    .describe('The private or vendor workteam; required for those types.'),
  publicTaskPriceUsd: field(
    z
      .number({ error: `one of ${PUBLIC_SEGMENTATION_PRICES_USD.join(', ')} (Mechanical Turk prices for semantic segmentation)` })
      .refine(
        (n) => (PUBLIC_SEGMENTATION_PRICES_USD as readonly number[]).includes(n),
        `one of ${PUBLIC_SEGMENTATION_PRICES_USD.join(', ')} (Mechanical Turk prices for semantic segmentation)`,
      ),
    PUBLIC_SEGMENTATION_PRICES_USD.join(', '),
  )
    .optional()
    .describe('Mechanical Turk price per task (USD); required for `public`.'),
  attestNoPersonalData: bool()
    .default(CONFIG_DEFAULTS.workforce.attestNoPersonalData)
    .describe('Your promise that the images hold no personally identifiable information; `public` requires `true`.'),
  attestNoAdultContent: bool()
    .default(CONFIG_DEFAULTS.workforce.attestNoAdultContent)
    .describe('Your promise that the images hold no adult content (lets more workers see the task).'),
  // `NumberOfHumanWorkersPerDataObject`: 1 to 9 (API reference, `HumanTaskConfig`).
  workersPerObject: integer(1, 9)
    .optional()
    .describe('Workers who label each image; Ground Truth consolidates their masks.')
    .register(fieldDocs, {
      allowed: 'an integer from 1 to 9',
      defaultText: `${WORKFORCE_DEFAULTS.workersPerObject.team} (\`private\`, \`vendor\`), ${WORKFORCE_DEFAULTS.workersPerObject.public} (\`public\`)`,
    }),
  // `TaskTimeLimitInSeconds`: at least 30 (API reference); "for image ... labeling jobs, the maximum is 8 hours" (SDK model, `HumanTaskConfig`).
  taskTimeLimitSeconds: integer(30, 28_800)
    .default(CONFIG_DEFAULTS.workforce.taskTimeLimitSeconds)
    .describe('Time a worker has for one image.'),
  taskAvailabilityLifetimeSeconds: integer(60, MAX_TASK_AVAILABILITY_SECONDS.team)
    .optional()
    .describe('Time a task stays available to workers.')
    .register(fieldDocs, {
      allowed: `an integer from 60 to ${MAX_TASK_AVAILABILITY_SECONDS.team} (${MAX_TASK_AVAILABILITY_SECONDS.public} for \`public\`)`,
      defaultText: `\`${WORKFORCE_DEFAULTS.taskAvailabilityLifetimeSeconds.team}\` (\`private\`, \`vendor\`), \`${WORKFORCE_DEFAULTS.taskAvailabilityLifetimeSeconds.public}\` (\`public\`)`,
    }),
});

export { LABEL_STUDIO_CLOUD_PRINCIPAL };

/**
 * Ground Truth takes no new customers, so a stack without a Ground Truth workforce labels with Label
 * Studio (which syncs with S3 both ways, with no server of segpipe's); `groundtruth` keeps today's path.
 */
const labeling = group({
  tool: oneOf(['labelstudio', 'groundtruth', 'none'])
    .optional()
    .describe(
      'Who labels an `images/<batch>/` upload: `labelstudio` (tasks written under `labelstudio/tasks/`, annotations read back from `labelstudio/annotations/`), `groundtruth` (a labeling job with `workforce`), or `none` (labels are only imported).',
    )
    .register(fieldDocs, {
      allowed: '`labelstudio`, `groundtruth`, `none`',
      defaultText: '`groundtruth` when `workforce.type` is not `none`, else `labelstudio`',
    }),
  labelStudio: group({
    role: group({
      externalId: matching(
        /^[\w+=,.@:/-]{2,1224}$/,
        'the external ID your Label Studio shows: 2 to 1224 of letters, digits and _+=,.@:/-',
      ).describe(
        'The external ID Label Studio Enterprise gives its "Amazon S3 with IAM role" storages: only a request that carries it may assume the role.',
      ),
      trustedPrincipal: matching(
        /^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/,
        'an IAM role, user or account root ARN',
      )
        .default(LABEL_STUDIO_CLOUD_PRINCIPAL)
        .describe("Who assumes the role: HumanSignal's Label Studio cloud, or the role your own Label Studio Enterprise runs as."),
    })
      .optional()
      .describe(
        'Label Studio Enterprise assumes a role instead of holding keys: with this set, the stack creates that role (trusting `trustedPrincipal` with the external ID), allowed what `segpipe labelstudio setup` prints, and outputs its ARN. The Community edition takes keys only.',
      ),
    // A CORS origin is scheme, host and port only: a path or a wildcard would not match what browsers send.
    origin: matching(
      /^(https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?|http:\/\/(localhost|127\.0\.0\.1)(:[0-9]{1,5})?)$/,
      'an origin, https://<host>[:<port>] with no path (http only for localhost)',
      '`https://<host>[:<port>]` with no path (`http://localhost` too)',
    )
      .optional()
      .describe(
        'Your Label Studio\'s address: the inbox gets a CORS rule letting only it read images through pre-signed URLs. Without it there is no CORS rule, and Label Studio\'s source storage must have "Use pre-signed URLs" off (Label Studio then proxies the images).',
      ),
    deadlineHours: integer(1, 8760)
      .default(CONFIG_DEFAULTS.labeling.labelStudio.deadlineHours)
      .describe(
        'A Label Studio run waits this long for every task of its generation to be annotated; then it goes on if `minLabeledFraction` of them are, else it fails and its images go back to the batch.',
      ),
    minLabeledFraction: field(
      z.number({ error: 'a number above 0, at most 1' }).gt(0, 'a number above 0, at most 1').max(1, 'a number above 0, at most 1'),
      'a number above 0, at most 1',
    )
      .default(CONFIG_DEFAULTS.labeling.labelStudio.minLabeledFraction)
      .describe("Share of a generation's tasks that must be annotated (skipped ones count) when the deadline passes for the run to go on."),
    pollMinutes: integer(1, 1440)
      .default(CONFIG_DEFAULTS.labeling.labelStudio.pollMinutes)
      .describe("Wait between two counts of a generation's annotated tasks."),
  }).prefault({}),
});

const split = group({
  validationFraction: field(
    z
      .number({ error: 'a number greater than 0 and less than 1' })
      .gt(0, 'a number greater than 0 and less than 1')
      .lt(1, 'a number greater than 0 and less than 1'),
    'a number greater than 0 and less than 1',
  )
    .default(CONFIG_DEFAULTS.split.validationFraction)
    .describe('Share of items that go to the validation channels.'),
  seed: matching(/^.{1,256}$/, 'a non-empty string of at most 256 characters')
    .default(CONFIG_DEFAULTS.split.seed)
    .describe('Seed of the deterministic train/validation split.'),
});

/** `HyperParameters`: at most 100 entries, keys of at most 256 characters, values of at most 2500 (API reference, `CreateTrainingJob`). */
const MAX_HYPERPARAMETERS = 100 - MANAGED_HYPERPARAMETERS.length;

/** The torchvision networks the PyTorch trainer builds: each model with the backbones torchvision pairs it with. */
export const PYTORCH_MODELS = {
  deeplabv3: ['mobilenet_v3_large', 'resnet50', 'resnet101'],
  lraspp: ['mobilenet_v3_large'],
  fcn: ['resnet50', 'resnet101'],
} as const;

const pytorch = group({
  instanceType: instanceType(
    PYTORCH_TRAINING_INSTANCE_TYPES,
    'a type that CreateTrainingJob accepts with one NVIDIA GPU or an x86 CPU',
    byFamily(PYTORCH_TRAINING_INSTANCE_TYPES).replace(/ml\.[a-z0-9]+/g, '`$&`'),
  )
    .default(CONFIG_DEFAULTS.training.pytorch.instanceType)
    .describe('Training instance of the PyTorch trainer (its script uses one GPU, or the CPU where there is none).'),
  model: oneOf(['deeplabv3', 'lraspp', 'fcn'])
    .default(CONFIG_DEFAULTS.training.pytorch.model)
    .describe('torchvision segmentation network.'),
  backbone: oneOf(['mobilenet_v3_large', 'resnet50', 'resnet101'])
    .default(CONFIG_DEFAULTS.training.pytorch.backbone)
    .describe('Its encoder: `lraspp` takes `mobilenet_v3_large`, `fcn` the ResNets, `deeplabv3` any.'),
  pretrained: bool()
    .default(CONFIG_DEFAULTS.training.pytorch.pretrained)
    .describe(
      "Start from the backbone's ImageNet weights when the training container can download them (else, and with `false`, from scratch).",
    ),
  batchSize: integer(2, 256).default(CONFIG_DEFAULTS.training.pytorch.batchSize).describe('Training crops a step.'),
  learningRate: field(
    z
      .number({ error: 'a number greater than 0 and at most 1' })
      .gt(0, 'a number greater than 0 and at most 1')
      .max(1, 'a number greater than 0 and at most 1'),
    'a number greater than 0 and at most 1',
  )
    .default(CONFIG_DEFAULTS.training.pytorch.learningRate)
    .describe("AdamW's initial learning rate (decaying to 0 over the epochs)."),
  imageSize: integer(32, 2048)
    .default(CONFIG_DEFAULTS.training.pytorch.imageSize)
    .describe('Side of the square training crops; images are scaled to fit it, in training and at the endpoint.'),
});

const training = group({
  trainer: oneOf(['builtin', 'pytorch'])
    .default(CONFIG_DEFAULTS.training.trainer)
    .describe(
      "`builtin`: SageMaker's Semantic Segmentation algorithm; `pytorch`: segpipe's torchvision script in SageMaker's PyTorch containers (`training.pytorch`). Same channels, metrics and endpoint contract.",
    ),
  instanceType: instanceType(
    SEGMENTATION_TRAINING_INSTANCE_TYPES,
    'a GPU type the algorithm trains on that CreateTrainingJob accepts',
    byFamily(SEGMENTATION_TRAINING_INSTANCE_TYPES).replace(/ml\.[a-z0-9]+/g, '`$&`'),
  )
    .default(CONFIG_DEFAULTS.training.instanceType)
    .describe('Training instance of the built-in algorithm (it trains on one GPU machine).'),
  algorithm: oneOf(['fcn', 'psp', 'deeplab'])
    .default(CONFIG_DEFAULTS.training.algorithm)
    .describe('Segmentation network of the built-in algorithm.'),
  backbone: oneOf(['resnet-50', 'resnet-101'])
    .default(CONFIG_DEFAULTS.training.backbone)
    .describe('Encoder network of the built-in algorithm.'),
  epochs: integer(1, 1000).default(CONFIG_DEFAULTS.training.epochs).describe('Training epochs.'),
  hyperparameters: field(
    z
      .record(
        z
          .string()
          .max(256, 'a name of at most 256 characters')
          .refine(
            (name) => !(MANAGED_HYPERPARAMETERS as readonly string[]).includes(name),
            `a name other than ${MANAGED_HYPERPARAMETERS.join(', ')} (segpipe sets those)`,
          ),
        z.union([z.string().max(2500, 'a string of at most 2500 characters'), z.number(), z.boolean()], {
          error: 'a string, number or boolean',
        }),
        { error: 'an object of hyperparameter names and values' },
      )
      .refine(
        (record) => Object.keys(record).length <= MAX_HYPERPARAMETERS,
        `at most ${MAX_HYPERPARAMETERS} hyperparameters (CreateTrainingJob takes 100, segpipe sets ${MANAGED_HYPERPARAMETERS.length})`,
      )
      // The built-in algorithm's booleans are spelled True/False.
      .transform((record) =>
        Object.fromEntries(Object.entries(record).map(([name, v]) => [name, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)])),
      ),
    `at most ${MAX_HYPERPARAMETERS} strings, numbers or booleans; not ${MANAGED_HYPERPARAMETERS.map((n) => `\`${n}\``).join(', ')}`,
  )
    .default({})
    .describe('Further hyperparameters of the built-in algorithm, passed through as strings.'),
  spot: bool().default(CONFIG_DEFAULTS.training.spot).describe('Managed spot training, with checkpoints under `models/<run-id>/`.'),
  maxRuntimeSeconds: integer(60, MAX_TRAINING_SECONDS)
    .register(fieldDocs, {
      allowed: `an integer from 60 to ${MAX_TRAINING_SECONDS} (28 days; ${MAX_TRAINING_SECONDS / SPOT_WAIT_FACTOR} with \`spot\`)`,
    })
    .default(CONFIG_DEFAULTS.training.maxRuntimeSeconds)
    .describe('Training stops after this long.'),
  // `VolumeSizeInGB` is a gp2 volume (SDK model, `ResourceConfig`), and gp2 volumes hold 1 to 16,384 GiB.
  volumeSizeGb: integer(1, 16_384).default(CONFIG_DEFAULTS.training.volumeSizeGb).describe('Training volume size.'),
  minSamples: integer(1, 1_000_000)
    .default(CONFIG_DEFAULTS.training.minSamples)
    .describe('A run whose train channel holds fewer items stops before training.'),
  pytorch: pytorch.prefault({}),
});

const hosting = group({
  instanceType: instanceType(
    SEGMENTATION_HOSTING_INSTANCE_TYPES,
    'an x86 CPU or NVIDIA GPU type that CreateEndpointConfig accepts',
    `a type of CreateEndpointConfig's \`ProductionVariantInstanceType\` with an x86 CPU or NVIDIA GPU, e.g. \`ml.t2.medium\`, \`ml.c5.xlarge\`, \`ml.g4dn.xlarge\`; families ${[...new Set(SEGMENTATION_HOSTING_INSTANCE_TYPES.map((t) => `\`ml.${instanceFamily(t)}\``))].join(', ')}`,
  )
    .default(CONFIG_DEFAULTS.hosting.instanceType)
    .describe('Endpoint instance.'),
  idleMinutes: integer(10, 43_200)
    .default(CONFIG_DEFAULTS.hosting.idleMinutes)
    .describe('An endpoint with no invocations for this long is deleted.'),
  timeToLiveHours: integer(0, 8760, 'an integer from 0 to 8760; 0 means no limit')
    .default(CONFIG_DEFAULTS.hosting.timeToLiveHours)
    .describe('An endpoint deployed longer ago than this is deleted, used or not (a run that redeploys starts the count anew).'),
});

const evaluation = group({
  maxImages: integer(1, 1000)
    .default(CONFIG_DEFAULTS.evaluation.maxImages)
    .describe(
      'Validation images of the run every variant is sent (the same ones, in an order keyed by a secret made at deploy, which uploaders do not know; only masks with labelled pixels) before the challenger may replace the serving model.',
    ),
  maxBatchShare: field(
    z.number({ error: 'a number above 0, at most 1' }).gt(0, 'a number above 0, at most 1').max(1, 'a number above 0, at most 1'),
    'a number above 0, at most 1',
  )
    .default(CONFIG_DEFAULTS.evaluation.maxBatchShare)
    .describe(
      'Largest share of those images one batch may supply (at least one image), so that no single upload decides the comparison; a dataset of one batch is evaluated on this share of `maxImages`.',
    ),
  minImages: integer(1, 1000)
    .default(CONFIG_DEFAULTS.evaluation.minImages)
    .describe(
      'Fewest images every variant must answer (or all of those chosen, when fewer are): images a variant refuses are left out for every variant and counted, and the evaluation fails below this.',
    ),
  tolerance: field(
    z.number({ error: 'a number from 0 to 1' }).min(0, 'a number from 0 to 1').max(1, 'a number from 0 to 1'),
    'a number from 0 to 1',
  )
    .default(CONFIG_DEFAULTS.evaluation.tolerance)
    .describe("How much lower than the serving model's mean IoU on those images the challenger's may be and still replace it."),
});

const cleanup = group({
  everyMinutes: integer(5, 1440)
    .default(CONFIG_DEFAULTS.cleanup.everyMinutes)
    .describe('How often the clean-up looks for idle, expired or failed endpoints and unused endpoint configs and models.'),
  keepModels: integer(0, 100)
    .default(CONFIG_DEFAULTS.cleanup.keepModels)
    .describe(
      'Newest models kept (with the endpoint config that served each) after their endpoint is deleted, so a redeploy is one `create-endpoint` call.',
    ),
  dryRun: bool().default(CONFIG_DEFAULTS.cleanup.dryRun).describe('The clean-up logs what it would delete and deletes nothing.'),
});

const storage = group({
  encryption: oneOf(['s3-managed', 'kms'])
    .default(CONFIG_DEFAULTS.storage.encryption)
    .describe('Encryption at rest of the inbox and artifacts buckets.'),
  kmsKeyArn: matching(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/,
    'a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>',
    '`arn:aws:kms:<region>:<account>:key/<id>`',
  )
    .optional()
    .describe('An existing customer key to use with `kms`.')
    .register(fieldDocs, { allowed: '`arn:aws:kms:<region>:<account>:key/<id>`', defaultText: 'none (a new key when `kms`)' }),
  retainOnDelete: bool()
    .default(CONFIG_DEFAULTS.storage.retainOnDelete)
    .describe('Keep the buckets and their data when the stack is deleted.'),
  scratchExpirationDays: integer(1, 3650)
    .default(CONFIG_DEFAULTS.storage.scratchExpirationDays)
    .describe("Days after which a run's channel manifests (`runs/<run-id>/channels/`) expire; datasets and reports stay."),
  noncurrentVersionExpirationDays: integer(1, 3650)
    .default(CONFIG_DEFAULTS.storage.noncurrentVersionExpirationDays)
    .describe(
      'The artifacts bucket keeps versions (datasets and models); a version that was replaced or deleted expires after this many days.',
    ),
});

const logging = group({
  // The state machine's `LoggingConfiguration.Level` (Step Functions API reference, `LogLevel`).
  level: oneOf(['off', 'error', 'fatal', 'all'])
    .default(CONFIG_DEFAULTS.logging.level)
    .describe(
      "What the state machine logs to its log group: `error` logs failed states and executions; `all` every state (a run's state holds upload names).",
    ),
  includeExecutionData: bool()
    .default(CONFIG_DEFAULTS.logging.includeExecutionData)
    .describe(
      "Whether those log entries carry the states' input and output (which hold batch names, image keys and manifest lines from uploads).",
    ),
});

const segpipeConfigSchema = group({
  labelClasses,
  workforce: workforce.prefault({}),
  labeling: labeling.prefault({}),
  split: split.prefault({}),
  training: training.prefault({}),
  hosting: hosting.prefault({}),
  evaluation: evaluation.prefault({}),
  cleanup: cleanup.prefault({}),
  minValidationMiou: field(
    z.number({ error: 'a number from 0 to 1' }).min(0, 'a number from 0 to 1').max(1, 'a number from 0 to 1'),
    'a number from 0 to 1',
  )
    .default(CONFIG_DEFAULTS.minValidationMiou)
    .describe('A model whose `validation:mIOU`, or whose mean IoU in the evaluation on the endpoint, is below this is not deployed.'),
  notificationEmail: matching(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address')
    .optional()
    .describe('Subscribed to the run notifications.'),
  budgetUsd: field(z.number({ error: 'a positive number of US dollars' }).positive('a positive number of US dollars'), 'a positive number')
    .optional()
    .describe('A run whose cost estimate exceeds this stops before labeling.'),
  batch: group({
    quietSeconds: integer(10, 86_400)
      .default(CONFIG_DEFAULTS.batch.quietSeconds)
      .describe('A batch starts once no image has arrived for this long, or at once when `images/<batch>/_START` appears.'),
    // Lambda's `ReservedConcurrentExecutions`; the account keeps at least 100 unreserved (AWS Lambda Developer Guide, "Lambda quotas"),
    // so a reservation fails the deploy on an account whose concurrency quota is still a new account's 10.
    startConcurrency: integer(1, 1000)
      .optional()
      .describe(
        "Reserved concurrency of the Lambda that turns uploads into runs, so that a bulk upload queues its events (EventBridge retries them for 6 hours) instead of taking the account's Lambda concurrency. Unset by default: Lambda refuses a reservation that leaves an account fewer than 100 unreserved executions, which fails the first deploy on a new account (quota 10). Set it once the account's quota is raised.",
      ),
  }).prefault({}),
  conversion: group({
    chunkEntries: integer(100, 100_000)
      .default(CONFIG_DEFAULTS.conversion.chunkEntries)
      .describe(
        'Entries (manifest lines, tasks, images) one Lambda converts; a plan of more than 1,000 chunks makes them larger instead, so that their list fits the execution state.',
      ),
    // A Distributed Map runs at most 10,000 child executions at once (Step Functions quotas).
    maxConcurrency: integer(1, 10_000)
      .default(CONFIG_DEFAULTS.conversion.maxConcurrency)
      .describe("Conversion Lambdas running at once (the Distributed Map's `MaxConcurrency`)."),
    maxFailedChunkPercent: field(
      z.number({ error: 'a number from 0 to 100' }).min(0, 'a number from 0 to 100').max(100, 'a number from 0 to 100'),
      'a number from 0 to 100',
    )
      .default(CONFIG_DEFAULTS.conversion.maxFailedChunkPercent)
      .describe(
        'Share of conversion chunks whose Lambda may fail (their entries reported skipped, each with the reason) before the run stops.',
      ),
  }).prefault({}),
  import: group({
    readBuckets: field(
      z.array(
        // A prefix ends the grant's ARN: IAM's wildcards in it would widen it, `..` segments would mislead.
        z
          .string({ error: READ_LOCATION_ALLOWED })
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the pattern refuses in a prefix.
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/([^*?\u0000-\u001f\u007f]*\/)?)?$/, READ_LOCATION_ALLOWED)
          .refine(
            (location) =>
              !location
                .split('/')
                .slice(1)
                .some((segment) => segment === '.' || segment === '..'),
            READ_LOCATION_ALLOWED,
          ),
        { error: `an array of ${READ_LOCATION_ALLOWED}s` },
      ),
      'S3 bucket names, each optionally followed by `/` and a key prefix (`my-bucket`, `my-bucket/exports/`)',
    )
      .default([])
      .describe(
        'Other S3 locations that imported exports (`labeled/<batch>/`) may refer to: a whole bucket, or its keys under a prefix; granted read-only. References elsewhere are reported per item.',
      ),
    readBucketOwners: field(
      z.record(
        z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
        z.string({ error: 'a 12-digit AWS account id' }).regex(/^[0-9]{12}$/, 'a 12-digit AWS account id'),
        { error: 'an object of bucket names and 12-digit account ids' },
      ),
      'bucket names of `readBuckets` and 12-digit account ids',
    )
      .default({})
      .describe(
        "The account that owns each `readBuckets` bucket of another account; every other one must be the stack's account's (reads of a bucket another account owns are refused, `s3:ResourceAccount`).",
      ),
  }).prefault({}),
  storage: storage.prefault({}),
  logging: logging.prefault({}),
})
  // Rules across fields. They run even when other fields have problems, so that all are reported at once.
  .superRefine(
    (parsed, ctx) => {
      // Fields with problems of their own hold what was received here: compare, never assume a type.
      const config = parsed as unknown as Record<'workforce' | 'training' | 'storage', Record<string, unknown> | undefined> & {
        labelClasses?: unknown;
      };
      const problem = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: undefined });
      const { type, workteamArn, publicTaskPriceUsd, attestNoPersonalData, taskAvailabilityLifetimeSeconds } = config.workforce ?? {};
      if ((type === 'private' || type === 'vendor') && workteamArn === undefined) {
        problem(['workforce', 'workteamArn'], `the ARN of your ${type} workteam (required when workforce.type is "${type}")`);
      }
      if (type === 'public') {
        if (workteamArn !== undefined)
          problem(['workforce', 'workteamArn'], 'nothing when workforce.type is "public" (segpipe uses the public crowd of the region)');
        if (publicTaskPriceUsd === undefined) {
          problem(
            ['workforce', 'publicTaskPriceUsd'],
            `one of ${PUBLIC_SEGMENTATION_PRICES_USD.join(', ')} (Mechanical Turk prices for semantic segmentation); required when workforce.type is "public"`,
          );
        }
        if (attestNoPersonalData !== true) {
          problem(
            ['workforce', 'attestNoPersonalData'],
            'true, and only if the images hold no personal data: Mechanical Turk workers anywhere will see them',
          );
        }
        if (typeof taskAvailabilityLifetimeSeconds === 'number' && taskAvailabilityLifetimeSeconds > MAX_TASK_AVAILABILITY_SECONDS.public) {
          problem(
            ['workforce', 'taskAvailabilityLifetimeSeconds'],
            `an integer from 60 to ${MAX_TASK_AVAILABILITY_SECONDS.public} when workforce.type is "public" (Mechanical Turk's maximum, 12 hours)`,
          );
        }
      }
      // Only for a type that is one: a misspelt type is reported once, on its own line.
      if (
        (type === 'private' || type === 'vendor' || type === 'public') &&
        Array.isArray(config.labelClasses) &&
        config.labelClasses.length === 0
      ) {
        problem(['labelClasses'], `at least one class name when workforce.type is "${type}"`);
      }
      const tool = (config as { labeling?: Record<string, unknown> }).labeling?.tool;
      if (tool === 'groundtruth' && type === 'none')
        problem(['labeling', 'tool'], 'labelstudio or none while workforce.type is "none" (Ground Truth needs a workforce)');
      const { spot, maxRuntimeSeconds } = config.training ?? {};
      if (spot === true && typeof maxRuntimeSeconds === 'number' && maxRuntimeSeconds * SPOT_WAIT_FACTOR > MAX_TRAINING_SECONDS) {
        problem(
          ['training', 'maxRuntimeSeconds'],
          `an integer from 60 to ${MAX_TRAINING_SECONDS / SPOT_WAIT_FACTOR} with training.spot (a spot job may wait ${SPOT_WAIT_FACTOR} times its runtime, MaxWaitTimeInSeconds, and that wait may not exceed the 28-day training maximum, ${MAX_TRAINING_SECONDS})`,
        );
      }
      const { minImages, maxImages } = (config as { evaluation?: Record<string, unknown> }).evaluation ?? {};
      if (typeof minImages === 'number' && typeof maxImages === 'number' && minImages > maxImages) {
        problem(['evaluation', 'minImages'], `an integer from 1 to evaluation.maxImages (${maxImages})`);
      }
      const {
        trainer,
        hyperparameters,
        pytorch: torch,
      } = (config.training ?? {}) as { trainer?: unknown; hyperparameters?: unknown; pytorch?: Record<string, unknown> };
      if (trainer === 'pytorch' && isPlainObject(hyperparameters) && Object.keys(hyperparameters).length > 0) {
        problem(
          ['training', 'hyperparameters'],
          'nothing when training.trainer is "pytorch" (these pass to the built-in algorithm; the PyTorch trainer\'s settings are training.pytorch.*)',
        );
      }
      const backbones = PYTORCH_MODELS[torch?.model as keyof typeof PYTORCH_MODELS] as readonly unknown[] | undefined;
      if (backbones && typeof torch?.backbone === 'string' && !backbones.includes(torch.backbone)) {
        problem(['training', 'pytorch', 'backbone'], `one of ${backbones.join(', ')} with training.pytorch.model "${String(torch.model)}"`);
      }
      const { readBuckets, readBucketOwners } = (config as { import?: Record<string, unknown> }).import ?? {};
      if (Array.isArray(readBuckets) && isPlainObject(readBucketOwners)) {
        const buckets = new Set(readBuckets.map((location) => String(location).split('/')[0]));
        for (const bucket of Object.keys(readBucketOwners).filter((b) => !buckets.has(b))) {
          problem(
            ['import', 'readBucketOwners', bucket],
            `a bucket that import.readBuckets lists (it lists ${[...buckets].join(', ') || 'none'})`,
          );
        }
      }
      const { encryption, kmsKeyArn } = config.storage ?? {};
      if (kmsKeyArn !== undefined && encryption !== 'kms') problem(['storage', 'kmsKeyArn'], 'nothing unless storage.encryption is "kms"');
    },
    { when: (payload) => isPlainObject(payload.value) },
  )
  .transform((config) => {
    const audience = config.workforce.type === 'public' ? 'public' : 'team';
    return {
      ...config,
      labeling: { ...config.labeling, tool: config.labeling.tool ?? (config.workforce.type === 'none' ? 'labelstudio' : 'groundtruth') },
      workforce: {
        ...config.workforce,
        workersPerObject: config.workforce.workersPerObject ?? WORKFORCE_DEFAULTS.workersPerObject[audience],
        taskAvailabilityLifetimeSeconds:
          config.workforce.taskAvailabilityLifetimeSeconds ?? WORKFORCE_DEFAULTS.taskAvailabilityLifetimeSeconds[audience],
      },
    };
  });

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type SegpipeConfig = DeepReadonly<z.output<typeof segpipeConfigSchema>>;
export type HostingConfig = SegpipeConfig['hosting'];

/** The instance a run trains on: the configured trainer's. */
export function trainingInstanceType(config: Pick<SegpipeConfig, 'training'>): string {
  return config.training.trainer === 'pytorch' ? config.training.pytorch.instanceType : config.training.instanceType;
}
export type CleanupConfig = SegpipeConfig['cleanup'];

/** Thrown when the configuration has problems; its message lists every one. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid segpipe configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        '\nSee docs/configuration.md.',
    );
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `override` over `base`: objects recursively, everything else (arrays included) replaced. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge(base[key], value) as Json;
  return merged;
}

/**
 * The raw configuration from the CDK context: cdk.json's `segpipe` object with the context value
 * deep-merged over it. A value given with `-c segpipe='<json>'` arrives as a string.
 */
export function mergeContextConfig(cdkJsonConfig: unknown, contextValue: unknown): unknown {
  let override = contextValue;
  if (typeof contextValue === 'string') {
    try {
      override = JSON.parse(contextValue);
    } catch (err) {
      throw new ConfigError([
        `segpipe: received ${JSON.stringify(contextValue)}, which is not JSON (${(err as Error).message}); pass -c segpipe='{"field": value}'`,
      ]);
    }
  }
  return deepMerge(cdkJsonConfig ?? {}, override ?? {});
}

/** Drops null fields of objects, recursively: `null` stands for "the default", so an override can unset a cdk.json value. */
function withoutNulls(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) => (typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined),
    raw,
  );
}

/** One line per problem: the field, the value received and what is allowed. */
function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string[] {
  const name = (path: readonly PropertyKey[]) => path.map(String).join('.') || 'segpipe';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map(
      (key) => `${name([...issue.path, key])}: unknown field (received ${show(valueAt(raw, [...issue.path, key]))}); ${issue.message}`,
    );
  }
  // A refused record key (a managed hyperparameter) carries its reason inside.
  if (issue.code === 'invalid_key')
    return [`${name(issue.path)}: received ${show(valueAt(raw, issue.path))}; allowed: ${issue.issues[0]?.message ?? issue.message}`];
  return [`${name(issue.path)}: received ${show(valueAt(raw, issue.path))}; allowed: ${issue.message}`];
}

/**
 * Validates a raw configuration and fills in every default.
 * @throws ConfigError listing every problem: field, value received, what is allowed.
 */
export function resolveConfig(raw: unknown = {}): SegpipeConfig {
  const input = withoutNulls(raw);
  const result = segpipeConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue(input, issue)));
  return result.data;
}

/** One row of the configuration reference. */
export interface ConfigFieldReference {
  readonly path: string;
  readonly default: string;
  readonly allowed: string;
  readonly description: string;
}

/** The schema's leaves in order, read from their registrations, descriptions and defaults. */
export function configReference(): ConfigFieldReference[] {
  const rows: ConfigFieldReference[] = [];
  const visit = (schema: z.ZodType, path: string) => {
    let doc: Partial<FieldDoc> = {};
    let description: string | undefined;
    let defaultValue: unknown;
    // Walk the wrappers (default, optional, transform, refinements) down to the field; the outermost registration wins.
    for (let s: z.ZodType | undefined = schema; s; ) {
      doc = { ...fieldDocs.get(s), ...doc };
      description ??= s.description;
      const def = s._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType; defaultValue?: unknown };
      if (def.type === 'default') defaultValue ??= def.defaultValue;
      if (def.type === 'object' && !doc.allowed) {
        for (const [key, child] of Object.entries((s as z.ZodObject).shape)) visit(child as z.ZodType, path ? `${path}.${key}` : key);
        return;
      }
      s = def.innerType ?? def.in;
    }
    rows.push({
      path,
      default:
        doc.defaultText ??
        (defaultValue === undefined ? 'none' : `\`${typeof defaultValue === 'string' ? defaultValue : JSON.stringify(defaultValue)}\``),
      allowed: doc.allowed ?? '',
      description: description ?? '',
    });
  };
  visit(segpipeConfigSchema, '');
  return rows;
}

/** The configuration reference as a Markdown table, for docs/configuration.md. */
export function configReferenceMarkdown(): string {
  const rows = configReference().map((f) => `| \`${f.path}\` | ${f.default} | ${f.allowed} | ${f.description} |`);
  return ['| field | default | allowed | what it does |', '|---|---|---|---|', ...rows].join('\n');
}
