import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { IMAGES_PREFIX, MODELS_PREFIX, RUNS_PREFIX } from '../../lambda/workflow/layout';

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
 * its prefixes. Made in the workflow's scope: their construct IDs are the stack's logical IDs.
 */
export class SageMakerRoles {
  /** Ground Truth labeling jobs: reads `images/`, reads and writes `runs/`. */
  public readonly groundTruth: iam.Role;
  /** Training jobs: read `runs/`, write `models/`. */
  public readonly training: iam.Role;
  /** Endpoints serving a trained model: read `models/`. */
  public readonly model: iam.Role;

  constructor(scope: Construct, props: SageMakerRolesProps) {
    const { inboxBucket, artifactsBucket, encryptionKey } = props;
    const stack = Stack.of(scope);
    const objects = (bucket: s3.IBucket, prefix: string) => bucket.arnForObjects(`${prefix}*`);
    const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    const sagemakerPrincipal = new iam.ServicePrincipal('sagemaker.amazonaws.com');

    this.groundTruth = new iam.Role(scope, 'GroundTruthRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: Ground Truth labeling jobs' });
    allow(this.groundTruth, ['s3:GetObject'], [objects(inboxBucket, IMAGES_PREFIX), objects(artifactsBucket, RUNS_PREFIX)]);
    allow(this.groundTruth, ['s3:PutObject'], [objects(artifactsBucket, RUNS_PREFIX)]);
    allow(this.groundTruth, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
    this.training = new iam.Role(scope, 'TrainingRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: training jobs' });
    allow(this.training, ['s3:GetObject'], [objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, MODELS_PREFIX)]);
    allow(this.training, ['s3:PutObject'], [objects(artifactsBucket, MODELS_PREFIX)]);
    allow(this.training, ['s3:ListBucket'], [artifactsBucket.bucketArn], { StringLike: { 's3:prefix': [`${RUNS_PREFIX}*`, `${MODELS_PREFIX}*`] } });
    this.model = new iam.Role(scope, 'ModelRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: endpoints serving a trained model' });
    allow(this.model, ['s3:GetObject'], [objects(artifactsBucket, MODELS_PREFIX)]);

    const imageRepository = Arn.format({ service: 'ecr', account: props.algorithmImageAccount, resource: 'repository', resourceName: 'semantic-segmentation' }, stack);
    for (const [role, logPrefix] of [[this.groundTruth, 'LabelingJobs'], [this.training, 'TrainingJobs'], [this.model, 'Endpoints']] as const) {
      allow(role, ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], [
        Arn.format({ service: 'logs', resource: 'log-group', resourceName: `/aws/sagemaker/${logPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
      ]);
      allow(role, ['cloudwatch:PutMetricData'], ['*'], { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } });
      encryptionKey?.grantEncryptDecrypt(role);
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

/** What the state machine's SageMaker states need, scoped to the stack's resource-name prefix. */
export function grantSageMakerCalls(role: iam.IRole, props: SageMakerCallsGrantProps): void {
  const stack = Stack.of(role);
  const prefix = props.resourcePrefix;
  const arn = (resource: string, name: string) => Arn.format({ service: 'sagemaker', resource, resourceName: name }, stack);
  const statements: [string[], string[]][] = [
    [['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'], [arn('training-job', `${prefix}-*`)]],
    [['sagemaker:CreateModel', 'sagemaker:DeleteModel'], [arn('model', `${prefix}-*`)]],
    [['sagemaker:CreateEndpointConfig', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DescribeEndpointConfig'], [arn('endpoint-config', `${prefix}-*`)]],
    [['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'], [arn('endpoint', props.endpointName), arn('endpoint-config', `${prefix}-*`)]],
    // Promotion moves the weights; a first model that falls short is deleted with its endpoint.
    [['sagemaker:UpdateEndpointWeightsAndCapacities', 'sagemaker:DeleteEndpoint'], [arn('endpoint', props.endpointName)]],
    [['sagemaker:AddTags'], [arn('training-job', `${prefix}-*`), arn('model', `${prefix}-*`), arn('endpoint-config', `${prefix}-*`), arn('endpoint', props.endpointName), arn('labeling-job', `${prefix}-*`)]],
    // List actions take no resource; .sync reads job tags with ListTags.
    [['sagemaker:ListEndpoints', 'sagemaker:ListTags'], ['*']],
    [['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], [Arn.format({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForSageMaker*' }, stack)]],
  ];
  if (props.labeling) statements.push([['sagemaker:CreateLabelingJob', 'sagemaker:DescribeLabelingJob', 'sagemaker:StopLabelingJob'], [arn('labeling-job', `${prefix}-*`)]]);
  for (const [actions, resources] of statements) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  if (props.encryptionKey) {
    props.encryptionKey.grantEncryptDecrypt(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:CreateGrant', 'kms:DescribeKey'],
      resources: [props.encryptionKey.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }));
  }
  const { roles } = props;
  const passed = [roles.training, roles.model, ...(props.labeling ? [roles.groundTruth] : [])];
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['iam:PassRole'],
    resources: passed.map((r) => r.roleArn),
    conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
  }));
}
