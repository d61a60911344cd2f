import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { catchInto, invokeHandler } from './states';

export interface WaitForBatchProps {
  readonly checkBatch: lambda.IFunction;
  readonly snapshotBatch: lambda.IFunction;
  /** Wait between two looks at a batch that is still receiving uploads. */
  readonly pollInterval: Duration;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * A batch of uploads: wait until it settles, then take its images no run has taken. The run goes on
 * as if started with those images; with none left (a late or repeated upload event) it ends here.
 */
export interface WaitForImportTurnProps {
  readonly takeImportTurn: lambda.IFunction;
  /** Wait between two asks while an earlier run of the same export goes on. */
  readonly pollInterval: Duration;
  /** Asks before the run gives up (the earlier run's end was never recorded). */
  readonly attempts: number;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * An import started by an upload: runs of one export file go one at a time, with at most one waiting
 * (`lambda/workflow/import-turns.ts`), so that re-uploading an export cannot start unbounded runs.
 * A run of a generation taken already (a repeated event) ends here.
 */
export class WaitForImportTurn extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: WaitForImportTurnProps) {
    super(scope, id);
    const start = new sfn.Pass(this, 'Start waiting for import turn', { parameters: { attempt: 0 }, resultPath: '$.turnWait' });
    const take = catchInto(
      invokeHandler(
        this,
        'Take import turn',
        props.takeImportTurn,
        {
          'batch.$': '$.batch',
          'export.$': '$.export',
          'generation.$': '$.importGeneration',
        },
        '$.importTurn',
      ),
      props.onFailure,
    );
    const proceed = new sfn.Pass(this, 'Import turn taken', {
      parameters: { 'batch.$': '$.batch', 'export.$': '$.export', 'importGeneration.$': '$.importGeneration' },
    });
    const timedOut = new sfn.Pass(this, 'Import turn timed out', {
      parameters: {
        Error: 'ImportTurnTimeout',
        Cause: `an earlier run of this export had not ended after ${props.attempts} looks, ${props.pollInterval.toHumanString()} apart`,
      },
      resultPath: '$.error',
    }).next(props.onFailure);
    start.next(take).next(
      new sfn.Choice(this, 'Import turn?')
        .when(sfn.Condition.stringEquals('$.importTurn.turn', 'taken'), proceed)
        .when(
          sfn.Condition.stringEquals('$.importTurn.turn', 'stale'),
          new sfn.Succeed(this, 'Import taken already', {
            comment: 'A run of this generation of the export took it already (a repeated upload event).',
          }),
        )
        .otherwise(
          new sfn.Pass(this, 'Count import turn attempt', {
            parameters: { 'attempt.$': 'States.MathAdd($.turnWait.attempt, 1)' },
            resultPath: '$.turnWait',
          }).next(
            new sfn.Choice(this, 'Waited too long for the turn?')
              .when(sfn.Condition.numberGreaterThanEquals('$.turnWait.attempt', props.attempts), timedOut)
              .otherwise(new sfn.Wait(this, 'Wait for import turn', { time: sfn.WaitTime.duration(props.pollInterval) }).next(take)),
          ),
        ),
    );
    this.startState = start;
    this.endStates = [proceed];
  }
}

export class WaitForBatch extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: WaitForBatchProps) {
    super(scope, id);
    const checkBatch = catchInto(
      invokeHandler(this, 'Check batch', props.checkBatch, { 'batch.$': '$.batch' }, '$.readiness'),
      props.onFailure,
    );
    const snapshot = catchInto(
      invokeHandler(this, 'Snapshot batch', props.snapshotBatch, { 'batch.$': '$.batch', 'generation.$': '$.generation' }, '$.snapshot'),
      props.onFailure,
    );
    const useSnapshot = new sfn.Pass(this, 'Use snapshot', {
      // Its output replaces the state (the default ResultPath): the run goes on as if started with these
      // images. The state carries where their list is and its length, never the list (no cap per run).
      parameters: {
        'batch.$': '$.batch',
        'generation.$': '$.generation',
        'imagesManifest.$': '$.snapshot.imagesManifest',
        'imageCount.$': '$.snapshot.images',
      },
    });
    checkBatch.next(
      new sfn.Choice(this, 'Batch settled?')
        .when(
          sfn.Condition.booleanEquals('$.readiness.ready', true),
          snapshot.next(
            new sfn.Choice(this, 'Anything new?').when(sfn.Condition.numberGreaterThan('$.snapshot.images', 0), useSnapshot).otherwise(
              new sfn.Succeed(this, 'Nothing new', {
                comment: 'Every image of the batch was taken by an earlier run (a late or repeated upload event).',
              }),
            ),
          ),
        )
        .otherwise(new sfn.Wait(this, 'Wait for quiet', { time: sfn.WaitTime.duration(props.pollInterval) }).next(checkBatch)),
    );
    this.startState = checkBatch;
    this.endStates = [useSnapshot];
  }
}
