import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SegpipeConfig } from '../config';
import { HandlerFunction } from '../handler-function';
import { catchInto, hasInstanceStorage, invokeHandler, runTags, sageMakerCall } from './states';

export interface DeployProps {
  readonly config: SegpipeConfig;
  /** The role the model's containers run as. */
  readonly modelRole: iam.IRole;
  /** The built-in semantic-segmentation image of the deployment region. */
  readonly algorithmImageUri: string;
  /**
   * The model's container, given the JSONPath of the run's model artifact.
   * @default - the built-in algorithm's image with the model artifact
   */
  readonly modelContainer?: (modelDataPath: string) => Record<string, unknown>;
  /** The stack's one endpoint: created by the first run, given a challenger variant by the next. */
  readonly endpointName: string;
  /**
   * Key of the endpoint's storage volume, where SageMaker takes one.
   * @default - SageMaker's own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** Wait between two looks at a changing endpoint. */
  readonly pollInterval: Duration;
  /** Looks at a changing endpoint before the run gives up on it. */
  readonly pollAttempts: number;
  /** The Lambda that scores the variants on the run's validation images. */
  readonly evaluateVariants: HandlerFunction;
  /** The Lambda that takes the deploy lock for the run (one deploy at a time). */
  readonly deployLock: HandlerFunction;
  /** How long a run may hold the deploy lock; a run waits for it at most a little longer. */
  readonly deployLockSeconds: number;
  /** Where the run goes once the endpoint serves this run's model alone. */
  readonly deployed: sfn.IChainable;
  /** Where the run goes when the evaluation kept the champion (or refused a first model): it ends "not promoted". */
  readonly notPromoted: sfn.IChainable;
  /** Where a failure goes; failures after the model was made first delete this run's model and configs. */
  readonly onFailure: sfn.IChainable;
}

/** What a poll of the endpoint does with each outcome. */
interface PollOutcomes {
  /** InService, on the expected config. */
  readonly ready: sfn.IChainable;
  /** InService on another config: the change failed and SageMaker rolled it back (polls that expect a config). */
  readonly rolledBack?: sfn.IChainable;
  /** Failed, out of service, or still changing after every look. */
  readonly failed: sfn.IChainable;
}

/**
 * The run's model onto the stack's endpoint, never replacing a better one. A first deployment creates
 * the endpoint with the model alone and evaluates it. Otherwise the model joins the serving one as a
 * second production variant at zero weight (one endpoint update); both are evaluated on the same
 * validation images through `InvokeEndpoint`'s `TargetVariant`; the challenger is promoted (all weight
 * to it, then the old variant removed) only when it is not worse by more than `evaluation.tolerance`
 * and passes `minValidationMiou`, else removed. Every endpoint change is a state of its own, polled
 * (bounded) until the endpoint is InService on the config it asked for; every failure after the
 * challenger was added puts the endpoint back on the champion's config.
 *
 * One deploy at a time: the stage begins by taking the deploy lock (waiting, bounded, while another
 * run holds it), so that two runs never interleave their endpoint changes, and a run that waited
 * reads the endpoint, and so the champion it is evaluated against, only once its turn comes. Before
 * each change that follows an evaluation the endpoint is read again and must still be on this run's
 * config. The report releases the lock, whatever the outcome.
 */
export class Deploy extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: DeployProps) {
    super(scope, id);
    const { endpointName, encryptionKey, pollInterval, pollAttempts, onFailure } = props;
    const { instanceType } = props.config.hosting;
    const tags = runTags(this);
    const errorPass = (stateId: string, error: string, cause: string | { path: string }) => new sfn.Pass(this, stateId, {
      parameters: { Error: error, ...(typeof cause === 'string' ? { Cause: cause } : { 'Cause.$': cause.path }) },
      resultPath: '$.error',
    });

