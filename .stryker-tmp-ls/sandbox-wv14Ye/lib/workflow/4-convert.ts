import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { catchInto, invokeHandler } from './states';

export interface ConvertProps {
  readonly planConversion: lambda.IFunction;
  readonly convertChunk: lambda.IFunction;
  readonly assembleChannels: lambda.IFunction;
  /** Conversion Lambdas running at once. */
  readonly maxConcurrency: number;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * The labels' export into the dataset and the run's channels: plan the chunks, convert them in a
 * Distributed Map, then write and check the channel manifests before any GPU is paid for. A chunk
 * whose Lambda fails is caught in the map and reported by entry; the channel check decides whether
 * the run can go on without it (`conversion.maxFailedChunkPercent`).
 */
export class Convert extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: ConvertProps) {
    super(scope, id);
    const plan = catchInto(
      invokeHandler(
        this,
        'Plan conversion',
        props.planConversion,
        {
          'runId.$': '$.run.runId',
          'export.$': '$.conversion.export',
          'batch.$': '$.run.batch',
          'labelStudioRound.$': '$.conversion.labelStudioRound',
          'labelStudioFiles.$': '$.conversion.labelStudioFiles',
        },
        '$.plan',
      ),
      props.onFailure,
    );
    // The chunks' descriptors are in the state: the plan keeps them under 1,000 (see MAX_CHUNKS).
    const convertChunks = new sfn.DistributedMap(this, 'Convert chunks', {
      itemsPath: '$.plan.chunks',
      itemSelector: {
        'runId.$': '$.run.runId',
        'export.$': '$.plan.export',
        'exportVersion.$': '$.plan.exportVersion',
        'batch.$': '$.run.batch',
        'labelStudioRound.$': '$.conversion.labelStudioRound',
        'labelStudioFiles.$': '$.conversion.labelStudioFiles',
        'chunk.$': '$$.Map.Item.Value',
        'classes.$': '$.plan.classes',
      },
      maxConcurrency: props.maxConcurrency,
      resultPath: '$.chunks',
    });
    const convertChunk = invokeHandler(
      this,
      'Convert chunk',
      props.convertChunk,
      {
        'runId.$': '$.runId',
        'export.$': '$.export',
        'exportVersion.$': '$.exportVersion',
        'batch.$': '$.batch',
        'labelStudioRound.$': '$.labelStudioRound',
        'labelStudioFiles.$': '$.labelStudioFiles',
        'chunk.$': '$.chunk',
        'classes.$': '$.classes',
      },
      '$',
    );
    // Only the error's name enters the map's result: hundreds of whole causes (a stack trace each)
    // would pass the execution state's 256 KiB, and JSONPath cannot cut a string. The cause is in
    // the chunk Lambda's log.
    convertChunk.addCatch(
      new sfn.Pass(this, 'Chunk failed', {
        parameters: { 'index.$': '$.chunk.index', 'first.$': '$.chunk.first', 'last.$': '$.chunk.last', 'error.$': '$.error.Error' },
      }),
      { errors: [sfn.Errors.ALL], resultPath: '$.error' },
    );
    convertChunks.itemProcessor(convertChunk);
    catchInto(convertChunks, props.onFailure);
    const assemble = catchInto(
      invokeHandler(
        this,
        'Assemble channels',
        props.assembleChannels,
        {
          'runId.$': '$.run.runId',
          'batch.$': '$.run.batch',
          'chunks.$': '$.chunks',
          'classes.$': '$.plan.classes',
        },
        '$.channels',
      ),
      props.onFailure,
    );
    plan.next(convertChunks).next(assemble);
    this.startState = plan;
    this.endStates = [assemble];
  }
}
