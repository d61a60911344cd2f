import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { HandlerFunction } from '../handler-function';
import { catchInto, invokeHandler } from './states';

export interface ConvertProps {
  readonly planConversion: HandlerFunction;
  readonly convertChunk: HandlerFunction;
  readonly assembleChannels: HandlerFunction;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * The labeled manifest into the dataset and the run's channels: plan the chunks, convert them in a
 * Distributed Map, then assemble and check the channels before any GPU is paid for.
 */
export class Convert extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: ConvertProps) {
    super(scope, id);
    const plan = catchInto(invokeHandler(this, 'Plan conversion', props.planConversion, { 'runId.$': '$.run.runId', 'manifest.$': '$.conversion.manifest' }, '$.plan'), props.onFailure);
    const convertChunks = new sfn.DistributedMap(this, 'Convert chunks', {
      itemsPath: '$.plan.chunks',
      itemSelector: { 'runId.$': '$.run.runId', 'chunk.$': '$$.Map.Item.Value', 'classes.$': '$.plan.classes' },
      maxConcurrency: 10,
      resultPath: '$.chunks',
    });
    convertChunks.itemProcessor(invokeHandler(this, 'Convert chunk', props.convertChunk, { 'runId.$': '$.runId', 'chunk.$': '$.chunk', 'classes.$': '$.classes' }, '$'));
    catchInto(convertChunks, props.onFailure);
    const assemble = catchInto(invokeHandler(this, 'Assemble channels', props.assembleChannels, { 'runId.$': '$.run.runId', 'chunks.$': '$.chunks' }, '$.channels'), props.onFailure);
    plan.next(convertChunks).next(assemble);
    this.startState = plan;
    this.endStates = [assemble];
  }
}
