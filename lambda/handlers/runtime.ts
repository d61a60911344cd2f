import { Logger } from '@aws-lambda-powertools/logger';
import { S3ObjectStore, createS3Client } from '../convert/stores/s3-object-store';
import { SCRATCH_OBJECT_TAG } from '../common/retention';

export const logger = new Logger({ serviceName: 'segpipe' });

// SEGPIPE_S3_ENDPOINT is set only by the local run and the tests, to point at the embedded S3 server.
const s3Client = createS3Client({ endpoint: process.env.SEGPIPE_S3_ENDPOINT || undefined });
/** Object storage for the handlers: one S3 client per container. */
export const store = new S3ObjectStore(s3Client);
/** The same, tagging what it writes as run scratch data that the bucket's lifecycle rule expires. */
export const scratchStore = new S3ObjectStore(s3Client, { tagging: `${SCRATCH_OBJECT_TAG.key}=${SCRATCH_OBJECT_TAG.value}` });

