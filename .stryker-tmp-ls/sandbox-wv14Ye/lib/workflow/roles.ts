import { Arn, ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DATASETS_PREFIX, IMAGES_PREFIX, MODELS_PREFIX, RUN_PATHS } from '../../lambda/workflow/layout';
import { RUN_TAG_KEY, STACK_TAG_KEY } from '../../lambda/workflow/names';
import { grantDataKey } from '../data-key';

export interface SageMakerRolesProps {
  readonly inboxBucket: s3.IBucket;
  readonly artifactsBucket: s3.IBucket;
  /** Account of the built-in semantic-segmentation image the training and model roles pull. */
  readonly algorithmImageAccount: string;
  /**
   * Customer key of the buckets, granted to every role.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The roles SageMaker assumes for the workflow's jobs and endpoint, each reading and writing only
 * its prefixes, each assumable by SageMaker only on behalf of the stack's account (`aws:SourceAccount`,
 * against the confused deputy). Made in the workflow's scope: their construct IDs are the stack's
 * logical IDs.
 */
export class SageMakerRoles {
  /** Ground Truth labeling jobs: read `images/` in the inbox, read and write `runs/<run-id>/labeling/`. */
  public readonly groundTruth: iam.IRole;
  /** Training jobs: read the run's channels and the dataset they list, read and write `models/`. */
  public readonly training: iam.IRole;
  /** Endpoints serving a trained model: read `models/`. */
  public readonly model: iam.IRole;

  constructor(scope: Construct, props: SageMakerRolesProps) {
    const { inboxBucket, artifactsBucket, encryptionKey } = props;
    const stack = Stack.of(scope);
    const objects = (bucket: s3.IBucket, prefix: string) => bucket.arnForObjects(`${prefix}*`);
    const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    const listing = (prefixes: string[]) => ({ StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } });
    const sagemakerPrincipal = new iam.ServicePrincipal('sagemaker.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    });

    this.groundTruth = new iam.Role(scope, 'GroundTruthRole', {
      assumedBy: sagemakerPrincipal,
      description: 'segpipe: Ground Truth labeling jobs',
    });
    allow(this.groundTruth, ['s3:GetObject'], [objects(inboxBucket, IMAGES_PREFIX), objects(artifactsBucket, RUN_PATHS.labeling)]);
    allow(this.groundTruth, ['s3:PutObject'], [objects(artifactsBucket, RUN_PATHS.labeling)]);
    allow(this.groundTruth, ['s3:ListBucket'], [artifactsBucket.bucketArn], listing([RUN_PATHS.labeling]));
    this.training = new iam.Role(scope, 'TrainingRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: training jobs' });
    // The channels (or the channel manifests) under runs/<run-id>/channels/ and the dataset items they
    // list; models/ for a spot job's checkpoints, which it reads back after an interruption.
    allow(
      this.training,
      ['s3:GetObject'],
      [objects(artifactsBucket, RUN_PATHS.channels), objects(artifactsBucket, DATASETS_PREFIX), objects(artifactsBucket, MODELS_PREFIX)],
    );
    allow(this.training, ['s3:PutObject'], [objects(artifactsBucket, MODELS_PREFIX)]);
    allow(this.training, ['s3:ListBucket'], [artifactsBucket.bucketArn], listing([RUN_PATHS.channels, DATASETS_PREFIX, MODELS_PREFIX]));
    this.model = new iam.Role(scope, 'ModelRole', {
      assumedBy: sagemakerPrincipal,
      description: 'segpipe: endpoints serving a trained model',
    });
    allow(this.model, ['s3:GetObject'], [objects(artifactsBucket, MODELS_PREFIX)]);

