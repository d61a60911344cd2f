import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { HandlerFunction } from '../handler-function';
import { catchInto, invokeHandler } from './states';

export interface WaitForBatchProps {
  readonly checkBatch: HandlerFunction;
  readonly snapshotBatch: HandlerFunction;
  /** Wait between two looks at a batch that is still receiving uploads. */
  readonly pollInterval: Duration;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * A batch of uploads: wait until it settles, then take its images no run has taken. The run goes on
 * as if started with those images; with none left (a late or repeated upload event) it ends here.
 */
export class WaitForBatch extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: WaitForBatchProps) {
    super(scope, id);
    const checkBatch = catchInto(invokeHandler(this, 'Check batch', props.checkBatch, { 'batch.$': '$.batch' }, '$.readiness'), props.onFailure);
    const snapshot = catchInto(invokeHandler(this, 'Snapshot batch', props.snapshotBatch, { 'batch.$': '$.batch', 'generation.$': '$.generation' }, '$.snapshot'), props.onFailure);
    const useSnapshot = new sfn.Pass(this, 'Use snapshot', {
      // Its output replaces the state (the default ResultPath): the run goes on as if started with these
      // images. The state carries where their list is and its length, never the list (no cap per run).
      parameters: { 'batch.$': '$.batch', 'generation.$': '$.generation', 'imagesManifest.$': '$.snapshot.imagesManifest', 'imageCount.$': '$.snapshot.images' },
    });
    checkBatch.next(
      new sfn.Choice(this, 'Batch settled?')
        .when(sfn.Condition.booleanEquals('$.readiness.ready', true), snapshot.next(
          new sfn.Choice(this, 'Anything new?')
            .when(sfn.Condition.numberGreaterThan('$.snapshot.images', 0), useSnapshot)
            .otherwise(new sfn.Succeed(this, 'Nothing new', { comment: 'Every image of the batch was taken by an earlier run (a late or repeated upload event).' })),
        ))
        .otherwise(new sfn.Wait(this, 'Wait for quiet', { time: sfn.WaitTime.duration(props.pollInterval) }).next(checkBatch)),
    );
    this.startState = checkBatch;
    this.endStates = [useSnapshot];
  }
}
