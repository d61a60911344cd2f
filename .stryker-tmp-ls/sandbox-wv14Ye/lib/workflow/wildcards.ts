import { Stack } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { parseReadLocation } from '../../lambda/convert/stores/source-allow-list';
import { LABELSTUDIO_CORRECTIONS_FOLDER } from '../../lambda/labelstudio/corrections';
import { labelStudioFilesKey } from '../../lambda/labelstudio/run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from '../../lambda/labelstudio/storage-layout';
import {
  BATCHES_PREFIX,
  DATASETS_PREFIX,
  datasetLayout,
  IMAGES_PREFIX,
  LABELED_PREFIX,
  MODELS_PREFIX,
  RUN_PATHS,
  RUNS_PREFIX,
} from '../../lambda/workflow/layout';
import type { HandlerFunction } from '../handler-function';
import { acknowledgeWildcards, nagArnOf } from '../nag';
import { SYNC_EVENT_RULES } from './roles';

export interface WorkflowWildcardsProps {
  readonly inboxBucket: s3.IBucket;
  readonly artifactsBucket: s3.IBucket;
  /** Lower-case prefix of every SageMaker resource the workflow creates. */
  readonly resourcePrefix: string;
  /** Locations imported manifests may refer to (`import.readBuckets`: `bucket` or `bucket/prefix`). */
  readonly readBuckets: readonly string[];
  readonly stateMachine: sfn.IStateMachine;
  readonly functions: HandlerFunction[];
}

/**
 * cdk-nag flags every `*` in an IAM resource. Each one left in the workflow's policies is scoped as far
 * as IAM allows; the reasons say why, and each is acknowledged only on the policies that hold it.
 */
