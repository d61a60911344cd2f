import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SegpipeConfig } from '../config';
import { catchInto, hasInstanceStorage, runTags, sageMakerCall } from './states';

export interface DeployProps {
  readonly config: SegpipeConfig;
  /** The role the model's containers run as. */
  readonly modelRole: iam.IRole;
  /** The built-in semantic-segmentation image of the deployment region. */
  readonly algorithmImageUri: string;
  /** The stack's one endpoint, created by the first run and updated in place by the next. */
  readonly endpointName: string;
  /**
   * Key of the endpoint's storage volume, where SageMaker takes one.
   * @default - SageMaker's own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** Wait between two looks at a deploying endpoint. */
  readonly pollInterval: Duration;
  /** Looks at a deploying endpoint before the run gives up on it. */
  readonly pollAttempts: number;
  /** Where the run goes once the endpoint serves this run's model. */
  readonly deployed: sfn.IChainable;
  /** Where a failure goes; failures after the model was made first delete this run's model and config. */
  readonly onFailure: sfn.IChainable;
}

/**
 * Model → endpoint config → the stack's endpoint, created or updated in place so it keeps serving;
 * `DescribeEndpoint` polled (bounded) until it serves this run's config, fails, or rolls back.
 */
export class Deploy extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: DeployProps) {
    super(scope, id);
    const { endpointName, encryptionKey, pollInterval, pollAttempts, onFailure } = props;
    const { instanceType } = props.config.hosting;
    const tags = runTags(this);

