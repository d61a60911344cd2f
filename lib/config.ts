/**
 * segpipe's configuration: one object under the `segpipe` key of cdk.json's context, over which
 * `cdk synth -c segpipe='<json>'` deep-merges. `resolveConfig` fills every default and reports every
 * problem at once, so a user fixes a config in one round trip.
 */

export type WorkforceType = 'none' | 'private' | 'vendor' | 'public';
export type SegmentationAlgorithm = 'fcn' | 'psp' | 'deeplab';
export type SegmentationBackbone = 'resnet-50' | 'resnet-101';
export type BucketEncryption = 's3-managed' | 'kms';

/** Mechanical Turk prices allowed for semantic segmentation, USD per task (SageMaker API reference, `PublicWorkforceTaskPrice`). */
export const PUBLIC_SEGMENTATION_PRICES_USD = [0.84, 0.96, 1.08, 1.2] as const;

/** Instance families the built-in algorithm trains on: single-machine GPU only (SageMaker Developer Guide, "Semantic Segmentation Algorithm"). */
const TRAINING_INSTANCE_PATTERN = /^ml\.(p2|p3|p3dn|g4dn|g5)\.[0-9]*x?large$/;
const INSTANCE_PATTERN = /^ml\.[a-z0-9]+\.[0-9]*x?large$/;
const WORKTEAM_ARN_PATTERN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:workteam\/[a-z-]+\/[A-Za-z0-9._-]+$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/;

/** Hyperparameters segpipe sets itself: passing them through `training.hyperparameters` is refused. */
export const MANAGED_HYPERPARAMETERS = ['num_classes', 'num_training_samples', 'algorithm', 'backbone', 'epochs'] as const;

export interface WorkforceConfig {
  /** `none`: labels are imported only; `private`/`vendor`: a workteam; `public`: Mechanical Turk. */
  readonly type: WorkforceType;
  /** The private or vendor workteam's ARN; required for those types. */
  readonly workteamArn?: string;
  /** Mechanical Turk price per task in USD, one of {@link PUBLIC_SEGMENTATION_PRICES_USD}; required for `public`. */
  readonly publicTaskPriceUsd?: number;
  /** The user's promise that the images hold no personal data; `public` requires `true`. */
  readonly attestNoPersonalData: boolean;
  /** The user's promise that the images hold no adult content (sets the optional classifier). */
  readonly attestNoAdultContent: boolean;
  readonly workersPerObject: number;
  readonly taskTimeLimitSeconds: number;
  readonly taskAvailabilityLifetimeSeconds: number;
}

export interface SplitConfig {
  readonly validationFraction: number;
  readonly seed: string;
}

export interface TrainingConfig {
  readonly instanceType: string;
  readonly algorithm: SegmentationAlgorithm;
  readonly backbone: SegmentationBackbone;
  readonly epochs: number;
  /** Further hyperparameters of the built-in algorithm, passed through as strings. */
  readonly hyperparameters: Readonly<Record<string, string>>;
  readonly spot: boolean;
  readonly maxRuntimeSeconds: number;
  readonly volumeSizeGb: number;
  /** Fewest items in the train channel before a GPU is paid for. */
  readonly minSamples: number;
}

export interface HostingConfig {
  readonly instanceType: string;
  readonly idleMinutes: number;
  /** Hours an endpoint may live; 0 means no limit. */
  readonly timeToLiveHours: number;
}

export interface CleanupConfig {
  /** Minutes between two clean-up sweeps. */
  readonly everyMinutes: number;
  /** Newest models kept, with the endpoint config that served each, so a redeploy is one call. */
  readonly keepModels: number;
  /** Log what would be deleted, delete nothing. */
  readonly dryRun: boolean;
}

export interface StorageConfig {
  readonly encryption: BucketEncryption;
  /** An existing customer key for `kms`; without it the stack creates one. */
  readonly kmsKeyArn?: string;
  readonly retainOnDelete: boolean;
  readonly scratchExpirationDays: number;
}

