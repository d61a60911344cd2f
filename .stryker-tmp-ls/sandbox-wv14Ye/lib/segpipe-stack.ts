import { Aws, CfnMapping, CfnOutput, CfnRule, Fn, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from '../lambda/labelstudio/storage-layout';
import { resourcePrefix } from '../lambda/workflow/names';
import { SegpipeCleanup } from './cleanup';
import type { SegpipeConfig } from './config';
import { LabelStudioRole } from './labelstudio-role';
import { ALGORITHM_REGIONS, GROUND_TRUTH_REGIONS, REGION_TABLE } from './regions';
import { SegpipeStorage } from './storage';
import { SegpipeTrigger } from './trigger';
import { SegpipeWorkflow } from './workflow';

export interface SegpipeStackProps extends StackProps {
  /** The resolved configuration (see `resolveConfig`). */
  readonly config: SegpipeConfig;
}

/** Keys of the region table's second level, read with `Fn::FindInMap`. */
export const REGION_MAPPING_KEYS = {
  algorithmImageAccount: 'AlgorithmImageAccount',
  groundTruthLambdaAccount: 'GroundTruthLambdaAccount',
} as const;

/**
 * segpipe: one region-agnostic template. Per-region values come from the `RegionTable` mapping on
 * `AWS::Region`, and CloudFormation itself refuses a region the pipeline cannot run in.
 */
export class SegpipeStack extends Stack {
  public readonly regionTable: CfnMapping;
  public readonly storage: SegpipeStorage;
  public readonly workflow: SegpipeWorkflow;
  public readonly trigger: SegpipeTrigger;
  public readonly cleanup: SegpipeCleanup;

  constructor(scope: Construct, id: string, props: SegpipeStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.regionTable = new CfnMapping(this, 'RegionTable', { mapping: regionMapping() });

    new CfnRule(this, 'SupportedRegion', {
      assertions: [
        {
          assert: Fn.conditionContains([...ALGORITHM_REGIONS], Aws.REGION),
          assertDescription: `segpipe needs the built-in semantic-segmentation:1 image, which exists only in these regions: ${ALGORITHM_REGIONS.join(', ')}.`,
        },
      ],
    });
    if (config.labeling.tool === 'groundtruth') {
      new CfnRule(this, 'LabelingRegion', {
        assertions: [
          {
            assert: Fn.conditionContains([...GROUND_TRUTH_REGIONS], Aws.REGION),
            assertDescription: `workforce.type is "${config.workforce.type}", and Ground Truth's semantic-segmentation labeling runs only in: ${GROUND_TRUTH_REGIONS.join(', ')}. Deploy there, or set workforce.type to "none" and import labels.`,
          },
        ],
      });
    }

    const encryptionKey =
      config.storage.encryption !== 'kms'
        ? undefined
        : config.storage.kmsKeyArn
          ? kms.Key.fromKeyArn(this, 'DataKey', config.storage.kmsKeyArn)
          : new kms.Key(this, 'DataKey', {
              description: 'segpipe: encrypts the inbox and artifacts buckets',
              enableKeyRotation: true,
              removalPolicy: config.storage.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
            });

    this.storage = new SegpipeStorage(this, 'Storage', {
      encryptionKey,
      retainOnDelete: config.storage.retainOnDelete,
      scratchExpirationDays: config.storage.scratchExpirationDays,
      noncurrentVersionExpirationDays: config.storage.noncurrentVersionExpirationDays,
      labelingCors: config.labeling.tool === 'groundtruth',
      labelStudioOrigin: config.labeling.tool === 'labelstudio' ? config.labeling.labelStudio.origin : undefined,
    });

    this.workflow = new SegpipeWorkflow(this, 'Workflow', {
      config,
      inboxBucket: this.storage.inboxBucket,
      artifactsBucket: this.storage.artifactsBucket,
      encryptionKey,
      algorithmImageUri: this.algorithmImageUri(),
      algorithmImageAccount: this.algorithmImageAccount(),
      groundTruthLambdaAccount: config.labeling.tool !== 'groundtruth' ? undefined : this.groundTruthLambdaAccount(),
      resourcePrefix: resourcePrefix(this.stackName),
    });

    this.trigger = new SegpipeTrigger(this, 'Trigger', {
      inboxBucket: this.storage.inboxBucket,
      artifactsBucket: this.storage.artifactsBucket,
      stateMachine: this.workflow.stateMachine,
      encryptionKey,
      reservedConcurrency: config.batch.startConcurrency,
      alarmTopic: this.workflow.topic,
      labelStudioAnnotations: config.labeling.tool === 'labelstudio',
    });

    this.cleanup = new SegpipeCleanup(this, 'Cleanup', {
      cleanup: config.cleanup,
      hosting: config.hosting,
      resourcePrefix: resourcePrefix(this.stackName),
      endpointName: this.workflow.endpointName,
      stateMachine: this.workflow.stateMachine,
      topic: this.workflow.topic,
      encryptionKey,
    });
    // On deletion the trigger goes first: no run starts while the tear-down stops the running ones.
    this.trigger.rule.node.addDependency(this.cleanup.tearDown);

    new CfnOutput(this, 'InboxBucketName', {
      description: 'Drop images here, under images/<batch>/, or a Ground Truth output manifest under labeled/<batch>/',
      value: this.storage.inboxBucket.bucketName,
    });
    new CfnOutput(this, 'StartRunCommand', {
      description: 'Uploading a folder of images as one batch starts one run',
      value: Fn.join('', ['aws s3 sync ./my-images s3://', this.storage.inboxBucket.bucketName, '/images/my-batch/']),
    });
    new CfnOutput(this, 'ArtifactsBucketName', {
      description: 'Run reports (runs/<run-id>/report.json), datasets and models',
      value: this.storage.artifactsBucket.bucketName,
    });
    new CfnOutput(this, 'StateMachineConsoleUrl', {
      description: 'The runs, state by state',
      value: Fn.join('', [
        'https://',
        Aws.REGION,
        '.console.aws.amazon.com/states/home?region=',
        Aws.REGION,
        '#/statemachines/view/',
        this.workflow.stateMachine.stateMachineArn,
      ]),
    });
    new CfnOutput(this, 'NotificationTopicArn', {
      description: 'Run notifications (subscribe more addresses here)',
      value: this.workflow.topic.topicArn,
    });
    new CfnOutput(this, 'EndpointName', {
      description: 'The SageMaker endpoint runs deploy to (created by the first run that passes the mIOU gate)',
      value: this.workflow.endpointName,
    });
    const { role: labelStudioRole } = config.labeling.labelStudio;
    if (config.labeling.tool === 'labelstudio' && labelStudioRole) {
      new LabelStudioRole(this, 'LabelStudio', { inboxBucket: this.storage.inboxBucket, encryptionKey, ...labelStudioRole });
    }
    if (config.labeling.tool === 'labelstudio') {
      // What Label Studio's two storages are given (`segpipe labelstudio setup` prints them in full).
      new CfnOutput(this, 'LabelStudioTasksPrefix', {
        description: 'Label Studio source storage (tasks import method, file filter .*\\.json$): this bucket and prefix',
        value: Fn.join('', ['s3://', this.storage.inboxBucket.bucketName, '/', LABELSTUDIO_TASKS_PREFIX.replace(/\/$/, '')]),
      });
      new CfnOutput(this, 'LabelStudioAnnotationsPrefix', {
        description: 'Label Studio target storage: this bucket and prefix, with no trailing slash',
        value: Fn.join('', ['s3://', this.storage.inboxBucket.bucketName, '/', LABELSTUDIO_ANNOTATIONS_PREFIX.replace(/\/$/, '')]),
      });
    }
    new CfnOutput(this, 'TrainingImageUri', {
      description: 'The built-in Semantic Segmentation image runs train on and endpoints serve',
      value: this.algorithmImageUri(),
    });

    this.acknowledgeCdkProvidedHandlers();
  }

  /** CDK's own singleton handlers (bucket notifications) come with a role we cannot shape. */
  private acknowledgeCdkProvidedHandlers(): void {
    const notificationsHandler = this.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
    if (notificationsHandler) {
      Validations.of(notificationsHandler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's bucket-notifications handler (it turns on the inbox's EventBridge notifications at deploy time) comes with this role; its only managed policy lets it write its own logs.",
      });
    }
  }

  /** `<account>.dkr.ecr.<region>.<url suffix>/semantic-segmentation:1` for the deployment region. */
  public algorithmImageUri(): string {
    return Fn.join('', [this.algorithmImageAccount(), '.dkr.ecr.', Aws.REGION, '.', Aws.URL_SUFFIX, '/semantic-segmentation:1']);
  }

  /** The account of the built-in algorithm image in the deployment region. */
  public algorithmImageAccount(): string {
    return this.regionTable.findInMap(Aws.REGION, REGION_MAPPING_KEYS.algorithmImageAccount);
  }

  /** The account of Ground Truth's PRE-/ACS- Lambdas in the deployment region. */
  public groundTruthLambdaAccount(): string {
    return this.regionTable.findInMap(Aws.REGION, REGION_MAPPING_KEYS.groundTruthLambdaAccount);
  }
}

function regionMapping(): Record<string, Record<string, string>> {
  const mapping: Record<string, Record<string, string>> = {};
  for (const region of ALGORITHM_REGIONS) {
    const accounts = REGION_TABLE[region];
    mapping[region] = { [REGION_MAPPING_KEYS.algorithmImageAccount]: accounts.algorithmImageAccount };
    if (accounts.groundTruthLambdaAccount) {
      mapping[region][REGION_MAPPING_KEYS.groundTruthLambdaAccount] = accounts.groundTruthLambdaAccount;
    }
  }
  return mapping;
}