    const imageRepository = Arn.format(
      { service: 'ecr', account: props.algorithmImageAccount, resource: 'repository', resourceName: 'semantic-segmentation' },
      stack,
    );
    for (const [role, logPrefix] of [
      [this.groundTruth, 'LabelingJobs'],
      [this.training, 'TrainingJobs'],
      [this.model, 'Endpoints'],
    ] as const) {
      allow(
        role,
        ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        [
          Arn.format(
            {
              service: 'logs',
              resource: 'log-group',
              resourceName: `/aws/sagemaker/${logPrefix}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      );
      allow(role, ['cloudwatch:PutMetricData'], ['*'], { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } });
    }
    if (encryptionKey) {
      grantDataKey(encryptionKey, this.groundTruth, 'encrypt-decrypt');
      grantDataKey(encryptionKey, this.training, 'encrypt-decrypt');
      // Endpoints only read the model.
      grantDataKey(encryptionKey, this.model, 'decrypt');
    }
    for (const role of [this.training, this.model]) {
      allow(role, ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], [imageRepository]);
      allow(role, ['ecr:GetAuthorizationToken'], ['*']);
    }
  }
}

export interface SageMakerCallsGrantProps {
  /** Lower-case prefix of every SageMaker resource the workflow creates. */
  readonly resourcePrefix: string;
  /** The stack's one endpoint. */
  readonly endpointName: string;
  readonly roles: SageMakerRoles;
  /** Whether the workflow runs labeling jobs (a workforce is configured). */
  readonly labeling: boolean;
  /**
   * Key handed to SageMaker jobs, endpoint configs and the SNS topic.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Step Functions' managed EventBridge rules through which a `.sync` state waits for its job. The
 * training one is named in the Step Functions Developer Guide (IAM policies for SageMaker); the
 * labeling one is not documented anywhere we found, so it is matched as the labeling rule of the
 * same family, whatever its exact spelling.
 */
export const SYNC_EVENT_RULES = {
  training: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule',
  labeling: 'StepFunctionsGetEventsForSageMaker*LabelingJob*',
} as const;

/**
 * What the state machine's SageMaker states need, scoped to the stack's resource-name prefix, which
 * no other stack shares (`resourcePrefix`): every create carries the stack's tag (`aws:RequestTag`),
 * and every update, stop and delete needs it on the resource (`aws:ResourceTag`), as the clean-up's
 * deletes do.
 */
export function grantSageMakerCalls(role: iam.IRole, props: SageMakerCallsGrantProps): void {
  const stack = Stack.of(role);
  const prefix = props.resourcePrefix;
  const arn = (resource: string, name: string) => Arn.format({ service: 'sagemaker', resource, resourceName: name }, stack);
  const tagged = (kind: 'RequestTag' | 'ResourceTag') => ({ StringEquals: { [`aws:${kind}/${STACK_TAG_KEY}`]: stack.stackName } });
  // Creates and AddTags set only the stack's tag keys (`runTags`): AddTags with the stack's tag could
  // otherwise also add or overwrite any other tag of a resource (aws:TagKeys).
  const creating = { ...tagged('RequestTag'), 'ForAllValues:StringEquals': { 'aws:TagKeys': [STACK_TAG_KEY, RUN_TAG_KEY] } };
  const owned = tagged('ResourceTag');
  const trainingJobs = arn('training-job', `${prefix}-*`);
  const labelingJobs = arn('labeling-job', `${prefix}-*`);
  const models = arn('model', `${prefix}-*`);
  const endpointConfigs = arn('endpoint-config', `${prefix}-*`);
  const endpoint = arn('endpoint', props.endpointName);
  const rule = (name: string) => Arn.format({ service: 'events', resource: 'rule', resourceName: name }, stack);
  // Three statements over the stack's names, by what the action does to them (an action applies only
  // to the resource types it takes): a smaller policy than one statement per action, which would
  // overflow the role's inline policy.
  const stackResources = [trainingJobs, models, endpointConfigs, endpoint, ...(props.labeling ? [labelingJobs] : [])];
  const labelingActions = (...actions: string[]) => (props.labeling ? actions : []);
  const statements: [string[], string[], Record<string, unknown>?][] = [
    // Creating with tags needs AddTags too: both only with the stack's tag.
    [
      [
        'sagemaker:CreateTrainingJob',
        'sagemaker:CreateModel',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateEndpoint',
        'sagemaker:AddTags',
        ...labelingActions('sagemaker:CreateLabelingJob'),
      ],
      stackResources,
      creating,
    ],
    // Promotion moves the weights; a first model that falls short is deleted with its endpoint.
    [
      [
        'sagemaker:StopTrainingJob',
        'sagemaker:DeleteModel',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:UpdateEndpoint',
        'sagemaker:UpdateEndpointWeightsAndCapacities',
        'sagemaker:DeleteEndpoint',
        ...labelingActions('sagemaker:StopLabelingJob'),
      ],
      stackResources,
      owned,
    ],
    [
      [
        'sagemaker:DescribeTrainingJob',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeModel',
        ...labelingActions('sagemaker:DescribeLabelingJob'),
      ],
      stackResources,
    ],
    // ListEndpoints takes no resource. ListTags could take one, but the Step Functions Developer Guide
    // grants the .sync integration ListTags on "*" and documents no narrower resource it calls it on.
    [['sagemaker:ListEndpoints', 'sagemaker:ListTags'], ['*']],
    [
      ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      [rule(SYNC_EVENT_RULES.training), ...(props.labeling ? [rule(SYNC_EVENT_RULES.labeling)] : [])],
    ],
  ];
  for (const [actions, resources, conditions] of statements)
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  if (props.encryptionKey) {
    // The state machine touches no object: it publishes to the topic the key encrypts, and hands the
    // key to SageMaker, which makes its own grants for the jobs' volumes and the endpoint.
    grantDataKey(props.encryptionKey, role, 'encrypt-decrypt', ['sns']);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant', 'kms:DescribeKey'],
        resources: [props.encryptionKey.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
  }
  const { roles } = props;
  const passed = [roles.training, roles.model, ...(props.labeling ? [roles.groundTruth] : [])];
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: passed.map((r) => r.roleArn),
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    }),
  );
}
