import type { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { catchInto, recordError, sageMakerCall } from './states';

/** The endpoint a stage changes, and how it waits for a change. */
export interface EndpointWatch {
  readonly endpointName: string;
  /** Wait between two looks at a changing endpoint. */
  readonly pollInterval: Duration;
  /** Looks at a changing endpoint before the run gives up on it. */
  readonly pollAttempts: number;
}

export interface PollEndpointProps extends EndpointWatch {
  /**
   * Names the poll's states, `Wait for endpoint (<label>)`: one per change a stage polls.
   * @default - the states' bare names (one poll in the state machine)
   */
  readonly label?: string;
  /**
   * JSONPath of the config the change puts the endpoint on.
   * @default - any config: InService is enough
   */
  readonly expectedConfig?: string;
  /** InService (on `expectedConfig`, where given). */
  readonly ready: sfn.IChainable;
  /**
   * InService on another config: the change failed and SageMaker rolled it back (only with `expectedConfig`).
   * @default - `failed`
   */
  readonly rolledBack?: sfn.IChainable;
  /** Failed, out of service, or still changing after every look; the reason is under `$.error`. */
  readonly failed: sfn.IChainable;
}

/** `DescribeEndpoint` into `resultPath`: its status, its config, and the whole description for the report. */
function describeEndpoint(scope: Construct, id: string, endpointName: string): sfn.CustomState {
  return sageMakerCall(scope, id, {
    action: 'aws-sdk:sagemaker:describeEndpoint',
    parameters: { EndpointName: endpointName },
    resultPath: '$.endpoint',
    resultSelector: { 'status.$': '$.EndpointStatus', 'config.$': '$.EndpointConfigName', 'details.$': '$' },
  });
}

const status = (value: string) => sfn.Condition.stringEquals('$.endpoint.status', value);

/**
 * Waits for an endpoint after a change: looks every `pollInterval`, at most `pollAttempts` times, until
 * it is InService (on the config the change asked for) or has failed. Its states are made in `scope`,
 * named after `label`; it returns the first, for the change to lead to.
 */
export function pollEndpoint(scope: Construct, props: PollEndpointProps): sfn.State {
  const { endpointName, pollInterval, pollAttempts, label, expectedConfig, ready, failed: onFailed } = props;
  const named = (base: string) => (label ? `${base} (${label})` : base);
  const startPolling = new sfn.Pass(scope, named('Start polling'), { parameters: { attempt: 0 }, resultPath: '$.poll' });
  const wait = new sfn.Wait(scope, named('Wait for endpoint'), { time: sfn.WaitTime.duration(pollInterval) });
  const describe = catchInto(describeEndpoint(scope, named('Describe endpoint'), endpointName), onFailed);
  // FailureReason is absent for some states: hand over the whole description, the report picks from it.
  const failed = recordError(scope, named('Endpoint failed'), 'EndpointFailed', { path: 'States.JsonToString($.endpoint.details)' }).next(
    onFailed,
  );
  const timedOut = recordError(
    scope,
    named('Endpoint timed out'),
    'EndpointTimeout',
    `endpoint ${endpointName} did not reach InService after ${pollAttempts} looks, ${pollInterval.toHumanString()} apart`,
  ).next(onFailed);
  const countAttempt = new sfn.Pass(scope, named('Count attempt'), {
    parameters: { 'attempt.$': 'States.MathAdd($.poll.attempt, 1)' },
    resultPath: '$.poll',
  });
  const inService = new sfn.Choice(scope, named('Endpoint in service?'));
  if (expectedConfig) {
    const rolledBack = recordError(scope, named('Update rolled back'), 'EndpointUpdateFailed', {
      path: 'States.JsonToString($.endpoint.details)',
    }).next(props.rolledBack ?? onFailed);
    inService
      .when(sfn.Condition.and(status('InService'), sfn.Condition.stringEqualsJsonPath('$.endpoint.config', expectedConfig)), ready)
      .when(status('InService'), rolledBack);
  } else {
    inService.when(status('InService'), ready);
  }
  inService
    .when(sfn.Condition.or(status('Failed'), status('UpdateRollbackFailed'), status('OutOfService')), failed)
    .otherwise(
      countAttempt.next(
        new sfn.Choice(scope, named('Waited too long?'))
          .when(sfn.Condition.numberGreaterThanEquals('$.poll.attempt', pollAttempts), timedOut)
          .otherwise(wait),
      ),
    );
  startPolling.next(wait).next(describe).next(inService);
  return startPolling;
}

export interface ReadEndpointAgainProps {
  readonly endpointName: string;
  /** Names the check's states, `Read endpoint again (<label>)`. */
  readonly label: string;
  /** JSONPath of the config the endpoint must still be on. */
  readonly expectedConfig: string;
  /** Still InService on `expectedConfig`. */
  readonly unchanged: sfn.IChainable;
  /** Anything else, or the read failed; the reason is under `$.error`. */
  readonly changed: sfn.IChainable;
}

/**
 * Reads the endpoint again before a change that follows a long step: it must still be InService on
 * the config the stage left it on, else the change is not the stage's to make.
 */
export function readEndpointAgain(scope: Construct, props: ReadEndpointAgainProps): sfn.State {
  const { endpointName, label, expectedConfig } = props;
  const describe = catchInto(describeEndpoint(scope, `Read endpoint again (${label})`, endpointName), props.changed);
  const changed = recordError(scope, `Endpoint changed (${label})`, 'EndpointChanged', {
    path: 'States.JsonToString($.endpoint.details)',
  }).next(props.changed);
  describe.next(
    new sfn.Choice(scope, `Endpoint as left? (${label})`)
      .when(
        sfn.Condition.and(status('InService'), sfn.Condition.stringEqualsJsonPath('$.endpoint.config', expectedConfig)),
        props.unchanged,
      )
      .otherwise(changed),
  );
  return describe;
}
