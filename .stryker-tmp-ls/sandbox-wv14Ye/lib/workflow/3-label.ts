import { Aws, Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { LABELSTUDIO_ANNOTATIONS_PREFIX } from '../../lambda/labelstudio/storage-layout';
import type { SegpipeConfig } from '../config';
import { catchInto, invokeHandler, runTags, sageMakerCall } from './states';

/** The label attribute of segpipe's labeling jobs: semantic segmentation requires the `-ref` suffix. */
export const LABEL_ATTRIBUTE_NAME = 'segmentation-ref';
/** Account of the public Mechanical Turk workteam in every Ground Truth region. */
const PUBLIC_WORKTEAM_ACCOUNT = '394669845002';

export interface LabelProps {
  /** Who labels (`labeling.tool`), and Label Studio's settings. */
  readonly labeling: SegpipeConfig['labeling'];
  /** Ground Truth's workforce. */
  readonly workforce: SegpipeConfig['workforce'];
  /** The classes a Ground Truth job's workers paint. */
  readonly labelClasses: readonly string[];
  /** The role Ground Truth's labeling jobs run as. */
  readonly groundTruthRole: iam.IRole;
  /**
   * Account of Ground Truth's `PRE-`/`ACS-SemanticSegmentation` Lambdas.
   * @default - none; required when a workforce is configured
   */
  readonly groundTruthLambdaAccount?: string;
  /**
   * Key the labeling output is encrypted with.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  readonly inboxBucket: s3.IBucket;
  /** Label Studio labels: writes a chunk of a run's tasks. @default - none; required with `labeling.tool` "labelstudio" */
  readonly writeLabelStudioTasks?: lambda.IFunction;
  /** Label Studio labels: counts a run's annotated tasks. @default - none; required with `labeling.tool` "labelstudio" */
  readonly countAnnotations?: lambda.IFunction;
  /** Told how many Label Studio tasks are ready, and where. @default - none; required with `labeling.tool` "labelstudio" */
  readonly topic?: sns.ITopic;
  /** Where a failure goes, including an images batch on a stack without a workforce. */
  readonly onFailure: sfn.IChainable;
}

/**
 * The labels to convert: an imported export (any format segpipe reads) as it is, or a labeling job
 * (`createLabelingJob.sync`) over the run's images. Either way the stage ends with the export's URI
 * under `$.conversion.export`.
 */
export class Label extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: LabelProps) {
    super(scope, id);
    const useImported = new sfn.Pass(this, 'Use imported labels', {
      // A Label Studio corrections run is an import of the target storage's files it listed.
      parameters: { 'export.$': '$.run.export', labelStudioRound: '', 'labelStudioFiles.$': '$.run.labelStudioFiles' },
      resultPath: '$.conversion',
    });
    const route = new sfn.Choice(this, 'Labels imported?').when(sfn.Condition.stringEquals('$.run.mode', 'import'), useImported);
    this.startState = route;
    if (props.labeling.tool === 'labelstudio') {
      route.otherwise(this.labelStudio(props));
      this.endStates = [useImported, this.labelStudioDone as sfn.Pass];
      return;
    }
    if (props.labeling.tool !== 'groundtruth') {
      route.otherwise(
        new sfn.Pass(this, 'No workforce', {
          parameters: {
            Error: 'NoWorkforceConfigured',
            Cause:
              'This stack labels nothing (labeling.tool "none"): import labels under labeled/<batch>/, or set labeling.tool to "labelstudio" (or a Ground Truth workforce) in the segpipe configuration, deploy, and drop _START into the batch.',
          },
          resultPath: '$.error',
        }).next(props.onFailure),
      );
      this.endStates = [useImported];
      return;
    }
    const label = catchInto(
      sageMakerCall(this, 'Label', {
        action: 'sagemaker:createLabelingJob.sync',
        parameters: labelingJobParameters(this, props),
        resultPath: '$.labeling',
        resultSelector: {
          'LabelingJobName.$': '$.LabelingJobName',
          'LabelCounters.$': '$.LabelCounters',
          'LabelingJobOutput.$': '$.LabelingJobOutput',
        },
      }),
      props.onFailure,
    );
    const useLabelingOutput = new sfn.Pass(this, 'Use labeling output', {
      parameters: { 'export.$': '$.labeling.LabelingJobOutput.OutputDatasetS3Uri', labelStudioRound: '', labelStudioFiles: '' },
      resultPath: '$.conversion',
    });
    route.otherwise(label.next(useLabelingOutput));
    this.endStates = [useImported, useLabelingOutput];
  }

  private labelStudioDone?: sfn.Pass;

  /**
   * Label Studio: the run's tasks are written by a Distributed Map over chunks of its images, then the
   * run counts its annotated tasks (markers the start Lambda writes per annotation file) every
   * `pollMinutes` until all are, or the deadline passes: with enough labeled it goes on, else it fails
   * and its images go back to the batch. The annotations prefix then converts as a Label Studio export.
   */
  private labelStudio(props: LabelProps): sfn.IChainable {
    const { writeLabelStudioTasks, countAnnotations } = props;
    if (!writeLabelStudioTasks || !countAnnotations || !props.topic)
      throw new Error('Label: writeLabelStudioTasks, countAnnotations and topic are required when Label Studio labels');
    const { pollMinutes } = props.labeling.labelStudio;
    const writeTasks = new sfn.DistributedMap(this, 'Write Label Studio tasks', {
      itemsPath: '$.run.labelStudio.chunks',
      itemSelector: {
        'runId.$': '$.run.runId',
        'batch.$': '$.run.batch',
        'round.$': '$.run.labelStudio.round',
        'chunk.$': '$$.Map.Item.Value',
        progress: { next: 0 },
      },
      maxConcurrency: 10,
      // Up to 500 chunk summaries would crowd the execution state: the count travels on, and the chunks'
      // notes on their pre-labels, made unique by the next state (its intrinsic reads a plain path).
      resultSelector: { 'chunks.$': 'States.ArrayLength($)', 'prelabels.$': '$[*].prelabels' },
      resultPath: '$.labelStudioTasks',
    });
    // A chunk's invocation stops before its Lambda's time is up and says where the next one goes on:
    // every image gets its pre-labels, however long the endpoint takes, and each invocation is bounded.
    const writeChunk = invokeHandler(
      this,
      'Write task chunk',
      writeLabelStudioTasks,
      {
        'runId.$': '$.runId',
        'batch.$': '$.batch',
        'round.$': '$.round',
        'chunk.$': '$.chunk',
        'progress.$': '$.progress',
      },
      '$.progress',
    );
    writeTasks.itemProcessor(
      writeChunk.next(
        new sfn.Choice(this, 'Chunk written?')
          .when(sfn.Condition.isPresent('$.progress.next'), writeChunk)
          // Only the chunk's summary leaves the item: up to 500 of them make the map's result.
          .otherwise(new sfn.Succeed(this, 'Chunk written', { outputPath: '$.progress' })),
      ),
    );
    catchInto(writeTasks, props.onFailure);
    const count = catchInto(
      invokeHandler(
        this,
        'Count annotations',
        countAnnotations,
        {
          'runId.$': '$.run.runId',
          'batch.$': '$.run.batch',
          'round.$': '$.run.labelStudio.round',
          'tasks.$': '$.run.labelStudio.tasks',
          'since.$': '$$.Execution.StartTime',
        },
        '$.annotations',
      ),
      props.onFailure,
    );
    this.labelStudioDone = new sfn.Pass(this, 'Use Label Studio annotations', {
      // Every annotation of the project is under one prefix: the conversion reads only the files of
      // this run's round of its batch, as the count listed them, and of those only the round's tasks.
      parameters: {
        export: `s3://${props.inboxBucket.bucketName}/${LABELSTUDIO_ANNOTATIONS_PREFIX}`,
        'labelStudioRound.$': '$.run.labelStudio.round',
        'labelStudioFiles.$': '$.annotations.labelStudioFiles',
      },
      resultPath: '$.conversion',
    });
    const short = new sfn.Pass(this, 'Too few annotations', {
      parameters: { Error: 'LabelingDeadline', 'Cause.$': '$.annotations.reason' },
      resultPath: '$.error',
    }).next(props.onFailure);
    // A notification failing must not stop labeling: it is not caught into the failure report.
    const notify = new tasks.SnsPublish(this, 'Notify tasks ready', {
      topic: props.topic,
      subject: 'segpipe: Label Studio tasks ready',
      message: sfn.TaskInput.fromText(
        sfn.JsonPath.format(
          "{} Label Studio tasks of batch {} are ready under {}: sync the source storage on that prefix to label them. The run goes on when every one is annotated (or at the deadline, with labeling.labelStudio.minLabeledFraction of them). Pre-labels from the serving model: {} (the task writer's log has each image's reason).",
          sfn.JsonPath.stringAt('$.run.labelStudio.tasks'),
          sfn.JsonPath.stringAt('$.run.batch'),
          sfn.JsonPath.stringAt('$.run.labelStudio.tasksPrefix'),
          sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.labelStudioTasks.prelabels')),
        ),
      ),
      resultPath: sfn.JsonPath.DISCARD,
    });
    notify.addCatch(count, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    // A few texts remain ("pre-labeled", or why some tasks have none), whatever the number of chunks.
    const notesOnce = new sfn.Pass(this, 'Note pre-labels once', {
      parameters: { 'chunks.$': '$.labelStudioTasks.chunks', 'prelabels.$': 'States.ArrayUnique($.labelStudioTasks.prelabels)' },
      resultPath: '$.labelStudioTasks',
    });
    writeTasks
      .next(notesOnce)
      .next(notify)
      .next(count)
      .next(
        new sfn.Choice(this, 'Annotated?')
          .when(
            sfn.Condition.or(
              sfn.Condition.stringEquals('$.annotations.state', 'complete'),
              sfn.Condition.stringEquals('$.annotations.state', 'enough'),
            ),
            this.labelStudioDone,
          )
          .when(sfn.Condition.stringEquals('$.annotations.state', 'short'), short)
          .otherwise(
            new sfn.Wait(this, 'Wait for annotations', { time: sfn.WaitTime.duration(Duration.minutes(pollMinutes)) }).next(count),
          ),
      );
    return writeTasks;
  }
}

