import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SCRATCH_OBJECT_TAG } from '../lambda/common/retention';
import { labelStudioCorsRule } from '../lambda/labelstudio/setup';

export interface SegpipeStorageProps {
  /**
   * Customer-managed key for both data buckets.
   * @default - S3-managed encryption (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Keep the buckets and their objects when the stack is deleted.
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /**
   * Days after which objects tagged as run scratch data (a run's channel manifests) expire.
   * @default 14
   */
  readonly scratchExpirationDays?: number;
  /**
   * Days after which an artifacts object's replaced or deleted versions expire. The artifacts bucket
   * is versioned (datasets and models are hard to make again); this bounds what the versions cost.
   * @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * The inbox's CORS rule (GET from any origin), which Ground Truth's labeling UI needs to show the
   * images in the workers' browsers. Only a stack with a labeling workforce needs it; imports do not.
   * @default true
   */
  readonly labelingCors?: boolean;
  /**
   * Label Studio's origin: the inbox's CORS rule lets only it read the images through pre-signed URLs
   * (`labelStudioCorsRule`, the rule `segpipe labelstudio setup` prints). Replaces Ground Truth's rule.
   * @default - no Label Studio rule
   */
  readonly labelStudioOrigin?: string;
  /**
   * Days after which server access logs expire.
   * @default 90
   */
  readonly accessLogExpirationDays?: number;
}

/**
 * segpipe's buckets: the inbox users write to, and the artifacts bucket only the pipeline writes to.
 * Both are encrypted, TLS-only, private, and log their access to a third bucket.
 */
export class SegpipeStorage extends Construct {
  /** Users write `images/<batch>/**` and `labeled/<batch>/*.manifest` here; S3 sends its events to EventBridge. */
  public readonly inboxBucket: s3.IBucket;
  /** Runs, datasets and models; written only by the pipeline. */
  public readonly artifactsBucket: s3.IBucket;
  /** Server access logs of the two data buckets. */
  public readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: SegpipeStorageProps = {}) {
    super(scope, id);
    const retainOnDelete = props.retainOnDelete ?? true;
    const scratchExpirationDays = props.scratchExpirationDays ?? 14;
    const accessLogExpirationDays = props.accessLogExpirationDays ?? 90;
    const noncurrentVersionExpirationDays = props.noncurrentVersionExpirationDays ?? 30;
    const problems = [
      ...checkDays('scratchExpirationDays', scratchExpirationDays),
      ...checkDays('noncurrentVersionExpirationDays', noncurrentVersionExpirationDays),
      ...checkDays('accessLogExpirationDays', accessLogExpirationDays),
    ];
    if (problems.length > 0) throw new Error(`SegpipeStorage: ${problems.join('; ')}`);

    const removal = retainOnDelete
      ? { removalPolicy: RemovalPolicy.RETAIN }
      : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true };
    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...removal,
    };
    const dataEncryption = props.encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED };
    const abortUploads = { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) };

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [abortUploads, { id: 'ExpireLogs', expiration: Duration.days(accessLogExpirationDays) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log destination of the data buckets; logging it into itself would loop.',
    });

    this.inboxBucket = new s3.Bucket(this, 'Inbox', {
      ...secure,
      ...dataEncryption,
      eventBridgeEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'inbox/',
      // Ground Truth's labeling UI reads the images from the browser: without this CORS rule its tasks
      // fail. A stack that only imports labels has no such reader, and no rule.
      cors:
        props.labelStudioOrigin !== undefined
          ? [labelStudioCors(props.labelStudioOrigin)]
          : (props.labelingCors ?? true)
            ? [
                {
                  allowedMethods: [s3.HttpMethods.GET],
                  allowedOrigins: ['*'],
                  allowedHeaders: [],
                  exposedHeaders: ['Access-Control-Allow-Origin'],
                },
              ]
            : undefined,
      lifecycleRules: [abortUploads],
    });

    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      ...secure,
      ...dataEncryption,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      // Datasets and models are kept in versions: an overwrite or a delete can be undone for a while.
      versioned: true,
      lifecycleRules: [
        abortUploads,
        {
          id: 'ExpireRunScratch',
          tagFilters: { [SCRATCH_OBJECT_TAG.key]: SCRATCH_OBJECT_TAG.value },
          expiration: Duration.days(scratchExpirationDays),
        },
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: Duration.days(noncurrentVersionExpirationDays),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
  }
}

function checkDays(name: string, value: number): string[] {
  return Number.isInteger(value) && value >= 1 ? [] : [`${name} must be a whole number of days, at least 1 (received ${value})`];
}

/** `labelStudioCorsRule` (what the setup text prints) as the bucket's CORS rule: one source for both. */
function labelStudioCors(origin: string): s3.CorsRule {
  const rule = labelStudioCorsRule(origin) as {
    AllowedMethods: string[];
    AllowedOrigins: string[];
    AllowedHeaders: string[];
    ExposeHeaders: string[];
    MaxAgeSeconds: number;
  };
  return {
    allowedMethods: rule.AllowedMethods as s3.HttpMethods[],
    allowedOrigins: rule.AllowedOrigins,
    allowedHeaders: rule.AllowedHeaders,
    exposedHeaders: rule.ExposeHeaders,
    maxAge: rule.MaxAgeSeconds,
  };
}