export interface BatchConfig {
  /** Seconds without a new upload after which a batch starts (or at once on `_START`). */
  readonly quietSeconds: number;
}

export interface ImportConfig {
  /** Buckets, besides the inbox, that imported manifests may refer to: granted read-only to the converter. */
  readonly readBuckets: readonly string[];
}

export interface SegpipeConfig {
  /** Class names in index order after the background (index 0). */
  readonly labelClasses: readonly string[];
  readonly workforce: WorkforceConfig;
  readonly split: SplitConfig;
  readonly training: TrainingConfig;
  readonly hosting: HostingConfig;
  readonly cleanup: CleanupConfig;
  readonly minValidationMiou: number;
  readonly notificationEmail?: string;
  readonly budgetUsd?: number;
  readonly storage: StorageConfig;
  readonly batch: BatchConfig;
  readonly import: ImportConfig;
}

/** One row of the configuration reference: the README's table is generated from these. */
export interface ConfigField {
  readonly path: string;
  readonly default: string;
  readonly allowed: string;
  readonly description: string;
}

export const CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'labelClasses', default: '`[]`', allowed: 'unique non-empty names, at most 253, not `BACKGROUND`', description: 'Classes to label, in index order after the background (index 0). Required once a workforce is set.' },
  { path: 'workforce.type', default: '`none`', allowed: '`none`, `private`, `vendor`, `public`', description: '`none`: labels are only imported (`labeled/<batch>/*.manifest`); `private`/`vendor`: a Ground Truth workteam; `public`: Amazon Mechanical Turk.' },
  { path: 'workforce.workteamArn', default: 'none', allowed: '`arn:aws:sagemaker:<region>:<account>:workteam/<type>/<name>`', description: 'The private or vendor workteam; required for those types.' },
  { path: 'workforce.publicTaskPriceUsd', default: 'none', allowed: PUBLIC_SEGMENTATION_PRICES_USD.join(', '), description: 'Mechanical Turk price per task (USD); required for `public`.' },
  { path: 'workforce.attestNoPersonalData', default: '`false`', allowed: '`true`, `false`', description: 'Your promise that the images hold no personally identifiable information; `public` requires `true`.' },
  { path: 'workforce.attestNoAdultContent', default: '`false`', allowed: '`true`, `false`', description: 'Your promise that the images hold no adult content (lets more workers see the task).' },
  { path: 'workforce.workersPerObject', default: '1 (`private`, `vendor`), 3 (`public`)', allowed: 'an integer from 1 to 9', description: 'Workers who label each image; Ground Truth consolidates their masks.' },
  { path: 'workforce.taskTimeLimitSeconds', default: '`1800`', allowed: 'an integer from 30 to 28800', description: 'Time a worker has for one image.' },
  { path: 'workforce.taskAvailabilityLifetimeSeconds', default: '`864000` (`private`, `vendor`), `21600` (`public`)', allowed: 'an integer from 60 to 2592000 (43200 for `public`)', description: 'Time a task stays available to workers.' },
  { path: 'split.validationFraction', default: '`0.2`', allowed: 'a number greater than 0 and less than 1', description: 'Share of items that go to the validation channels.' },
  { path: 'split.seed', default: '`segpipe`', allowed: 'a non-empty string', description: 'Seed of the deterministic train/validation split.' },
  { path: 'training.instanceType', default: '`ml.p3.2xlarge`', allowed: 'an `ml.p2`, `ml.p3`, `ml.g4dn` or `ml.g5` type', description: 'Training instance (the algorithm trains on one GPU machine).' },
  { path: 'training.algorithm', default: '`fcn`', allowed: '`fcn`, `psp`, `deeplab`', description: 'Segmentation network.' },
  { path: 'training.backbone', default: '`resnet-50`', allowed: '`resnet-50`, `resnet-101`', description: 'Encoder network.' },
  { path: 'training.epochs', default: '`30`', allowed: 'an integer from 1 to 1000', description: 'Training epochs.' },
  { path: 'training.hyperparameters', default: '`{}`', allowed: `an object of strings, numbers or booleans; not ${MANAGED_HYPERPARAMETERS.map((n) => `\`${n}\``).join(', ')}`, description: 'Further hyperparameters of the built-in algorithm, passed through as strings.' },
  { path: 'training.spot', default: '`false`', allowed: '`true`, `false`', description: 'Managed spot training, with checkpoints under `models/<run-id>/`.' },
  { path: 'training.maxRuntimeSeconds', default: '`3600`', allowed: 'an integer from 60 to 2419200', description: 'Training stops after this long.' },
  { path: 'training.volumeSizeGb', default: '`30`', allowed: 'an integer from 1 to 16384', description: 'Training volume size.' },
  { path: 'training.minSamples', default: '`10`', allowed: 'an integer from 1 to 1000000', description: 'A run whose train channel holds fewer items stops before training.' },
  { path: 'hosting.instanceType', default: '`ml.c5.xlarge`', allowed: 'an `ml.*` instance type', description: 'Endpoint instance.' },
  { path: 'hosting.idleMinutes', default: '`120`', allowed: 'an integer from 10 to 43200', description: 'An endpoint with no invocations for this long is deleted.' },
  { path: 'hosting.timeToLiveHours', default: '`0`', allowed: 'an integer from 0 to 8760; 0 means no limit', description: 'An endpoint deployed longer ago than this is deleted, used or not (a run that redeploys starts the count anew).' },
  { path: 'cleanup.everyMinutes', default: '`60`', allowed: 'an integer from 5 to 1440', description: 'How often the clean-up looks for idle, expired or failed endpoints and unused endpoint configs and models.' },
  { path: 'cleanup.keepModels', default: '`1`', allowed: 'an integer from 0 to 100', description: 'Newest models kept (with the endpoint config that served each) after their endpoint is deleted, so a redeploy is one `create-endpoint` call.' },
  { path: 'cleanup.dryRun', default: '`false`', allowed: '`true`, `false`', description: 'The clean-up logs what it would delete and deletes nothing.' },
  { path: 'minValidationMiou', default: '`0.5`', allowed: 'a number from 0 to 1', description: 'A model whose `validation:mIOU` is below this is not deployed.' },
  { path: 'notificationEmail', default: 'none', allowed: 'an e-mail address', description: 'Subscribed to the run notifications.' },
  { path: 'budgetUsd', default: 'none', allowed: 'a positive number', description: 'A run whose cost estimate exceeds this stops before labeling.' },
  { path: 'batch.quietSeconds', default: '`120`', allowed: 'an integer from 10 to 86400', description: 'A batch starts once no image has arrived for this long, or at once when `images/<batch>/_START` appears.' },
  { path: 'import.readBuckets', default: '`[]`', allowed: 'S3 bucket names', description: 'Other buckets that imported manifests (`labeled/<batch>/*.manifest`) may refer to; granted read-only. References elsewhere are reported per item.' },
  { path: 'storage.encryption', default: '`s3-managed`', allowed: '`s3-managed`, `kms`', description: 'Encryption at rest of the inbox and artifacts buckets.' },
  { path: 'storage.kmsKeyArn', default: 'none (a new key when `kms`)', allowed: '`arn:aws:kms:<region>:<account>:key/<id>`', description: 'An existing customer key to use with `kms`.' },
  { path: 'storage.retainOnDelete', default: '`true`', allowed: '`true`, `false`', description: 'Keep the buckets and their data when the stack is deleted.' },
  { path: 'storage.scratchExpirationDays', default: '`14`', allowed: 'an integer from 1 to 3650', description: 'Days after which a run\'s channel copies (`runs/<run-id>/channels/`) expire; datasets and reports stay.' },
];

/** Thrown when the configuration has problems; its message lists every one. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid segpipe configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        '\nSee "Configuration" in README.md.',
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
      throw new ConfigError([`segpipe: received ${JSON.stringify(contextValue)}, which is not JSON (${(err as Error).message}); pass -c segpipe='{"field": value}'`]);
    }
  }
  return deepMerge(cdkJsonConfig ?? {}, override ?? {});
}

/** Reads fields out of a raw object, recording problems instead of throwing. */
class FieldReader {
  constructor(
    private readonly problems: string[],
    private readonly raw: JsonObject,
    private readonly prefix: string,
    knownFields: readonly string[],
  ) {
    for (const key of Object.keys(raw)) {
      if (!knownFields.includes(key)) {
        this.problems.push(`${this.path(key)}: unknown field (received ${show(raw[key])}); known fields here: ${knownFields.join(', ')}`);
      }
    }
  }

