import { Logger } from '@aws-lambda-powertools/logger';
import { S3ObjectStore, createS3Client } from '../convert/s3-object-store';
import { SCRATCH_OBJECT_TAG } from '../shared/retention';

/** What every segpipe Lambda reads from its environment, once per container. */
export interface RuntimeSettings {
  readonly artifactsBucket: string;
  readonly labelClasses: string[];
  readonly validationFraction: number;
  readonly splitSeed: string;
  readonly minTrainingSamples: number;
  readonly resourcePrefix: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function readSettings(): RuntimeSettings {
  return {
    artifactsBucket: required('ARTIFACTS_BUCKET'),
    labelClasses: JSON.parse(process.env.LABEL_CLASSES ?? '[]'),
    validationFraction: Number(process.env.VALIDATION_FRACTION ?? '0.2'),
    splitSeed: process.env.SPLIT_SEED ?? 'segpipe',
    minTrainingSamples: Number(process.env.MIN_TRAINING_SAMPLES ?? '1'),
    resourcePrefix: process.env.RESOURCE_PREFIX ?? 'segpipe',
  };
}

export const logger = new Logger({ serviceName: 'segpipe' });

// SEGPIPE_S3_ENDPOINT is set only by the local run and the tests, to point at the embedded S3 server.
const s3Client = createS3Client({ endpoint: process.env.SEGPIPE_S3_ENDPOINT || undefined });
/** Object storage for the handlers: one S3 client per container. */
export const store = new S3ObjectStore(s3Client);
/** The same, tagging what it writes as run scratch data that the bucket's lifecycle rule expires. */
export const scratchStore = new S3ObjectStore(s3Client, { tagging: `${SCRATCH_OBJECT_TAG.key}=${SCRATCH_OBJECT_TAG.value}` });

