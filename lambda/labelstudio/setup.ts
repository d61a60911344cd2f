import { IMAGES_PREFIX } from '../workflow/layout';
import { labelingConfig } from './labeling-config';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from './storage-layout';

export interface LabelStudioSetupInput {
  readonly inboxBucket: string;
  readonly region: string;
  readonly classes: readonly string[];
  /** The Label Studio address browsers load it from, e.g. `https://label-studio.example.com`. */
  readonly origin: string;
  /** The data key of the inbox when it is encrypted with KMS. @default - S3-managed encryption, no key to grant */
  readonly kmsKeyArn?: string;
  /** What the project's "Model or predictions to use" is set to. @default - the `model_version` the tasks carry (`segpipe prelabel --model-version`, by default the endpoint's name) */
  readonly modelVersion?: string;
}

/** The origin of a Label Studio address (scheme, host, port), or why it is not one. */
export function parseOrigin(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(
      `--origin ${JSON.stringify(address)} is not a URL: give the address browsers open Label Studio at, e.g. https://label-studio.example.com`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && /^(localhost|127\.0\.0\.1)$/.test(url.hostname))) {
    throw new Error(`--origin ${address}: Label Studio must be served over https (http only for localhost)`);
  }
  return url.origin;
}

/** The IAM policy Label Studio's S3 storages use: read the images and the tasks, write the annotations, nothing else. */
export function labelStudioPolicy(input: Pick<LabelStudioSetupInput, 'inboxBucket' | 'kmsKeyArn' | 'region'>): Record<string, unknown> {
  const bucket = `arn:aws:s3:::${input.inboxBucket}`;
  const annotations = LABELSTUDIO_ANNOTATIONS_PREFIX;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListTasksAndAnnotations',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucket,
        // Label Studio lists with the prefix as configured (no trailing slash) or under it.
        Condition: {
          StringLike: {
            's3:prefix': [
              LABELSTUDIO_TASKS_PREFIX.replace(/\/$/, ''),
              `${LABELSTUDIO_TASKS_PREFIX}*`,
              annotations.replace(/\/$/, ''),
              `${annotations}*`,
            ],
          },
        },
      },
      {
        Sid: 'ReadImagesAndTasks',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [`${bucket}/${IMAGES_PREFIX}*`, `${bucket}/${LABELSTUDIO_TASKS_PREFIX}*`],
      },
      { Sid: 'WriteAnnotations', Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucket}/${annotations}*` },
      ...(input.kmsKeyArn
        ? [
            {
              Sid: 'UseTheInboxKey',
              Effect: 'Allow',
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: input.kmsKeyArn,
              // Only through S3, for the inbox's objects: never the key directly.
              Condition: { StringEquals: { 'kms:ViaService': `s3.${input.region}.amazonaws.com` } },
            },
          ]
        : []),
    ],
  };
}

/** The inbox's CORS rule for presigned image URLs: GET and HEAD from the Label Studio origin only. */
export function labelStudioCorsRule(origin: string): Record<string, unknown> {
  return {
    AllowedMethods: ['GET', 'HEAD'],
    AllowedOrigins: [origin],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['x-amz-server-side-encryption', 'x-amz-request-id', 'x-amz-id-2'],
    MaxAgeSeconds: 3000,
  };
}

/** What a person pastes into Label Studio, and into AWS, to label the inbox's batches. */
export function labelStudioSetupText(input: LabelStudioSetupInput): string {
  const origin = parseOrigin(input.origin);
  const tasks = LABELSTUDIO_TASKS_PREFIX.replace(/\/$/, '');
  const annotations = LABELSTUDIO_ANNOTATIONS_PREFIX.replace(/\/$/, '');
  return `Label Studio for the inbox s3://${input.inboxBucket} (${input.region})

1. Project > Settings > Labeling Interface > Code: paste

${labelingConfig(input.classes)}
2. Project > Settings > Cloud Storage > Add Source Storage
   Storage type:            AWS S3
   Bucket name:             ${input.inboxBucket}
   Bucket prefix:           ${tasks}
   File filter regex:       .*\\.json$
   Import method:           Tasks ("Treat every bucket object as a source file" off): each file is a task
   Recursive scan:          on (tasks go under ${LABELSTUDIO_TASKS_PREFIX}<batch>/)
   Region name:             ${input.region}
   Use pre-signed URLs:     on (the images load from S3 directly; CORS below)
   Expire pre-signed URLs:  15 (minutes)
   Then "Sync Storage" whenever a batch's tasks are written, e.g. by
     npx segpipe prelabel --images s3://${input.inboxBucket}/${IMAGES_PREFIX}<batch>/ --out s3://${input.inboxBucket}/${LABELSTUDIO_TASKS_PREFIX}<batch>/ --endpoint <EndpointName> --classes ${input.classes.join(',')}

3. Project > Settings > Cloud Storage > Add Target Storage
   Storage type:            AWS S3
   Bucket name:             ${input.inboxBucket}
   Bucket prefix:           ${annotations}    (no trailing slash: Label Studio adds one)
   Region name:             ${input.region}
   Can delete objects:      off
   Every submitted or updated annotation is written there as it is saved.

4. Project > Settings > Machine Learning (or Annotation):
   "Use predictions to pre-label tasks": on
   "Model or predictions to use": ${input.modelVersion ?? "the model_version of the tasks (segpipe prelabel --model-version; by default the endpoint's name)"}
   Label Studio shows only the predictions of the selected model version.

5. Credentials: Label Studio's storages use access keys (or a session token) of an IAM user or role
   with this policy, and nothing more:

${JSON.stringify(labelStudioPolicy(input), null, 2)}

   Label Studio Enterprise can assume a role instead ("Amazon S3 with IAM role"): set
   labeling.labelStudio.role.externalId (and trustedPrincipal, for a self-hosted Enterprise) in cdk.json,
   deploy, and give the storages the stack's output LabelStudioRoleArn with that external ID.

6. CORS on the inbox, for the pre-signed image URLs (only this origin may read them from a browser):

${JSON.stringify(labelStudioCorsRule(origin), null, 2)}

   put-bucket-cors replaces a bucket's whole CORS configuration: keep any rule already there.
`;
}