  path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  addProblem(message: string): void {
    this.problems.push(message);
  }

  problem(key: string, allowed: string): void {
    this.problems.push(`${this.path(key)}: received ${show(this.raw[key])}; allowed: ${allowed}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(key, `an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  number(key: string, fallback: number, accept: (n: number) => boolean, allowed: string): number {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !accept(value)) {
      this.problem(key, allowed);
      return fallback;
    }
    return value;
  }

  optionalNumber(key: string, accept: (n: number) => boolean, allowed: string): number | undefined {
    return this.has(key) ? this.number(key, NaN, accept, allowed) : undefined;
  }

  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'boolean') {
      this.problem(key, '`true` or `false`');
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.problem(key, allowed.join(', '));
      return fallback;
    }
    return value as T;
  }

  string(key: string, fallback: string, pattern: RegExp, allowed: string): string {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.problem(key, allowed);
      return fallback;
    }
    return value;
  }

  optionalString(key: string, pattern: RegExp, allowed: string): string | undefined {
    return this.has(key) ? this.string(key, '', pattern, allowed) || undefined : undefined;
  }

  object(key: string, knownFields: readonly string[]): FieldReader {
    const value = this.has(key) ? this.raw[key] : {};
    if (!isPlainObject(value)) {
      this.problem(key, 'an object');
      return new FieldReader(this.problems, {}, this.path(key), knownFields);
    }
    return new FieldReader(this.problems, value, this.path(key), knownFields);
  }

  rawValue(key: string): Json | undefined {
    return this.raw[key];
  }
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function readLabelClasses(reader: FieldReader): string[] {
  const value = reader.rawValue('labelClasses');
  if (value === undefined || value === null) return [];
  const allowed = 'an array of unique non-empty class names (at most 253, not "BACKGROUND")';
  if (!Array.isArray(value) || value.length > 253) {
    reader.problem('labelClasses', allowed);
    return [];
  }
  const bad = value.filter((name, i) => typeof name !== 'string' || name.trim() === '' || name.length > 256 || /^background$/i.test(name) || value.indexOf(name) !== i);
  if (bad.length > 0) {
    reader.problem('labelClasses', `${allowed}; these are not: ${bad.map(show).join(', ')}`);
    return [];
  }
  return value as string[];
}

