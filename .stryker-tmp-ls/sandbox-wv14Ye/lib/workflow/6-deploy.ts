import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type EndpointWatch, type PollEndpointProps, pollEndpoint, readEndpointAgain } from './endpoint-poll';
import { catchInto, hasInstanceStorage, invokeHandler, recordError, runTags, sageMakerCall } from './states';

export interface DeployProps {
  /** The endpoint's instance type (`hosting.instanceType`). */
  readonly instanceType: string;
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
  /** Wait between two looks at a changing endpoint, and between two asks for the deploy lock. */
  readonly pollInterval: Duration;
  /** Looks at a changing endpoint before the run gives up on it. */
  readonly pollAttempts: number;
  /** The Lambda that scores the variants on the run's validation images. */
  readonly evaluateVariants: lambda.IFunction;
  /** The Lambda that takes the deploy lock for the run (one deploy at a time). */
  readonly deployLock: lambda.IFunction;
  /** How long a run may hold the deploy lock; a run waits for it at most a little longer. */
  readonly deployLockSeconds: number;
  /** Where the run goes once the endpoint serves this run's model alone. */
  readonly deployed: sfn.IChainable;
  /** Where the run goes when the evaluation kept the champion (or refused a first model): it ends "not promoted". */
  readonly notPromoted: sfn.IChainable;
  /** Where a failure goes; failures after the model was made first delete this run's model and configs. */
  readonly onFailure: sfn.IChainable;
}

/** The run's names the stage reads (`$.run.names`, written by the prepare stage). */
const NAMES = {
  model: '$.run.names.model',
  variant: '$.run.names.variant',
  /** The config the endpoint ends on when this run's model serves alone: a first deployment's, or after promotion. */
  endpointConfig: '$.run.names.endpointConfig',
  /** The champion's variant beside this run's at zero weight. */
  trialConfig: '$.run.names.trialConfig',
} as const;
/** The serving endpoint's config, and its first variant, as the challenger path reads them. */
const CHAMPION_CONFIG = '$.champion.config';
const CHAMPION_VARIANT = '$.champion.serving.variant';

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
 *
 * The methods below, in the order a run goes: the lock (`renderLock`), the model and its config
 * (`renderModel`), the look for the endpoint (`renderEndpointChoice`), a first deployment
 * (`renderFirstDeployment`) or a challenger (`renderChallenger`: added, evaluated, then promoted or
 * rejected), and the clean-up every path that does not deploy ends in (`renderCleanUp`). Endpoint
 * changes are polled with `pollEndpoint` (endpoint-poll.ts).
 */