    // Failure after the model was made: delete the run's config and model, each best-effort, then report.
    const cleanUp = sageMakerCall(this, 'Delete endpoint config', { action: 'aws-sdk:sagemaker:deleteEndpointConfig', parameters: { 'EndpointConfigName.$': '$.run.names.endpointConfig' }, resultPath: sfn.JsonPath.DISCARD });
    const deleteModel = sageMakerCall(this, 'Delete model', { action: 'aws-sdk:sagemaker:deleteModel', parameters: { 'ModelName.$': '$.run.names.model' }, resultPath: sfn.JsonPath.DISCARD });
    cleanUp.addCatch(deleteModel, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(deleteModel);
    deleteModel.addCatch(onFailure, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(onFailure);

    const createModel = catchInto(sageMakerCall(this, 'Create model', {
      action: 'sagemaker:createModel',
      parameters: {
        'ModelName.$': '$.run.names.model',
        ExecutionRoleArn: props.modelRole.roleArn,
        PrimaryContainer: { Image: props.algorithmImageUri, 'ModelDataUrl.$': '$.training.ModelArtifacts.S3ModelArtifacts' },
        Tags: tags,
      },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);
    const createEndpointConfig = catchInto(sageMakerCall(this, 'Create endpoint config', {
      action: 'sagemaker:createEndpointConfig',
      parameters: {
        'EndpointConfigName.$': '$.run.names.endpointConfig',
        ProductionVariants: [{
          VariantName: 'AllTraffic', 'ModelName.$': '$.run.names.model', InstanceType: instanceType, InitialInstanceCount: 1, InitialVariantWeight: 1,
        }],
        ...(encryptionKey && !hasInstanceStorage(instanceType) ? { KmsKeyId: encryptionKey.keyArn } : {}),
        Tags: tags,
      },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);
    const findEndpoint = catchInto(sageMakerCall(this, 'Find endpoint', {
      action: 'aws-sdk:sagemaker:listEndpoints',
      parameters: { NameContains: endpointName, MaxResults: 100 },
      resultPath: '$.existing',
      resultSelector: { 'endpoints.$': '$.Endpoints' },
    }), cleanUp);
    // NameContains matches substrings: look for the exact name (ArrayContains needs a non-empty list).
    const checkNames = new sfn.Pass(this, 'Check endpoint names', {
      parameters: { 'exists.$': `States.ArrayContains($.existing.endpoints[*].EndpointName, '${endpointName}')` },
      resultPath: '$.existing',
    });
    const createEndpoint = catchInto(sageMakerCall(this, 'Create endpoint', {
      action: 'sagemaker:createEndpoint',
      parameters: { EndpointName: endpointName, 'EndpointConfigName.$': '$.run.names.endpointConfig', Tags: tags },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);
    const updateEndpoint = catchInto(sageMakerCall(this, 'Update endpoint', {
      action: 'sagemaker:updateEndpoint',
      parameters: { EndpointName: endpointName, 'EndpointConfigName.$': '$.run.names.endpointConfig' },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);

    const startPolling = new sfn.Pass(this, 'Start polling', { parameters: { attempt: 0 }, resultPath: '$.poll' });
    const waitForEndpoint = new sfn.Wait(this, 'Wait for endpoint', { time: sfn.WaitTime.duration(pollInterval) });
    const describeEndpoint = catchInto(sageMakerCall(this, 'Describe endpoint', {
      action: 'aws-sdk:sagemaker:describeEndpoint',
      parameters: { EndpointName: endpointName },
      resultPath: '$.endpoint',
      resultSelector: { 'status.$': '$.EndpointStatus', 'config.$': '$.EndpointConfigName', 'details.$': '$' },
    }), onFailure);
    // FailureReason is absent for some states: hand over the whole description, the report picks from it.
    const endpointFailed = new sfn.Pass(this, 'Endpoint failed', {
      parameters: { Error: 'EndpointFailed', 'Cause.$': 'States.JsonToString($.endpoint.details)' },
      resultPath: '$.error',
    }).next(onFailure);
    // A failed update rolls back: InService again, on the previous config; this run's model and config are unused.
    const updateRolledBack = new sfn.Pass(this, 'Update rolled back', {
      parameters: { Error: 'EndpointUpdateFailed', 'Cause.$': 'States.JsonToString($.endpoint.details)' },
      resultPath: '$.error',
    }).next(cleanUp);
    const endpointTimedOut = new sfn.Pass(this, 'Endpoint timed out', {
      parameters: { Error: 'EndpointTimeout', Cause: `endpoint ${endpointName} did not reach InService after ${pollAttempts} looks, ${pollInterval.toHumanString()} apart` },
      resultPath: '$.error',
    }).next(onFailure);
    const countAttempt = new sfn.Pass(this, 'Count attempt', { parameters: { 'attempt.$': 'States.MathAdd($.poll.attempt, 1)' }, resultPath: '$.poll' });
    const status = (value: string) => sfn.Condition.stringEquals('$.endpoint.status', value);

    createModel.next(createEndpointConfig).next(findEndpoint).next(
      new sfn.Choice(this, 'Any endpoint listed?')
        .when(sfn.Condition.isPresent('$.existing.endpoints[0]'), checkNames.next(
          new sfn.Choice(this, 'Endpoint exists?')
            .when(sfn.Condition.booleanEquals('$.existing.exists', true), updateEndpoint)
            .otherwise(createEndpoint),
        ))
        .otherwise(createEndpoint),
    );
    createEndpoint.next(startPolling);
    updateEndpoint.next(startPolling);
    startPolling.next(waitForEndpoint).next(describeEndpoint).next(
      new sfn.Choice(this, 'Endpoint in service?')
        .when(sfn.Condition.and(status('InService'), sfn.Condition.stringEqualsJsonPath('$.endpoint.config', '$.run.names.endpointConfig')), props.deployed)
        .when(status('InService'), updateRolledBack)
        .when(sfn.Condition.or(status('Failed'), status('UpdateRollbackFailed'), status('OutOfService')), endpointFailed)
        .otherwise(countAttempt.next(
          new sfn.Choice(this, 'Waited too long?')
            .when(sfn.Condition.numberGreaterThanEquals('$.poll.attempt', pollAttempts), endpointTimedOut)
            .otherwise(waitForEndpoint),
        )),
    );
    this.startState = createModel;
  }
}