function readWorkforce(root: FieldReader, labelClasses: readonly string[]): WorkforceConfig {
  const reader = root.object('workforce', [
    'type', 'workteamArn', 'publicTaskPriceUsd', 'attestNoPersonalData', 'attestNoAdultContent',
    'workersPerObject', 'taskTimeLimitSeconds', 'taskAvailabilityLifetimeSeconds',
  ]);
  const type = reader.oneOf<WorkforceType>('type', 'none', ['none', 'private', 'vendor', 'public']);
  const isPublic = type === 'public';
  const workteamArn = reader.optionalString('workteamArn', WORKTEAM_ARN_PATTERN, 'a workteam ARN, arn:aws:sagemaker:<region>:<account>:workteam/<private-crowd|vendor-crowd>/<name>');
  if ((type === 'private' || type === 'vendor') && !reader.has('workteamArn')) {
    reader.problem('workteamArn', `the ARN of your ${type} workteam (required when workforce.type is "${type}")`);
  }
  if (isPublic && reader.has('workteamArn')) {
    reader.problem('workteamArn', 'nothing when workforce.type is "public" (segpipe uses the public crowd of the region)');
  }
  const priceAllowed = `one of ${PUBLIC_SEGMENTATION_PRICES_USD.join(', ')} (Mechanical Turk prices for semantic segmentation)`;
  const publicTaskPriceUsd = reader.optionalNumber('publicTaskPriceUsd', (n) => (PUBLIC_SEGMENTATION_PRICES_USD as readonly number[]).includes(n), priceAllowed);
  if (isPublic && !reader.has('publicTaskPriceUsd')) reader.problem('publicTaskPriceUsd', `${priceAllowed}; required when workforce.type is "public"`);
  const attestNoPersonalData = reader.boolean('attestNoPersonalData', false);
  if (isPublic && attestNoPersonalData !== true) {
    reader.problem('attestNoPersonalData', 'true, and only if the images hold no personal data: Mechanical Turk workers anywhere will see them');
  }
  if (type !== 'none' && labelClasses.length === 0) {
    root.problem('labelClasses', `at least one class name when workforce.type is "${type}"`);
  }
  return {
    type,
    workteamArn,
    publicTaskPriceUsd,
    attestNoPersonalData,
    attestNoAdultContent: reader.boolean('attestNoAdultContent', false),
    workersPerObject: reader.integer('workersPerObject', isPublic ? 3 : 1, 1, 9),
    taskTimeLimitSeconds: reader.integer('taskTimeLimitSeconds', 1800, 30, 28_800),
    taskAvailabilityLifetimeSeconds: reader.integer('taskAvailabilityLifetimeSeconds', isPublic ? 21_600 : 864_000, 60, isPublic ? 43_200 : 2_592_000),
  };
}