export class Deploy extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];
  private readonly props: DeployProps;
  private readonly endpoint: EndpointWatch;
  /** The run's model's container. */
  private readonly modelContainer: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: DeployProps) {
    super(scope, id);
    this.props = props;
    this.endpoint = { endpointName: props.endpointName, pollInterval: props.pollInterval, pollAttempts: props.pollAttempts };
    this.modelContainer = props.modelContainer?.('$.training.ModelArtifacts.S3ModelArtifacts') ?? {
      Image: props.algorithmImageUri,
      'ModelDataUrl.$': '$.training.ModelArtifacts.S3ModelArtifacts',
    };
    // Built from the ends back, as a state must exist before another can lead to it. The order of
    // these calls is the order of the states in the synthesized definition: changing it changes the template.
    const cleanUp = this.renderCleanUp();
    const model = this.renderModel(cleanUp);
    const firstDeployment = this.renderFirstDeployment(cleanUp);
    const challenger = this.renderChallenger(cleanUp);
    this.startState = this.renderLock(model.startState);
    model.next(this.renderEndpointChoice(firstDeployment, challenger));
  }

  /**
   * The deploy lock, before anything of the endpoint is read: asked again every poll interval while
   * another run holds it, for a little longer than a run may hold it.
   */
  private renderLock(locked: sfn.IChainable): sfn.State {
    const { pollInterval, onFailure } = this.props;
    const lockAttempts = Math.ceil(this.props.deployLockSeconds / pollInterval.toSeconds()) + 1;
    const startWaiting = new sfn.Pass(this, 'Start waiting for deploy lock', { parameters: { attempt: 0 }, resultPath: '$.lockWait' });
    const takeLock = catchInto(
      invokeHandler(this, 'Take deploy lock', this.props.deployLock, { 'runId.$': '$.run.runId' }, '$.deployLock'),
      onFailure,
    );
    const waitForLock = new sfn.Wait(this, 'Wait for deploy lock', { time: sfn.WaitTime.duration(pollInterval) });
    const lockTimedOut = recordError(this, 'Deploy lock timed out', 'DeployLockTimeout', {
      path: `States.Format('another run ({}) held the deploy lock after ${lockAttempts} looks, ${pollInterval.toHumanString()} apart', $.deployLock.holder)`,
    }).next(onFailure);
    startWaiting.next(takeLock).next(
      new sfn.Choice(this, 'Deploy lock taken?').when(sfn.Condition.booleanEquals('$.deployLock.acquired', true), locked).otherwise(
        new sfn.Pass(this, 'Count lock attempt', {
          parameters: { 'attempt.$': 'States.MathAdd($.lockWait.attempt, 1)' },
          resultPath: '$.lockWait',
        }).next(
          new sfn.Choice(this, 'Waited too long for the lock?')
            .when(sfn.Condition.numberGreaterThanEquals('$.lockWait.attempt', lockAttempts), lockTimedOut)
            .otherwise(waitForLock.next(takeLock)),
        ),
      ),
    );
    return startWaiting;
  }

  /** The run's model, the config it serves alone on, and a look for the stack's endpoint. */
  private renderModel(cleanUp: sfn.IChainable): sfn.Chain {
    const createModel = catchInto(
      sageMakerCall(this, 'Create model', {
        action: 'sagemaker:createModel',
        parameters: {
          'ModelName.$': NAMES.model,
          ExecutionRoleArn: this.props.modelRole.roleArn,
          PrimaryContainer: this.modelContainer,
          Tags: runTags(this),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      cleanUp,
    );
    const createEndpointConfig = catchInto(
      sageMakerCall(this, 'Create endpoint config', {
        action: 'sagemaker:createEndpointConfig',
        parameters: {
          'EndpointConfigName.$': NAMES.endpointConfig,
          ProductionVariants: [this.challengerVariant(1)],
          ...this.volumeKey(),
          Tags: runTags(this),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      cleanUp,
    );
    const findEndpoint = catchInto(
      sageMakerCall(this, 'Find endpoint', {
        action: 'aws-sdk:sagemaker:listEndpoints',
        parameters: { NameContains: this.props.endpointName, MaxResults: 100 },
        resultPath: '$.existing',
        resultSelector: { 'endpoints.$': '$.Endpoints' },
      }),
      cleanUp,
    );
    return sfn.Chain.start(createModel).next(createEndpointConfig).next(findEndpoint);
  }

  /** The endpoint found, or not: a challenger joins it, else a first deployment creates it. */
  private renderEndpointChoice(firstDeployment: sfn.IChainable, challenger: sfn.IChainable): sfn.IChainable {
    // NameContains matches substrings: look for the exact name (ArrayContains needs a non-empty list).
    const checkNames = new sfn.Pass(this, 'Check endpoint names', {
      parameters: { 'exists.$': `States.ArrayContains($.existing.endpoints[*].EndpointName, '${this.props.endpointName}')` },
      resultPath: '$.existing',
    });
    return new sfn.Choice(this, 'Any endpoint listed?')
      .when(
        sfn.Condition.isPresent('$.existing.endpoints[0]'),
        checkNames.next(
          new sfn.Choice(this, 'Endpoint exists?')
            .when(sfn.Condition.booleanEquals('$.existing.exists', true), challenger)
            .otherwise(firstDeployment),
        ),
      )
      .otherwise(firstDeployment);
  }

  /** A first deployment: the endpoint with this run's model alone, evaluated alone; deleted again if it falls short. */
  private renderFirstDeployment(cleanUp: sfn.IChainable): sfn.State {
    const { endpointName, onFailure } = this.props;
    const createEndpoint = catchInto(
      sageMakerCall(this, 'Create endpoint', {
        action: 'sagemaker:createEndpoint',
        parameters: { EndpointName: endpointName, 'EndpointConfigName.$': NAMES.endpointConfig, Tags: runTags(this) },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      cleanUp,
    );
    const deleteNewEndpoint = sageMakerCall(this, 'Delete new endpoint', {
      action: 'aws-sdk:sagemaker:deleteEndpoint',
      parameters: { EndpointName: endpointName },
      resultPath: sfn.JsonPath.DISCARD,
    });
    deleteNewEndpoint.addCatch(cleanUp, { errors: [sfn.Errors.ALL], resultPath: '$.deleteEndpointError' }).next(cleanUp);
    const evaluateAlone = this.evaluate('Evaluate model');
    evaluateAlone.addCatch(deleteNewEndpoint, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    createEndpoint.next(this.poll({ expectedConfig: NAMES.endpointConfig, ready: evaluateAlone, rolledBack: cleanUp, failed: onFailure }));
    evaluateAlone.next(
      new sfn.Choice(this, 'Model good enough?')
        .when(sfn.Condition.booleanEquals('$.evaluation.promote', true), this.props.deployed)
        .otherwise(deleteNewEndpoint),
    );
    return createEndpoint;
  }

  /**
   * An endpoint that serves a model: this run's joins it as a challenger at zero weight, both are
   * evaluated on the same images, and the challenger is promoted or rejected.
   */
  private renderChallenger(cleanUp: sfn.IChainable): sfn.State {
    const reject = this.renderRejectChallenger(cleanUp);
    const promote = this.renderPromoteChallenger(cleanUp, reject.removeChallenger);
    const evaluateBoth = this.evaluate('Evaluate champion and challenger', `${CHAMPION_VARIANT}.VariantName`);
    evaluateBoth.addCatch(reject.ifTrial, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    evaluateBoth.next(
      new sfn.Choice(this, 'Promote challenger?')
        .when(sfn.Condition.booleanEquals('$.evaluation.promote', true), promote)
        .otherwise(reject.ifTrial),
    );
    return this.renderAddChallenger(cleanUp, evaluateBoth);
  }

  /** The champion's config and variant read, and a trial config of both variants (this run's at zero weight) put on the endpoint. */
  private renderAddChallenger(cleanUp: sfn.IChainable, added: sfn.IChainable): sfn.State {
    const { endpointName } = this.props;
    const describeServing = catchInto(
      sageMakerCall(this, 'Describe serving endpoint', {
        action: 'aws-sdk:sagemaker:describeEndpoint',
        parameters: { EndpointName: endpointName },
        resultPath: '$.champion',
        resultSelector: { 'config.$': '$.EndpointConfigName' },
      }),
      cleanUp,
    );
    const describeServingConfig = catchInto(
      sageMakerCall(this, 'Describe serving config', {
        action: 'aws-sdk:sagemaker:describeEndpointConfig',
        parameters: { 'EndpointConfigName.$': CHAMPION_CONFIG },
        resultPath: '$.champion.serving',
        resultSelector: { 'variant.$': '$.ProductionVariants[0]' },
      }),
      cleanUp,
    );
    // The champion's image, for the report's "trained by": a model the describe cannot read is reported as of unknown trainer, not a failure.
    const championImageUnknown = new sfn.Pass(this, 'Champion image unknown', {
      result: sfn.Result.fromObject({ image: '' }),
      resultPath: '$.champion.model',
    });
    const describeChampionModel = sageMakerCall(this, 'Describe champion model', {
      action: 'aws-sdk:sagemaker:describeModel',
      parameters: { 'ModelName.$': `${CHAMPION_VARIANT}.ModelName` },
      resultPath: '$.champion.model',
      resultSelector: { 'image.$': '$.PrimaryContainer.Image' },
    });
    const createTrialConfig = catchInto(
      sageMakerCall(this, 'Create trial config', {
        action: 'sagemaker:createEndpointConfig',
        parameters: {
          'EndpointConfigName.$': NAMES.trialConfig,
          ProductionVariants: [
            {
              'VariantName.$': `${CHAMPION_VARIANT}.VariantName`,
              'ModelName.$': `${CHAMPION_VARIANT}.ModelName`,
              'InstanceType.$': `${CHAMPION_VARIANT}.InstanceType`,
              'InitialInstanceCount.$': `${CHAMPION_VARIANT}.InitialInstanceCount`,
              InitialVariantWeight: 1,
            },
            this.challengerVariant(0),
          ],
          ...this.volumeKey(),
          Tags: runTags(this),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      cleanUp,
    );
    const addChallenger = catchInto(
      sageMakerCall(this, 'Add challenger', {
        action: 'sagemaker:updateEndpoint',
        parameters: { EndpointName: endpointName, 'EndpointConfigName.$': NAMES.trialConfig },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      cleanUp,
    );
    describeChampionModel.addCatch(championImageUnknown, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    championImageUnknown.next(createTrialConfig);
    describeServing
      .next(describeServingConfig)
      .next(describeChampionModel)
      .next(createTrialConfig)
      .next(addChallenger)
      .next(
        this.poll({
          label: 'challenger added',
          expectedConfig: NAMES.trialConfig,
          ready: added,
          rolledBack: cleanUp,
          failed: this.props.onFailure,
        }),
      );
    return describeServing;
  }

  /**
   * Promotion, once the endpoint is read again and still on this run's trial config: all traffic to
   * the challenger, then the champion's variant retired (the endpoint onto the run's own config). A
   * failure in either puts the endpoint back on the champion's config.
   */
  private renderPromoteChallenger(cleanUp: sfn.IChainable, removeChallenger: sfn.IChainable): sfn.State {
    const { endpointName } = this.props;
    const shiftTraffic = catchInto(
      sageMakerCall(this, 'Shift traffic to challenger', {
        action: 'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities',
        parameters: {
          EndpointName: endpointName,
          DesiredWeightsAndCapacities: [
            { 'VariantName.$': `${CHAMPION_VARIANT}.VariantName`, DesiredWeight: 0 },
            { 'VariantName.$': NAMES.variant, DesiredWeight: 1 },
          ],
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      removeChallenger,
    );
    const retireChampion = catchInto(
      sageMakerCall(this, 'Retire champion', {
        action: 'sagemaker:updateEndpoint',
        parameters: { EndpointName: endpointName, 'EndpointConfigName.$': NAMES.endpointConfig },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      removeChallenger,
    );
    shiftTraffic.next(
      this.poll({
        label: 'traffic shifted',
        expectedConfig: NAMES.trialConfig,
        ready: retireChampion,
        rolledBack: removeChallenger,
        failed: removeChallenger,
      }),
    );
    retireChampion.next(
      this.poll({
        label: 'champion retired',
        expectedConfig: NAMES.endpointConfig,
        ready: this.props.deployed,
        rolledBack: removeChallenger,
        failed: removeChallenger,
      }),
    );
    return this.readEndpointAgain('before promotion', shiftTraffic, cleanUp);
  }

  /**
   * Rejection: back to the champion's own config (the challenger's variant goes, the champion serves
   * as before), only from this run's own trial config: an endpoint left otherwise is not this run's
   * to change. `removeChallenger` is also where a failed promotion goes back.
   */
  private renderRejectChallenger(cleanUp: sfn.IChainable): { removeChallenger: sfn.State; ifTrial: sfn.State } {
    const { onFailure } = this.props;
    const removeChallenger = catchInto(
      sageMakerCall(this, 'Remove challenger', {
        action: 'sagemaker:updateEndpoint',
        parameters: { EndpointName: this.props.endpointName, 'EndpointConfigName.$': CHAMPION_CONFIG },
        resultPath: sfn.JsonPath.DISCARD,
      }),
      onFailure,
    );
    removeChallenger.next(
      this.poll({ label: 'challenger removed', expectedConfig: CHAMPION_CONFIG, ready: cleanUp, rolledBack: onFailure, failed: onFailure }),
    );
    return { removeChallenger, ifTrial: this.readEndpointAgain('before removing challenger', removeChallenger, cleanUp) };
  }

  /**
   * The end of every path that does not deploy: delete the run's configs and model, each best-effort,
   * then report the failure under `$.error`, or else the "not promoted" verdict.
   */
  private renderCleanUp(): sfn.State {
    const deleteTrialConfig = sageMakerCall(this, 'Delete trial config', {
      action: 'aws-sdk:sagemaker:deleteEndpointConfig',
      parameters: { 'EndpointConfigName.$': NAMES.trialConfig },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const deleteConfig = sageMakerCall(this, 'Delete endpoint config', {
      action: 'aws-sdk:sagemaker:deleteEndpointConfig',
      parameters: { 'EndpointConfigName.$': NAMES.endpointConfig },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const deleteModel = sageMakerCall(this, 'Delete model', {
      action: 'aws-sdk:sagemaker:deleteModel',
      parameters: { 'ModelName.$': NAMES.model },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const failedOrKept = new sfn.Choice(this, 'Failed or not promoted?')
      .when(sfn.Condition.isPresent('$.error'), this.props.onFailure)
      .otherwise(this.props.notPromoted);
    deleteTrialConfig.addCatch(deleteConfig, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(deleteConfig);
    deleteConfig.addCatch(deleteModel, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(deleteModel);
    deleteModel.addCatch(failedOrKept, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(failedOrKept);
    return deleteTrialConfig;
  }

  /** The evaluation of this run's variant, alone or beside the champion's (`champion`: JSONPath of its variant name). */
  private evaluate(id: string, champion?: string): sfn.TaskStateBase {
    return invokeHandler(
      this,
      id,
      this.props.evaluateVariants,
      {
        'runId.$': '$.run.runId',
        'trainingJob.$': '$.training.TrainingJobName',
        'classes.$': '$.channels.classes',
        ...(champion ? { 'champion.$': champion, 'championImage.$': '$.champion.model.image' } : {}),
        'challenger.$': NAMES.variant,
        // The images tell the report which trainer made each variant.
        challengerImage: this.modelContainer.Image,
      },
      '$.evaluation',
    );
  }

  /** This run's variant of the endpoint at `weight`. */
  private challengerVariant(weight: number): Record<string, unknown> {
    return {
      'VariantName.$': NAMES.variant,
      'ModelName.$': NAMES.model,
      InstanceType: this.props.instanceType,
      InitialInstanceCount: 1,
      InitialVariantWeight: weight,
    };
  }

  /** The endpoint's storage volume key, where SageMaker takes one (not on instances with their own storage). */
  private volumeKey(): { KmsKeyId?: string } {
    const { encryptionKey, instanceType } = this.props;
    return encryptionKey && !hasInstanceStorage(instanceType) ? { KmsKeyId: encryptionKey.keyArn } : {};
  }

  private poll(outcomes: Omit<PollEndpointProps, keyof EndpointWatch>): sfn.State {
    return pollEndpoint(this, { ...this.endpoint, ...outcomes });
  }

  private readEndpointAgain(label: string, unchanged: sfn.IChainable, changed: sfn.IChainable): sfn.State {
    return readEndpointAgain(this, { endpointName: this.props.endpointName, label, expectedConfig: NAMES.trialConfig, unchanged, changed });
  }
}