    // The end of every path that does not deploy: delete the run's configs and model, each best-effort,
    // then report the failure under $.error, or else the "not promoted" verdict.
    const deleteTrialConfig = sageMakerCall(this, 'Delete trial config', { action: 'aws-sdk:sagemaker:deleteEndpointConfig', parameters: { 'EndpointConfigName.$': '$.run.names.trialConfig' }, resultPath: sfn.JsonPath.DISCARD });
    const deleteConfig = sageMakerCall(this, 'Delete endpoint config', { action: 'aws-sdk:sagemaker:deleteEndpointConfig', parameters: { 'EndpointConfigName.$': '$.run.names.endpointConfig' }, resultPath: sfn.JsonPath.DISCARD });
    const deleteModel = sageMakerCall(this, 'Delete model', { action: 'aws-sdk:sagemaker:deleteModel', parameters: { 'ModelName.$': '$.run.names.model' }, resultPath: sfn.JsonPath.DISCARD });
    const failedOrKept = new sfn.Choice(this, 'Failed or not promoted?')
      .when(sfn.Condition.isPresent('$.error'), onFailure)
      .otherwise(props.notPromoted);
    deleteTrialConfig.addCatch(deleteConfig, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(deleteConfig);
    deleteConfig.addCatch(deleteModel, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(deleteModel);
    deleteModel.addCatch(failedOrKept, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(failedOrKept);
    const cleanUp = deleteTrialConfig;

    /** Polls the endpoint after a change until it is InService on `expectedConfig` (a JSONPath), or not. */
    const poll = (label: string, expectedConfig: string | undefined, outcomes: PollOutcomes): sfn.State => {
      const named = (base: string) => (label ? `${base} (${label})` : base);
      const startPolling = new sfn.Pass(this, named('Start polling'), { parameters: { attempt: 0 }, resultPath: '$.poll' });
      const wait = new sfn.Wait(this, named('Wait for endpoint'), { time: sfn.WaitTime.duration(pollInterval) });
      const describe = catchInto(sageMakerCall(this, named('Describe endpoint'), {
        action: 'aws-sdk:sagemaker:describeEndpoint',
        parameters: { EndpointName: endpointName },
        resultPath: '$.endpoint',
        resultSelector: { 'status.$': '$.EndpointStatus', 'config.$': '$.EndpointConfigName', 'details.$': '$' },
      }), outcomes.failed);
      // FailureReason is absent for some states: hand over the whole description, the report picks from it.
      const failed = errorPass(named('Endpoint failed'), 'EndpointFailed', { path: 'States.JsonToString($.endpoint.details)' }).next(outcomes.failed);
      const timedOut = errorPass(named('Endpoint timed out'), 'EndpointTimeout', `endpoint ${endpointName} did not reach InService after ${pollAttempts} looks, ${pollInterval.toHumanString()} apart`).next(outcomes.failed);
      const countAttempt = new sfn.Pass(this, named('Count attempt'), { parameters: { 'attempt.$': 'States.MathAdd($.poll.attempt, 1)' }, resultPath: '$.poll' });
      const status = (value: string) => sfn.Condition.stringEquals('$.endpoint.status', value);
      const inService = new sfn.Choice(this, named('Endpoint in service?'));
      if (expectedConfig) {
        const rolledBack = errorPass(named('Update rolled back'), 'EndpointUpdateFailed', { path: 'States.JsonToString($.endpoint.details)' }).next(outcomes.rolledBack ?? outcomes.failed);
        inService.when(sfn.Condition.and(status('InService'), sfn.Condition.stringEqualsJsonPath('$.endpoint.config', expectedConfig)), outcomes.ready)
          .when(status('InService'), rolledBack);
      } else {
        inService.when(status('InService'), outcomes.ready);
      }
      inService
        .when(sfn.Condition.or(status('Failed'), status('UpdateRollbackFailed'), status('OutOfService')), failed)
        .otherwise(countAttempt.next(
          new sfn.Choice(this, named('Waited too long?'))
            .when(sfn.Condition.numberGreaterThanEquals('$.poll.attempt', pollAttempts), timedOut)
            .otherwise(wait),
        ));
      startPolling.next(wait).next(describe).next(inService);
      return startPolling;
    };

    /** Reads the endpoint again before a change: it must still be InService on `expectedConfig`, else `otherwise`. */
    const verify = (label: string, expectedConfig: string, ready: sfn.IChainable, otherwise: sfn.IChainable): sfn.State => {
      const describe = catchInto(sageMakerCall(this, `Read endpoint again (${label})`, {
        action: 'aws-sdk:sagemaker:describeEndpoint',
        parameters: { EndpointName: endpointName },
        resultPath: '$.endpoint',
        resultSelector: { 'status.$': '$.EndpointStatus', 'config.$': '$.EndpointConfigName', 'details.$': '$' },
      }), otherwise);
      const changed = errorPass(`Endpoint changed (${label})`, 'EndpointChanged', { path: 'States.JsonToString($.endpoint.details)' }).next(otherwise);
      describe.next(new sfn.Choice(this, `Endpoint as left? (${label})`)
        .when(sfn.Condition.and(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), sfn.Condition.stringEqualsJsonPath('$.endpoint.config', expectedConfig)), ready)
        .otherwise(changed));
      return describe;
    };

    const modelContainer = props.modelContainer?.('$.training.ModelArtifacts.S3ModelArtifacts') ?? { Image: props.algorithmImageUri, 'ModelDataUrl.$': '$.training.ModelArtifacts.S3ModelArtifacts' };
    const evaluate = (stateId: string, champion: string | undefined) => invokeHandler(this, stateId, props.evaluateVariants, {
      'runId.$': '$.run.runId',
      'trainingJob.$': '$.training.TrainingJobName',
      'classes.$': '$.channels.classes',
      ...(champion ? { 'champion.$': champion, 'championImage.$': '$.champion.model.image' } : {}),
      'challenger.$': '$.run.names.variant',
      // The images tell the report which trainer made each variant.
      challengerImage: modelContainer.Image,
    }, '$.evaluation');

    const createModel = catchInto(sageMakerCall(this, 'Create model', {
      action: 'sagemaker:createModel',
      parameters: {
        'ModelName.$': '$.run.names.model',
        ExecutionRoleArn: props.modelRole.roleArn,
        PrimaryContainer: modelContainer,
        Tags: tags,
      },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);
    const volumeKey = encryptionKey && !hasInstanceStorage(instanceType) ? { KmsKeyId: encryptionKey.keyArn } : {};
    const challengerVariant = (weight: number) => ({
      'VariantName.$': '$.run.names.variant', 'ModelName.$': '$.run.names.model', InstanceType: instanceType, InitialInstanceCount: 1, InitialVariantWeight: weight,
    });
    // The config the endpoint ends on when this run's model serves alone: a first deployment's, or after promotion.
    const createEndpointConfig = catchInto(sageMakerCall(this, 'Create endpoint config', {
      action: 'sagemaker:createEndpointConfig',
      parameters: { 'EndpointConfigName.$': '$.run.names.endpointConfig', ProductionVariants: [challengerVariant(1)], ...volumeKey, Tags: tags },
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

    // A first deployment: the endpoint with this run's model alone, evaluated alone; deleted again if it falls short.
    const createEndpoint = catchInto(sageMakerCall(this, 'Create endpoint', {
      action: 'sagemaker:createEndpoint',
      parameters: { EndpointName: endpointName, 'EndpointConfigName.$': '$.run.names.endpointConfig', Tags: tags },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);
    const deleteNewEndpoint = sageMakerCall(this, 'Delete new endpoint', { action: 'aws-sdk:sagemaker:deleteEndpoint', parameters: { EndpointName: endpointName }, resultPath: sfn.JsonPath.DISCARD });
    deleteNewEndpoint.addCatch(cleanUp, { errors: [sfn.Errors.ALL], resultPath: '$.deleteEndpointError' }).next(cleanUp);
    const evaluateAlone = evaluate('Evaluate model', undefined);
    evaluateAlone.addCatch(deleteNewEndpoint, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    createEndpoint.next(poll('', '$.run.names.endpointConfig', { ready: evaluateAlone, rolledBack: cleanUp, failed: onFailure }));
    evaluateAlone.next(new sfn.Choice(this, 'Model good enough?')
      .when(sfn.Condition.booleanEquals('$.evaluation.promote', true), props.deployed)
      .otherwise(deleteNewEndpoint));

    // An endpoint that serves a model: this run's joins it as a challenger at zero weight.
    const describeServing = catchInto(sageMakerCall(this, 'Describe serving endpoint', {
      action: 'aws-sdk:sagemaker:describeEndpoint',
      parameters: { EndpointName: endpointName },
      resultPath: '$.champion',
      resultSelector: { 'config.$': '$.EndpointConfigName' },
    }), cleanUp);
    const describeServingConfig = catchInto(sageMakerCall(this, 'Describe serving config', {
      action: 'aws-sdk:sagemaker:describeEndpointConfig',
      parameters: { 'EndpointConfigName.$': '$.champion.config' },
      resultPath: '$.champion.serving',
      resultSelector: { 'variant.$': '$.ProductionVariants[0]' },
    }), cleanUp);
    // The champion's image, for the report's "trained by": a model the describe cannot read is reported as of unknown trainer, not a failure.
    const championImageUnknown = new sfn.Pass(this, 'Champion image unknown', { result: sfn.Result.fromObject({ image: '' }), resultPath: '$.champion.model' });
    const describeChampionModel = sageMakerCall(this, 'Describe champion model', {
      action: 'aws-sdk:sagemaker:describeModel',
      parameters: { 'ModelName.$': '$.champion.serving.variant.ModelName' },
      resultPath: '$.champion.model',
      resultSelector: { 'image.$': '$.PrimaryContainer.Image' },
    });
    const createTrialConfig = catchInto(sageMakerCall(this, 'Create trial config', {
      action: 'sagemaker:createEndpointConfig',
      parameters: {
        'EndpointConfigName.$': '$.run.names.trialConfig',
        ProductionVariants: [
          {
            'VariantName.$': '$.champion.serving.variant.VariantName', 'ModelName.$': '$.champion.serving.variant.ModelName',
            'InstanceType.$': '$.champion.serving.variant.InstanceType', 'InitialInstanceCount.$': '$.champion.serving.variant.InitialInstanceCount', InitialVariantWeight: 1,
          },
          challengerVariant(0),
        ],
        ...volumeKey,
        Tags: tags,
      },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);
    const addChallenger = catchInto(sageMakerCall(this, 'Add challenger', {
      action: 'sagemaker:updateEndpoint',
      parameters: { EndpointName: endpointName, 'EndpointConfigName.$': '$.run.names.trialConfig' },
      resultPath: sfn.JsonPath.DISCARD,
    }), cleanUp);

    // Back to the champion's own config: the challenger's variant goes, the champion serves as before.
    const removeChallenger = catchInto(sageMakerCall(this, 'Remove challenger', {
      action: 'sagemaker:updateEndpoint',
      parameters: { EndpointName: endpointName, 'EndpointConfigName.$': '$.champion.config' },
      resultPath: sfn.JsonPath.DISCARD,
    }), onFailure);
    removeChallenger.next(poll('challenger removed', '$.champion.config', { ready: cleanUp, rolledBack: onFailure, failed: onFailure }));

    // Back to the champion only from this run's own trial config: an endpoint left otherwise is not this run's to change.
    const removeChallengerIfTrial = verify('before removing challenger', '$.run.names.trialConfig', removeChallenger, cleanUp);
    const evaluateBoth = evaluate('Evaluate champion and challenger', '$.champion.serving.variant.VariantName');
    evaluateBoth.addCatch(removeChallengerIfTrial, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const shiftTraffic = catchInto(sageMakerCall(this, 'Shift traffic to challenger', {
      action: 'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities',
      parameters: {
        EndpointName: endpointName,
        DesiredWeightsAndCapacities: [
          { 'VariantName.$': '$.champion.serving.variant.VariantName', DesiredWeight: 0 },
          { 'VariantName.$': '$.run.names.variant', DesiredWeight: 1 },
        ],
      },
      resultPath: sfn.JsonPath.DISCARD,
    }), removeChallenger);
    const retireChampion = catchInto(sageMakerCall(this, 'Retire champion', {
      action: 'sagemaker:updateEndpoint',
      parameters: { EndpointName: endpointName, 'EndpointConfigName.$': '$.run.names.endpointConfig' },
      resultPath: sfn.JsonPath.DISCARD,
    }), removeChallenger);

    describeChampionModel.addCatch(championImageUnknown, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    championImageUnknown.next(createTrialConfig);
    describeServing.next(describeServingConfig).next(describeChampionModel).next(createTrialConfig).next(addChallenger)
      .next(poll('challenger added', '$.run.names.trialConfig', { ready: evaluateBoth, rolledBack: cleanUp, failed: onFailure }));
    evaluateBoth.next(new sfn.Choice(this, 'Promote challenger?')
      .when(sfn.Condition.booleanEquals('$.evaluation.promote', true), verify('before promotion', '$.run.names.trialConfig', shiftTraffic, cleanUp))
      .otherwise(removeChallengerIfTrial));
    shiftTraffic.next(poll('traffic shifted', '$.run.names.trialConfig', { ready: retireChampion, rolledBack: removeChallenger, failed: removeChallenger }));
    retireChampion.next(poll('champion retired', '$.run.names.endpointConfig', { ready: props.deployed, rolledBack: removeChallenger, failed: removeChallenger }));

    // The deploy lock, before anything of the endpoint is read: asked again every poll interval while another run holds it.
    const lockAttempts = Math.ceil(props.deployLockSeconds / pollInterval.toSeconds()) + 1;
    const startWaiting = new sfn.Pass(this, 'Start waiting for deploy lock', { parameters: { attempt: 0 }, resultPath: '$.lockWait' });
    const takeLock = catchInto(invokeHandler(this, 'Take deploy lock', props.deployLock, { 'runId.$': '$.run.runId' }, '$.deployLock'), onFailure);
    const waitForLock = new sfn.Wait(this, 'Wait for deploy lock', { time: sfn.WaitTime.duration(pollInterval) });
    const lockTimedOut = errorPass('Deploy lock timed out', 'DeployLockTimeout', { path: `States.Format('another run ({}) held the deploy lock after ${lockAttempts} looks, ${pollInterval.toHumanString()} apart', $.deployLock.holder)` }).next(onFailure);
    startWaiting.next(takeLock).next(new sfn.Choice(this, 'Deploy lock taken?')
      .when(sfn.Condition.booleanEquals('$.deployLock.acquired', true), createModel)
      .otherwise(new sfn.Pass(this, 'Count lock attempt', { parameters: { 'attempt.$': 'States.MathAdd($.lockWait.attempt, 1)' }, resultPath: '$.lockWait' }).next(
        new sfn.Choice(this, 'Waited too long for the lock?')
          .when(sfn.Condition.numberGreaterThanEquals('$.lockWait.attempt', lockAttempts), lockTimedOut)
          .otherwise(waitForLock.next(takeLock)),
      )));

    createModel.next(createEndpointConfig).next(findEndpoint).next(
      new sfn.Choice(this, 'Any endpoint listed?')
        .when(sfn.Condition.isPresent('$.existing.endpoints[0]'), checkNames.next(
          new sfn.Choice(this, 'Endpoint exists?')
            .when(sfn.Condition.booleanEquals('$.existing.exists', true), describeServing)
            .otherwise(createEndpoint),
        ))
        .otherwise(createEndpoint),
    );
    this.startState = startWaiting;
  }
}