function readHyperparameters(reader: FieldReader): Record<string, string> {
  const value = reader.rawValue('hyperparameters');
  if (value === undefined || value === null) return {};
  const allowed = `an object of strings, numbers or booleans, without ${MANAGED_HYPERPARAMETERS.join(', ')} (segpipe sets those)`;
  if (!isPlainObject(value)) {
    reader.problem('hyperparameters', allowed);
    return {};
  }
  const result: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if ((MANAGED_HYPERPARAMETERS as readonly string[]).includes(name) || !['string', 'number', 'boolean'].includes(typeof v)) {
      reader.addProblem(`${reader.path('hyperparameters')}.${name}: received ${show(v)}; allowed: ${allowed}`);
      continue;
    }
    // The built-in algorithm's booleans are spelled True/False.
    result[name] = typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
  }
  return result;
}

function readTraining(root: FieldReader): TrainingConfig {
  const reader = root.object('training', ['instanceType', 'algorithm', 'backbone', 'epochs', 'hyperparameters', 'spot', 'maxRuntimeSeconds', 'volumeSizeGb', 'minSamples']);
  return {
    instanceType: reader.string('instanceType', 'ml.p3.2xlarge', TRAINING_INSTANCE_PATTERN, 'a GPU instance type the algorithm trains on: ml.p2.*, ml.p3.*, ml.g4dn.* or ml.g5.* (e.g. ml.p3.2xlarge, ml.g4dn.xlarge)'),
    algorithm: reader.oneOf<SegmentationAlgorithm>('algorithm', 'fcn', ['fcn', 'psp', 'deeplab']),
    backbone: reader.oneOf<SegmentationBackbone>('backbone', 'resnet-50', ['resnet-50', 'resnet-101']),
    epochs: reader.integer('epochs', 30, 1, 1000),
    hyperparameters: readHyperparameters(reader),
    spot: reader.boolean('spot', false),
    maxRuntimeSeconds: reader.integer('maxRuntimeSeconds', 3600, 60, 2_419_200),
    volumeSizeGb: reader.integer('volumeSizeGb', 30, 1, 16_384),
    minSamples: reader.integer('minSamples', 10, 1, 1_000_000),
  };
}

