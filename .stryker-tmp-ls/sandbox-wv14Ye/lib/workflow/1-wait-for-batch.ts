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
    const turn = waitForTurn(this, {
      what: 'import',
      handler: props.takeImportTurn,
      payload: { 'batch.$': '$.batch', 'export.$': '$.export', 'generation.$': '$.importGeneration' },
      proceed: { 'batch.$': '$.batch', 'export.$': '$.export', 'importGeneration.$': '$.importGeneration' },
      staleComment: 'A run of this generation of the export took it already (a repeated upload event).',
      earlier: 'an earlier run of this export',
      ...props,
    });
    this.startState = turn.start;
    this.endStates = [turn.proceed];
  }
}

export interface WaitForCorrectionsTurnProps {
  readonly takeCorrectionsTurn: lambda.IFunction;
  /** Wait between two asks while an earlier corrections run, or a round's conversion, of the batch goes on. */
  readonly pollInterval: Duration;
  /** Asks before the run gives up. */
  readonly attempts: number;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * Label Studio annotations saved after their round's run took its annotations: a batch's corrections
 * run at a time, after the batch's converting rounds (`lambda/labelstudio/corrections.ts`). It goes on
 * as an import of the target storage's files kept for it; with none (a repeated event), it ends here.
 */
export class WaitForCorrectionsTurn extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: WaitForCorrectionsTurnProps) {
    super(scope, id);
    const turn = waitForTurn(this, {
      what: 'corrections',
      handler: props.takeCorrectionsTurn,
      payload: { 'runId.$': '$$.Execution.Name', 'batch.$': '$.batch', 'generation.$': '$.correctionsGeneration' },
      proceed: {
        'batch.$': '$.batch',
        'correctionsGeneration.$': '$.correctionsGeneration',
        'export.$': '$.correctionsTurn.export',
        'labelStudioFiles.$': '$.correctionsTurn.labelStudioFiles',
      },
      staleComment: 'A run of this corrections generation of the batch took it already (a repeated annotation event).',
      earlier: "the batch's earlier corrections run, or a labeling round's conversion,",
      empty: {
        condition: sfn.Condition.numberEquals('$.correctionsTurn.files', 0),
        comment: 'No annotation file was kept for this generation (the events that asked for it went to the next).',
      },
      ...props,
    });
    this.startState = turn.start;
    this.endStates = [turn.proceed];
  }
}

/**
 * Runs of one kind (an export's imports, a batch's corrections) one at a time, at most one waiting:
 * the handler answers `taken`, `wait` or `stale`; the run asks again every `pollInterval`, `attempts` times.
 */
function waitForTurn(
  scope: Construct,
  props: {
    readonly what: 'import' | 'corrections';
    readonly handler: lambda.IFunction;
    readonly payload: Record<string, string>;
    readonly proceed: Record<string, string>;
    readonly staleComment: string;
    /** What the run waited for, in the time-out's cause. */
    readonly earlier: string;
    /** A turn taken with nothing to do: the run ends there. */
    readonly empty?: { readonly condition: sfn.Condition; readonly comment: string };
    readonly pollInterval: Duration;
    readonly attempts: number;
    readonly onFailure: sfn.IChainable;
  },
): { start: sfn.State; proceed: sfn.Pass } {
  const { what } = props;
  const What = `${what[0].toUpperCase()}${what.slice(1)}`;
  const resultPath = `$.${what}Turn`;
  const start = new sfn.Pass(scope, `Start waiting for ${what} turn`, { parameters: { attempt: 0 }, resultPath: '$.turnWait' });
  const take = catchInto(invokeHandler(scope, `Take ${what} turn`, props.handler, props.payload, resultPath), props.onFailure);
  const proceed = new sfn.Pass(scope, `${What} turn taken`, { parameters: props.proceed });
  const timedOut = new sfn.Pass(scope, `${What} turn timed out`, {
    parameters: {
      Error: `${What}TurnTimeout`,
      Cause: `${props.earlier} had not ended after ${props.attempts} looks, ${props.pollInterval.toHumanString()} apart`,
    },
    resultPath: '$.error',
  }).next(props.onFailure);
  const taken = sfn.Condition.stringEquals(`${resultPath}.turn`, 'taken');
  const choice = new sfn.Choice(scope, `${What} turn?`);
  if (props.empty)
    choice.when(sfn.Condition.and(taken, props.empty.condition), new sfn.Succeed(scope, `No ${what}`, { comment: props.empty.comment }));
  start.next(take).next(
    choice
      .when(taken, proceed)
      .when(
        sfn.Condition.stringEquals(`${resultPath}.turn`, 'stale'),
        new sfn.Succeed(scope, `${What} taken already`, { comment: props.staleComment }),
      )
      .otherwise(
        new sfn.Pass(scope, `Count ${what} turn attempt`, {
          parameters: { 'attempt.$': 'States.MathAdd($.turnWait.attempt, 1)' },
          resultPath: '$.turnWait',
        }).next(
          new sfn.Choice(scope, `Waited too long for the ${what} turn?`)
            .when(sfn.Condition.numberGreaterThanEquals('$.turnWait.attempt', props.attempts), timedOut)
            .otherwise(new sfn.Wait(scope, `Wait for ${what} turn`, { time: sfn.WaitTime.duration(props.pollInterval) }).next(take)),
        ),
      ),
  );
  return { start, proceed };
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
