import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SegpipeConfig } from '../config';
import { catchInto, runTags, sageMakerCall } from './states';

/** The label attribute of segpipe's labeling jobs: semantic segmentation requires the `-ref` suffix. */
export const LABEL_ATTRIBUTE_NAME = 'segmentation-ref';
/** Account of the public Mechanical Turk workteam in every Ground Truth region. */
const PUBLIC_WORKTEAM_ACCOUNT = '394669845002';

export interface LabelProps {
  readonly config: SegpipeConfig;
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
    const useImported = new sfn.Pass(this, 'Use imported labels', { parameters: { 'export.$': '$.run.export' }, resultPath: '$.conversion' });
    const route = new sfn.Choice(this, 'Labels imported?').when(sfn.Condition.stringEquals('$.run.mode', 'import'), useImported);
    this.startState = route;
    if (props.config.labeling.tool !== 'groundtruth') {
      route.otherwise(new sfn.Pass(this, 'No workforce', {
        parameters: {
          Error: 'NoWorkforceConfigured',
          Cause: 'This stack has no labeling workforce (workforce.type "none"): import labels under labeled/<batch>/, or set workforce in the segpipe configuration, deploy, and drop _START into the batch.',
        },
        resultPath: '$.error',
      }).next(props.onFailure));
      this.endStates = [useImported];
      return;
    }
    const label = catchInto(sageMakerCall(this, 'Label', {
      action: 'sagemaker:createLabelingJob.sync',
      parameters: labelingJobParameters(this, props),
      resultPath: '$.labeling',
      resultSelector: { 'LabelingJobName.$': '$.LabelingJobName', 'LabelCounters.$': '$.LabelCounters', 'LabelingJobOutput.$': '$.LabelingJobOutput' },
    }), props.onFailure);
    const useLabelingOutput = new sfn.Pass(this, 'Use labeling output', { parameters: { 'export.$': '$.labeling.LabelingJobOutput.OutputDatasetS3Uri' }, resultPath: '$.conversion' });
    route.otherwise(label.next(useLabelingOutput));
    this.endStates = [useImported, useLabelingOutput];
  }
}

function labelingJobParameters(scope: Construct, props: LabelProps): Record<string, unknown> {
  const { config } = props;
  const { workforce } = config;
  const lambdaArn = (name: string) => `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${props.groundTruthLambdaAccount}:function:${name}`;
  const workteamArn = workforce.type === 'public'
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
    OutputConfig: { 'S3OutputPath.$': '$.run.labeling.outputPath', ...(props.encryptionKey ? { KmsKeyId: props.encryptionKey.keyArn } : {}) },
    RoleArn: props.groundTruthRole.roleArn,
    'LabelCategoryConfigS3Uri.$': '$.run.labeling.labelCategoriesUri',
    HumanTaskConfig: {
      WorkteamArn: workteamArn,
      UiConfig: { 'UiTemplateS3Uri.$': '$.run.labeling.uiTemplateUri' },
      PreHumanTaskLambdaArn: lambdaArn('PRE-SemanticSegmentation'),
      AnnotationConsolidationConfig: { AnnotationConsolidationLambdaArn: lambdaArn('ACS-SemanticSegmentation') },
      TaskTitle: 'Paint the objects in an image',
      TaskDescription: `Paint every pixel of each ${config.labelClasses.join(', ')}`.slice(0, 255),
      TaskKeywords: ['Images', 'image segmentation'],
      NumberOfHumanWorkersPerDataObject: workforce.workersPerObject,
      TaskTimeLimitInSeconds: workforce.taskTimeLimitSeconds,
      TaskAvailabilityLifetimeInSeconds: workforce.taskAvailabilityLifetimeSeconds,
      ...(price !== undefined ? {
        PublicWorkforceTaskPrice: { AmountInUsd: { Dollars: Math.floor(price / 1000), Cents: Math.floor((price % 1000) / 10), TenthFractionsOfACent: price % 10 } },
      } : {}),
    },
    Tags: runTags(scope),
  };
}