function labelingJobParameters(scope: Construct, props: LabelProps): Record<string, unknown> {
  const { workforce } = props;
  const lambdaArn = (name: string) => `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${props.groundTruthLambdaAccount}:function:${name}`;
  const workteamArn =
    workforce.type === 'public'
      ? `arn:${Aws.PARTITION}:sagemaker:${Aws.REGION}:${PUBLIC_WORKTEAM_ACCOUNT}:workteam/public-crowd/default`
      : workforce.workteamArn;
  const classifiers = [
    ...(workforce.attestNoPersonalData ? ['FreeOfPersonallyIdentifiableInformation'] : []),
    ...(workforce.attestNoAdultContent ? ['FreeOfAdultContent'] : []),
  ];
  const price = workforce.type === 'public' ? Math.round((workforce.publicTaskPriceUsd ?? 0) * 1000) : undefined;
  return {
    'LabelingJobName.$': '$.run.names.labelingJob',
    LabelAttributeName: LABEL_ATTRIBUTE_NAME,
    InputConfig: {
      DataSource: { S3DataSource: { 'ManifestS3Uri.$': '$.run.labeling.inputManifestUri' } },
      ...(classifiers.length > 0 ? { DataAttributes: { ContentClassifiers: classifiers } } : {}),
    },
    OutputConfig: {
      'S3OutputPath.$': '$.run.labeling.outputPath',
      ...(props.encryptionKey ? { KmsKeyId: props.encryptionKey.keyArn } : {}),
    },
    RoleArn: props.groundTruthRole.roleArn,
    'LabelCategoryConfigS3Uri.$': '$.run.labeling.labelCategoriesUri',
    HumanTaskConfig: {
      WorkteamArn: workteamArn,
      UiConfig: { 'UiTemplateS3Uri.$': '$.run.labeling.uiTemplateUri' },
      PreHumanTaskLambdaArn: lambdaArn('PRE-SemanticSegmentation'),
      AnnotationConsolidationConfig: { AnnotationConsolidationLambdaArn: lambdaArn('ACS-SemanticSegmentation') },
      TaskTitle: 'Paint the objects in an image',
      TaskDescription: `Paint every pixel of each ${props.labelClasses.join(', ')}`.slice(0, 255),
      TaskKeywords: ['Images', 'image segmentation'],
      NumberOfHumanWorkersPerDataObject: workforce.workersPerObject,
      TaskTimeLimitInSeconds: workforce.taskTimeLimitSeconds,
      TaskAvailabilityLifetimeInSeconds: workforce.taskAvailabilityLifetimeSeconds,
      ...(price !== undefined
        ? {
            PublicWorkforceTaskPrice: {
              AmountInUsd: { Dollars: Math.floor(price / 1000), Cents: Math.floor((price % 1000) / 10), TenthFractionsOfACent: price % 10 },
            },
          }
        : {}),
    },
    Tags: runTags(scope),
  };
}
