// @ts-nocheck
import { CHANNELS } from '../convert/channels';

/**
 * Where a run and the dataset keep their objects in the artifacts bucket. Every write goes to a run-
 * or dataset-scoped key, so a re-run is idempotent; the stack's IAM is scoped to these prefixes.
 */
export const RUNS_PREFIX = 'runs/';
export const DATASETS_PREFIX = 'datasets/';
export const MODELS_PREFIX = 'models/';
export const BATCHES_PREFIX = 'batches/';
/** Locks the stack's runs share: one deploy at a time (`deploy-lock.ts`). */
export const LOCKS_PREFIX = 'locks/';
/** Inbox prefixes users write to. */
export const IMAGES_PREFIX = 'images/';
export const LABELED_PREFIX = 'labeled/';

/** The stack keeps one dataset, accumulated across runs. */
export const DATASET_NAME = 'main';

export const CHANNEL_NAMES = ['train', 'validation', 'train_annotation', 'validation_annotation'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/**
 * The S3 console's page of an object: where a person opens it after signing in to the account. Never a
 * presigned URL, which would hand the object to whoever holds the e-mail.
 */
export function s3ConsoleUrl(bucket: string, key: string, region: string): string {
  return `https://console.aws.amazon.com/s3/object/${encodeURIComponent(bucket)}?region=${encodeURIComponent(region)}&bucketType=general&prefix=${encodeURIComponent(key)}`;
}

/**
 * The parts of every run's keys, as IAM patterns under the artifacts bucket (`runs/*\/labeling/output/`):
 * a role that needs one part of runs gets that part, not all of `runs/`.
 */
export const RUN_PATHS = {
  labeling: `${RUNS_PREFIX}*/labeling/`,
  labelingOutput: `${RUNS_PREFIX}*/labeling/output/`,
  /** The chunk manifests a Label Studio run's task writing reads. */
  labelStudio: `${RUNS_PREFIX}*/labelstudio/`,
  conversion: `${RUNS_PREFIX}*/conversion/`,
  staging: `${RUNS_PREFIX}*/staging/`,
  channels: `${RUNS_PREFIX}*/channels/`,
  evaluation: `${RUNS_PREFIX}*/evaluation/`,
} as const;

/** The keys of one run under the artifacts bucket. */
export function runLayout(runId: string) {
  const run = `${RUNS_PREFIX}${runId}/`;
  return {
    prefix: run,
    inputManifest: `${run}labeling/input.manifest`,
    labelCategories: `${run}labeling/label-categories.json`,
    uiTemplate: `${run}labeling/template.liquid`,
    labelingOutput: `${run}labeling/output/`,
    conversionReport: (chunk: number) => `${run}conversion/chunk-${String(chunk).padStart(5, '0')}.json`,
    /** What a chunk reads, written once by the plan: its share's place in the export, and the duplicates found over the whole export. */
    conversionIndex: (chunk: number) => `${run}conversion/index/chunk-${String(chunk).padStart(5, '0')}.json`,
    /** The run's class list, fixed by its plan: what its chunks index masks by. */
    conversionClasses: `${run}conversion/classes.json`,
    /**
     * What the run converted, in the dataset's channel layout, until its channel check passes and it
     * is committed to the dataset; removed then, or when the run ends otherwise.
     */
    staging: `${run}staging/`,
    channels: `${run}channels/`,
    /** The channel's manifest (`S3DataType: ManifestFile`), listing the dataset's objects. */
    channelManifest: (name: ChannelName) => `${run}channels/${name}.manifest`,
    report: `${run}report.json`,
    evaluationMetrics: `${run}evaluation/metrics.json`,
    evaluationReport: `${run}evaluation/report.html`,
    model: `${MODELS_PREFIX}${runId}/`,
  };
}

/** The dataset's keys: its items kept in the algorithm's channel layout (an item's split never changes). */
export function datasetLayout(dataset = DATASET_NAME) {
  const prefix = `${DATASETS_PREFIX}${dataset}/`;
  return {
    ...datasetLayoutUnder(prefix),
    classes: `${prefix}classes.json`,
    /** The index as earlier versions kept it: one document, rewritten whole by every run. Still read. */
    legacyItems: `${prefix}items.json`,
    /** The index: one JSON Lines shard per run, written once, never rewritten (see `dataset-index.ts`). */
    index: `${prefix}index/`,
    indexShard: (runId: string) => `${prefix}index/${runId}.jsonl`,
  };
}

/** Items' keys in the algorithm's channel layout under `prefix`: the dataset's, or a run's staging area. */
export function datasetLayoutUnder(prefix: string) {
  return {
    prefix,
    channelPrefix: (channel: ChannelName) => `${prefix}${channel}/`,
    image: (split: 'train' | 'validation', name: string) => `${prefix}${CHANNELS[split].images}/${name}.jpg`,
    mask: (split: 'train' | 'validation', name: string) => `${prefix}${CHANNELS[split].masks}/${name}.png`,
  };
}
