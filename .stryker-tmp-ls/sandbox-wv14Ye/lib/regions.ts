/**
 * Per-region accounts that segpipe needs, with their sources.
 *
 * - `algorithmImageAccount`: owner of `<account>.dkr.ecr.<region>.<url suffix>/semantic-segmentation:1`,
 *   the built-in Semantic Segmentation image (sagemaker-python-sdk `image_uri_config/semantic-segmentation.json`).
 * - `groundTruthLambdaAccount`: owner of `PRE-SemanticSegmentation` / `ACS-SemanticSegmentation`
 *   (SageMaker API docs for `HumanTaskConfig.PreHumanTaskLambdaArn`). Only the regions listed there run
 *   Ground Truth's built-in semantic-segmentation task.
 *
 * The stack puts this table in a `CfnMapping` so that one template serves every region.
 */
export interface RegionAccounts {
  readonly algorithmImageAccount: string;
  readonly groundTruthLambdaAccount?: string;
}

export const REGION_TABLE: Readonly<Record<string, RegionAccounts>> = {
  'af-south-1': { algorithmImageAccount: '455444449433' },
  'ap-east-1': { algorithmImageAccount: '286214385809' },
  'ap-northeast-1': { algorithmImageAccount: '501404015308', groundTruthLambdaAccount: '477331159723' },
  'ap-northeast-2': { algorithmImageAccount: '306986355934', groundTruthLambdaAccount: '845288260483' },
  'ap-northeast-3': { algorithmImageAccount: '867004704886' },
  'ap-south-1': { algorithmImageAccount: '991648021394', groundTruthLambdaAccount: '565803892007' },
  'ap-south-2': { algorithmImageAccount: '628508329040' },
  'ap-southeast-1': { algorithmImageAccount: '475088953585', groundTruthLambdaAccount: '377565633583' },
  'ap-southeast-2': { algorithmImageAccount: '544295431143', groundTruthLambdaAccount: '454466003867' },
  'ap-southeast-3': { algorithmImageAccount: '951798379941' },
  'ap-southeast-4': { algorithmImageAccount: '106583098589' },
  'ca-central-1': { algorithmImageAccount: '469771592824', groundTruthLambdaAccount: '918755190332' },
  'ca-west-1': { algorithmImageAccount: '190319476487' },
  'cn-north-1': { algorithmImageAccount: '390948362332' },
  'cn-northwest-1': { algorithmImageAccount: '387376663083' },
  'eu-central-1': { algorithmImageAccount: '813361260812', groundTruthLambdaAccount: '203001061592' },
  'eu-central-2': { algorithmImageAccount: '680994064768' },
  'eu-north-1': { algorithmImageAccount: '669576153137' },
  'eu-south-1': { algorithmImageAccount: '257386234256' },
  'eu-south-2': { algorithmImageAccount: '104374241257' },
  'eu-west-1': { algorithmImageAccount: '685385470294', groundTruthLambdaAccount: '568282634449' },
  'eu-west-2': { algorithmImageAccount: '644912444149', groundTruthLambdaAccount: '487402164563' },
  'eu-west-3': { algorithmImageAccount: '749696950732' },
  'il-central-1': { algorithmImageAccount: '898809789911' },
  'me-central-1': { algorithmImageAccount: '272398656194' },
  'me-south-1': { algorithmImageAccount: '249704162688' },
  'sa-east-1': { algorithmImageAccount: '855470959533' },
  'us-east-1': { algorithmImageAccount: '811284229777', groundTruthLambdaAccount: '432418664414' },
  'us-east-2': { algorithmImageAccount: '825641698319', groundTruthLambdaAccount: '266458841044' },
  'us-gov-east-1': { algorithmImageAccount: '237065988967' },
  'us-gov-west-1': { algorithmImageAccount: '226302683700' },
  'us-iso-east-1': { algorithmImageAccount: '490574956308' },
  'us-isob-east-1': { algorithmImageAccount: '765400339828' },
  'us-isof-east-1': { algorithmImageAccount: '108575199400' },
  'us-isof-south-1': { algorithmImageAccount: '124985052026' },
  'us-west-1': { algorithmImageAccount: '632365934929' },
  'us-west-2': { algorithmImageAccount: '433757028032', groundTruthLambdaAccount: '081040173940' },
};

/** Regions where the built-in algorithm image exists: where the stack can be deployed. */
export const ALGORITHM_REGIONS: readonly string[] = Object.keys(REGION_TABLE).sort();

/** Regions where Ground Truth's semantic-segmentation Lambdas exist: where labeling can be configured. */
export const GROUND_TRUTH_REGIONS: readonly string[] = ALGORITHM_REGIONS.filter(
  (region) => REGION_TABLE[region].groundTruthLambdaAccount !== undefined,
);
