import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { RUN_TAG_KEY, STACK_TAG_KEY } from '../../lambda/workflow/names';

/**
 * Error names of throttling, by how a state calls SageMaker; the only SageMaker failure a
 * request-response state retries (`.sync` jobs are never retried: a retry would resubmit the same name).
 *
 * - The optimized integration (`sagemaker:createModel`, ...) reports every error SageMaker's API model
 *   does not declare, throttling among them, as `SageMaker.AmazonSageMakerException`: the Step Functions
 *   Developer Guide retries that name in its SageMaker example
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html), and AWS's own
 *   Step Functions Data Science SDK does so for the "Rate exceeded" of createModel and createEndpoint
 *   (aws/aws-step-functions-data-science-sdk-python#162). No narrower name exists, so a refused request
 *   is retried too, boundedly, before its catch reports it.
 * - AWS SDK integrations (`aws-sdk:sagemaker:...`) name an error `<Service>.<Error>` with the
 *   `Exception` suffix (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html),
 *   and SageMaker's throttling error is `ThrottlingException`
 *   (https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html).
 */
export const SAGEMAKER_THROTTLING_ERRORS = {
  optimized: ['SageMaker.AmazonSageMakerException'],
  sdk: ['SageMaker.ThrottlingException'],
} as const;

/** Every failure a stage catches goes to the failure report with the error under `$.error`. */
export function catchInto<T extends sfn.TaskStateBase | sfn.CustomState | sfn.DistributedMap>(state: T, onFailure: sfn.IChainable): T {
  state.addCatch(onFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  return state;
}

/** A Lambda handler as a state: its payload is its input, its answer lands at `resultPath`. */
export function invokeHandler(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  payload: Record<string, unknown>,
  resultPath: string,
): tasks.LambdaInvoke {
  return new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    resultPath,
    retryOnServiceExceptions: true,
  });
}

export interface SageMakerCallProps {
  /** `sagemaker:<action>[.sync]` (optimized integration) or `aws-sdk:sagemaker:<action>`. */
  readonly action: string;
  readonly parameters: Record<string, unknown>;
  /** `null` discards the result. */
  readonly resultPath: string | null;
  /**
   * @default - the whole result
   */
  readonly resultSelector?: Record<string, unknown>;
}

/**
 * One SageMaker call as a state of its own, written as Amazon States Language (a custom state, so
 * every field SageMaker takes can be set). A request-response call retries throttling with backoff.
 */
export function sageMakerCall(scope: Construct, id: string, props: SageMakerCallProps): sfn.CustomState {
  const state = new sfn.CustomState(scope, id, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::${props.action}`,
      Parameters: props.parameters,
      ResultPath: props.resultPath,
      ...(props.resultSelector ? { ResultSelector: props.resultSelector } : {}),
    },
  });
  if (!props.action.endsWith('.sync')) {
    const errors = props.action.startsWith('aws-sdk:') ? SAGEMAKER_THROTTLING_ERRORS.sdk : SAGEMAKER_THROTTLING_ERRORS.optimized;
    state.addRetry({ errors: [...errors], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 4 });
  }
  return state;
}

/**
 * A failure a stage detects itself, recorded as a caught one is: `Error` and `Cause` under `$.error`. The
 * cause is a text, or `{ path }`: an intrinsic or JSONPath that makes it from the state.
 */
export function recordError(scope: Construct, id: string, error: string, cause: string | { path: string }): sfn.Pass {
  return new sfn.Pass(scope, id, {
    parameters: { Error: error, ...(typeof cause === 'string' ? { Cause: cause } : { 'Cause.$': cause.path }) },
    resultPath: '$.error',
  });
}

/** Tags of everything a run creates in SageMaker: the stack's, which the clean-up looks for, and the run's. */
export function runTags(scope: Construct): Record<string, string>[] {
  return [
    { Key: STACK_TAG_KEY, Value: Stack.of(scope).stackName },
    { Key: RUN_TAG_KEY, 'Value.$': '$.run.runId' },
  ];
}

/**
 * SageMaker refuses a KMS key for the storage volume of instance types with local (NVMe) storage,
 * which it encrypts itself: `d` families (c5d, m5d, ...), g4dn, g5/g6, p3dn, p4d, p5 (and p5e, p5en).
 */
export function hasInstanceStorage(instanceType: string): boolean {
  const family = instanceType.split('.')[1] ?? '';
  return /d$|dn$/.test(family) || /^(g5|g6|g6e|p4de|p5|p5e|p5en)$/.test(family);
}

/**
 * One branch of a Choice as the end of a stage: chaining the stage adds the branch, so a stage that
 * ends in a test chains like any other.
 */
export function choiceBranch(choice: sfn.Choice, condition: sfn.Condition): sfn.INextable {
  return {
    next: (state: sfn.IChainable) => {
      choice.when(condition, state);
      return sfn.Chain.start(state);
    },
  };
}
