import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { catchInto, invokeHandler } from './states';

export interface PrepareProps {
  readonly prepareRun: lambda.IFunction;
  readonly checkQuota: lambda.IFunction;
  readonly checkBudget: lambda.IFunction;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * Name what the run creates and write its labeling inputs, then check the training quota and the
 * cost estimate before anyone is paid.
 */
export class Prepare extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: PrepareProps) {
    super(scope, id);
    const prepareRun = catchInto(
      invokeHandler(this, 'Prepare run', props.prepareRun, { 'runId.$': '$$.Execution.Name', 'input.$': '$' }, '$.run'),
      props.onFailure,
    );
    const checkQuota = catchInto(invokeHandler(this, 'Check training quota', props.checkQuota, {}, sfn.JsonPath.DISCARD), props.onFailure);
    const checkBudget = catchInto(
      invokeHandler(this, 'Check budget', props.checkBudget, { 'images.$': '$.run.images', 'mode.$': '$.run.mode' }, '$.estimate'),
      props.onFailure,
    );
    prepareRun.next(checkQuota).next(checkBudget);
    this.startState = prepareRun;
    this.endStates = [checkBudget];
  }
}
