import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { catchInto, invokeHandler } from './states';

export interface ReportProps {
  readonly finishRun: lambda.IFunction;
  /** The topic runs are announced on. */
  readonly topic: sns.ITopic;
}

/**
 * How every run ends: `runs/<run-id>/report.json`, an SNS notification and an EventBridge event.
 * Its start reports a deployed run; `notDeployed` a run the gate stopped, `notPromoted` a run whose model
 * the evaluation on the endpoint kept from serving, and `failed` every failure
 * the other stages catch, which ends the execution as failed.
 */
export class Report extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];
  /** Reports a run whose model did not pass the gate. */
  public readonly notDeployed: sfn.IChainable;
  /** Reports a run whose model the evaluation on the endpoint did not promote. */
  public readonly notPromoted: sfn.IChainable;
  /** Reports the failure under `$.error`, then fails the execution. */
  public readonly failed: sfn.IChainable;

  constructor(scope: Construct, id: string, props: ReportProps) {
    super(scope, id);
    const report = (stateId: string, status: string) =>
      invokeHandler(
        this,
        stateId,
        props.finishRun,
        {
          status,
          'state.$': '$',
          'runId.$': '$$.Execution.Name',
          'startedAt.$': '$$.Execution.StartTime',
        },
        '$.outcome',
      );
    const notify = (stateId: string) =>
      new tasks.SnsPublish(this, stateId, {
        topic: props.topic,
        subject: sfn.JsonPath.stringAt('$.outcome.subject'),
        message: sfn.TaskInput.fromJsonPathAt('$.outcome.message'),
        resultPath: sfn.JsonPath.DISCARD,
      });
    const publish = (stateId: string, detailType: string) =>
      new tasks.EventBridgePutEvents(this, stateId, {
        entries: [{ source: 'segpipe', detailType, detail: sfn.TaskInput.fromJsonPathAt('$.outcome.detail') }],
        resultPath: sfn.JsonPath.DISCARD,
      });

    const reportFailure = report('Report failure', 'failed');
    const notifyFailure = notify('Notify failure');
    const failureEvent = publish('Publish failure event', 'Segpipe Run Failed');
    reportFailure
      .next(notifyFailure)
      .next(failureEvent)
      .next(new sfn.Fail(this, 'Run failed', { errorPath: '$.error.Error', causePath: '$.outcome.message' }));

    const notifyFinished = notify('Notify');
    const finishedEvent = publish('Publish event', 'Segpipe Run Finished');
    notifyFinished.next(finishedEvent).next(new sfn.Succeed(this, 'Run finished'));
    const reportDeployed = catchInto(report('Report deployed', 'deployed'), reportFailure);
    reportDeployed.next(notifyFinished);
    const reportNotDeployed = catchInto(report('Report not deployed', 'not-deployed'), reportFailure);
    reportNotDeployed.next(notifyFinished);
    const reportNotPromoted = catchInto(report('Report not promoted', 'not-promoted'), reportFailure);
    reportNotPromoted.next(notifyFinished);

    // Notifications, and the failure report, end a run and have nowhere to fail to: they retry instead.
    for (const state of [notifyFinished, finishedEvent, notifyFailure, failureEvent, reportFailure]) {
      state.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });
    }
    // A notification SNS refuses (or that keeps failing) must not lose the run's event and end: the
    // event, and the execution's status, follow either way, with the refusal under `$.notificationError`.
    notifyFinished.addCatch(finishedEvent, { errors: ['States.ALL'], resultPath: '$.notificationError' });
    notifyFailure.addCatch(failureEvent, { errors: ['States.ALL'], resultPath: '$.notificationError' });
    this.startState = reportDeployed;
    this.notDeployed = reportNotDeployed;
    this.notPromoted = reportNotPromoted;
    this.failed = reportFailure;
  }
}