export function acknowledgeWorkflowWildcards(scope: Construct, props: WorkflowWildcardsProps): void {
  const inbox = nagArnOf(props.inboxBucket);
  const dataset = datasetLayout();
  const artifacts = nagArnOf(props.artifactsBucket);
  const prefix = props.resourcePrefix;
  const sagemaker = (resource: string) => `arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:${resource}/${prefix}-*`;
  const logGroup = (name: string) => `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/${name}*`;
  const stateMachine = Stack.of(scope).resolve(props.stateMachine.stateMachineArn);
  const mapRun = `{"Fn::Select":[6,{"Fn::Split":[":",${JSON.stringify(stateMachine)}]}]}`;
  acknowledgeWildcards(scope, {
    [`Resource::${inbox}/${IMAGES_PREFIX}*`]:
      'Images are read by their keys under images/, which users choose; nothing outside that prefix.',
    [`Resource::${inbox}/${LABELED_PREFIX}*`]:
      'Imported manifests are read by their keys under labeled/, which users choose; nothing outside that prefix.',
    [`Resource::${artifacts}/${RUNS_PREFIX}*`]:
      'Each run writes and reads its own keys under runs/<run-id>/; run ids are made per execution, so the prefix is the narrowest fixed scope.',
    [`Resource::${artifacts}/${DATASETS_PREFIX}*`]:
      'The dataset accumulates converted items under datasets/, one key per item; the prefix is the narrowest fixed scope.',
    [`Resource::${artifacts}/${BATCHES_PREFIX}*`]:
      "Each batch keeps its progress under batches/<hash of its name>/; batch names are the users'.",
    [`Resource::${artifacts}/${RUN_PATHS.labeling}*`]:
      "Ground Truth reads a run's labeling inputs and writes its output under runs/<run-id>/labeling/, and nothing else of runs/; run ids are made per execution.",
    [`Resource::${artifacts}/${RUN_PATHS.labelingOutput}*`]:
      "Ground Truth writes a run's labeling output under runs/<run-id>/labeling/output/; the conversion reads only there, and each read is checked against the run's own prefix first (lambda/convert/stores/source-allow-list.ts).",
    [`Resource::${artifacts}/${RUN_PATHS.labelStudio}*`]:
      'A Label Studio run cuts its images into chunk manifests under runs/<run-id>/labelstudio/, which its task writing reads; run ids are made per execution.',
    [`Resource::${artifacts}/${BATCHES_PREFIX}*/${LABELSTUDIO_CORRECTIONS_FOLDER}*`]:
      "A batch's Label Studio corrections turns and the markers of the annotation files kept for them, under batches/<hash of its name>/labelstudio-corrections/.",
    [`Resource::${artifacts}/${BATCHES_PREFIX}*/labelstudio/*`]:
      "A Label Studio round's closed mark, under batches/<hash of its batch>/labelstudio/<round>/, written when its run goes on to convert.",
    [`Resource::${artifacts}/${labelStudioFilesKey('*')}`]:
      "A Label Studio run's list of the files it converts (its round's, or its corrections'), written by the run under runs/<run-id>/labelstudio/; run ids are made per execution.",
    [`Resource::${inbox}/${LABELSTUDIO_TASKS_PREFIX}*`]:
      "Label Studio task files are written under labelstudio/tasks/<batch>/<generation>/, named by the users' batch and image names; nothing else of the inbox is written.",
    [`Resource::${inbox}/${LABELSTUDIO_ANNOTATIONS_PREFIX}*`]:
      "The conversion reads the files Label Studio's target storage writes under labelstudio/annotations/, named by Label Studio's ids; each read is checked against the run's allow-list first.",
    [`Resource::${artifacts}/${RUN_PATHS.conversion}*`]:
      "Each chunk of a run's conversion writes its report under runs/<run-id>/conversion/, which the channel assembly reads.",
    [`Resource::${artifacts}/${RUN_PATHS.staging}*`]:
      "A run's conversion chunks write what they convert under runs/<run-id>/staging/; the channel assembly checks it there, commits it to the dataset and removes it.",
    [`Resource::${artifacts}/${RUN_PATHS.channels}*`]:
      "The channel assembly writes a run's channels under runs/<run-id>/channels/; run ids are made per execution.",
    [`Resource::${artifacts}/${RUN_PATHS.evaluation}*`]:
      "The evaluation writes a run's metrics and report under runs/<run-id>/evaluation/, and nothing else; run ids are made per execution.",
    [`Resource::${artifacts}/${dataset.channelPrefix('validation')}*`]:
      "The evaluation reads the dataset's validation images, one key per item, and no other part of the dataset's items.",
    [`Resource::${artifacts}/${dataset.channelPrefix('validation_annotation')}*`]:
      "The evaluation reads the dataset's validation masks, one key per item, and no other part of the dataset's items.",
    [`Resource::${artifacts}/${dataset.index}*`]: "The evaluation reads the dataset's index (one shard per run) for each item's batch.",
    ...Object.fromEntries(
      props.readBuckets.map((location) => {
        const { bucket, prefix } = parseReadLocation(location);
        return [
          `Resource::arn:<AWS::Partition>:s3:::${bucket}/${prefix}*`,
          `import.readBuckets lists ${location}: imported manifests may refer to its objects (read-only, in a bucket of the expected account, each read checked against the run's allow-list first).`,
        ];
      }),
    ),
    [`Resource::${artifacts}/${MODELS_PREFIX}*`]:
      'Training writes, and endpoints read, model artifacts under models/<run-id>/; run ids are made per execution.',
    'Resource::*':
      'Only actions IAM cannot scope to a resource: ecr:GetAuthorizationToken, sagemaker:ListEndpoints, sagemaker:ListTags, servicequotas:ListServiceQuotas, cloudwatch:ListMetrics and cloudwatch:GetMetricData (the evaluation reads training curves), and cloudwatch:PutMetricData limited by a namespace condition.',
    [`Resource::${sagemaker('training-job')}`]: "Training jobs are named per run under the stack's lower-case resource prefix.",
    [`Resource::${sagemaker('labeling-job')}`]: "Labeling jobs are named per run under the stack's lower-case resource prefix.",
    [`Resource::${sagemaker('model')}`]: "Models are named per run under the stack's lower-case resource prefix.",
    [`Resource::${sagemaker('endpoint-config')}`]: "Endpoint configs are named per run under the stack's lower-case resource prefix.",
    [`Resource::${logGroup('LabelingJobs')}`]: 'SageMaker writes labeling-job logs to log groups under /aws/sagemaker/LabelingJobs.',
    [`Resource::${logGroup('TrainingJobs')}`]: 'SageMaker writes training-job logs to log groups under /aws/sagemaker/TrainingJobs.',
    [`Resource::${logGroup('Endpoints')}`]: 'SageMaker writes endpoint logs to log groups under /aws/sagemaker/Endpoints/<endpoint>.',
    [`Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${SYNC_EVENT_RULES.labeling}`]:
      'The managed rule Step Functions creates to wait for labeling jobs (.sync): its exact name is documented nowhere we found, so it is matched among the SageMaker rules by LabelingJob.',
    [`Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${mapRun}/*:*`]:
      "The Distributed Map's child executions, which Step Functions names itself.",
    [`Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${mapRun}:*`]:
      "The Distributed Map's map runs, which Step Functions names itself.",
    ...Object.fromEntries(
      props.functions.map((fn) => [
        `Resource::${nagArnOf(fn.function)}:*`,
        `CDK's LambdaInvoke grants ${fn.node.id} and its versions; nothing else.`,
      ]),
    ),
  });
}