function readHosting(root: FieldReader): HostingConfig {
  const reader = root.object('hosting', ['instanceType', 'idleMinutes', 'timeToLiveHours']);
  return {
    instanceType: reader.string('instanceType', 'ml.c5.xlarge', INSTANCE_PATTERN, 'an ml.* instance type, e.g. ml.c5.xlarge'),
    idleMinutes: reader.integer('idleMinutes', 120, 10, 43_200),
    timeToLiveHours: reader.integer('timeToLiveHours', 0, 0, 8760),
  };
}

function readCleanup(root: FieldReader): CleanupConfig {
  const reader = root.object('cleanup', ['everyMinutes', 'keepModels', 'dryRun']);
  return {
    everyMinutes: reader.integer('everyMinutes', 60, 5, 1440),
    keepModels: reader.integer('keepModels', 1, 0, 100),
    dryRun: reader.boolean('dryRun', false),
  };
}

function readStorage(root: FieldReader): StorageConfig {
  const reader = root.object('storage', ['encryption', 'kmsKeyArn', 'retainOnDelete', 'scratchExpirationDays']);
  const encryption = reader.oneOf<BucketEncryption>('encryption', 's3-managed', ['s3-managed', 'kms']);
  const kmsKeyArn = reader.optionalString('kmsKeyArn', KMS_KEY_ARN_PATTERN, 'a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>');
  if (kmsKeyArn !== undefined && encryption !== 'kms') reader.problem('kmsKeyArn', 'nothing unless storage.encryption is "kms"');
  return {
    encryption,
    kmsKeyArn,
    retainOnDelete: reader.boolean('retainOnDelete', true),
    scratchExpirationDays: reader.integer('scratchExpirationDays', 14, 1, 3650),
  };
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function readBucketNames(reader: FieldReader): string[] {
  const value = reader.rawValue('readBuckets');
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || !BUCKET_NAME.test(name))) {
    reader.problem('readBuckets', 'an array of S3 bucket names (3 to 63 lower-case letters, digits, dots and hyphens)');
    return [];
  }
  return value as string[];
}

/**
 * Validates a raw configuration and fills in every default.
 * @throws ConfigError listing every problem: field, value received, what is allowed.
 */
export function resolveConfig(raw: unknown = {}): SegpipeConfig {
  const problems: string[] = [];
  if (!isPlainObject(raw)) throw new ConfigError([`segpipe: received ${show(raw)}; allowed: an object`]);
  const root = new FieldReader(problems, raw, '', [
    'labelClasses', 'workforce', 'split', 'training', 'hosting', 'cleanup', 'minValidationMiou', 'notificationEmail', 'budgetUsd', 'storage', 'batch', 'import',
  ]);
  const labelClasses = readLabelClasses(root);
  const workforce = readWorkforce(root, labelClasses);
  const split = root.object('split', ['validationFraction', 'seed']);
  const config: SegpipeConfig = {
    labelClasses,
    workforce,
    split: {
      validationFraction: split.number('validationFraction', 0.2, (n) => n > 0 && n < 1, 'a number greater than 0 and less than 1'),
      seed: split.string('seed', 'segpipe', /^.{1,256}$/, 'a non-empty string'),
    },
    training: readTraining(root),
    hosting: readHosting(root),
    cleanup: readCleanup(root),
    minValidationMiou: root.number('minValidationMiou', 0.5, (n) => n >= 0 && n <= 1, 'a number from 0 to 1'),
    notificationEmail: root.optionalString('notificationEmail', EMAIL_PATTERN, 'an e-mail address'),
    budgetUsd: root.optionalNumber('budgetUsd', (n) => n > 0, 'a positive number of US dollars'),
    storage: readStorage(root),
    batch: { quietSeconds: root.object('batch', ['quietSeconds']).integer('quietSeconds', 120, 10, 86_400) },
    import: { readBuckets: readBucketNames(root.object('import', ['readBuckets'])) },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The configuration reference as a Markdown table, for the README. */
export function configReferenceMarkdown(): string {
  const rows = CONFIG_FIELDS.map((f) => `| \`${f.path}\` | ${f.default} | ${f.allowed} | ${f.description} |`);
  return ['| field | default | allowed | what it does |', '|---|---|---|---|', ...rows].join('\n');
}
