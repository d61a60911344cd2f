/**
 * What each segpipe Lambda is handed, as schemas: the state machine's payloads, and the AWS events
 * (EventBridge, CloudFormation) in Powertools' own schemas of them. A handler parses its event before it
 * reads or writes anything (`lambdaHandler` of `runtime.ts`); a payload that does not fit fails with an
 * `EventError` naming every problem. Each schema is checked against the type its module declares, so
 * the two cannot drift apart.
 */
// @ts-nocheck

import {
  CloudFormationCustomResourceCreateSchema,
  CloudFormationCustomResourceDeleteSchema,
  CloudFormationCustomResourceUpdateSchema,
  EventBridgeSchema,
  S3EventNotificationEventBridgeSchema,
} from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import type { RunEvaluationEvent } from '../evaluation/run-evaluation';
import type { TaskChunk, TaskChunkSummary } from '../labelstudio/workflow-tasks';
import type { ChunkResult, ClassListRef, ConversionChunk } from '../workflow/dataset';
import type { ExecutionStatusChange } from '../workflow/run-ended';
import type { RunState, RunStatus } from '../workflow/run-report';
import type { HandlerName } from './settings';
import { quoted } from './untrusted-text';

const name = z.string().min(1);
const whole = z.int().nonnegative();
const s3Uri = z.string().regex(/^s3:\/\/[^/]+\/.+/s, 'must be an s3://bucket/key URI');
/** Step Functions passes an absent optional value as `''` where a parameter is always set. */
const optionalName = z.string().optional();

// The parts typed by a module's interface are read loosely: a field the module gains later reaches it
// even before its schema names it (the type annotation on each schema catches only the required ones).
const classListRef: z.ZodType<ClassListRef> = z.looseObject({
  location: s3Uri,
  version: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits'),
  count: z.int().positive(),
});
const conversionChunk: z.ZodType<ConversionChunk> = z.looseObject({ index: whole, first: whole, last: whole });
const chunkResult: z.ZodType<ChunkResult> = z.union([
  z.looseObject({ index: whole, converted: whole, skipped: whole }),
  z.looseObject({ index: whole, first: whole, last: whole, error: z.string(), cause: z.string().optional() }),
]);

/** An execution's input, as the start Lambda writes it or a person types it. */
const runInput = z
  .object({
    batch: name,
    /** Images to label (a run started by hand); or */
    images: z.array(s3Uri).optional(),
    /** a batch snapshot's input manifest of the images to label, and their number; */
    imagesManifest: s3Uri.optional(),
    imageCount: whole.optional(),
    /** the batch generation the snapshot took; or */
    generation: whole.optional(),
    /** labels made elsewhere, imported (any export `segpipe convert` reads), and the generation of its uploads the run took; */
    export: s3Uri.optional(),
    importGeneration: whole.optional(),
    /** a batch's Label Studio corrections generation, and the list of the target-storage files its run converts; */
    correctionsGeneration: whole.optional(),
    labelStudioFiles: s3Uri.optional(),
    /** the same, as runs started by earlier versions name it. */
    manifest: s3Uri.optional(),
  })
  .refine((input) => input.imagesManifest === undefined || input.imageCount !== undefined, {
    message: 'an imagesManifest needs its imageCount',
    path: ['imageCount'],
  });

const runStatus: z.ZodType<RunStatus> = z.enum(['deployed', 'not-deployed', 'not-promoted', 'failed']);

/** The execution state the report reads; each part is there once its step has run, and is read as loosely as the report reads it. */
const runState: z.ZodType<RunState> = z.looseObject({
  batch: z.string().optional(),
  generation: whole.optional(),
  imagesManifest: z.string().optional(),
  imageCount: whole.optional(),
  export: z.string().optional(),
  importGeneration: whole.optional(),
  correctionsGeneration: whole.optional(),
  run: z.looseObject({ runId: z.string(), batch: z.string(), mode: z.string(), names: z.record(z.string(), z.string()) }).optional(),
  channels: z
    .looseObject({
      numClasses: whole,
      numTrainingSamples: whole,
      numValidationSamples: whole,
      converted: whole,
      skipped: whole,
      skippedItems: z.array(z.looseObject({ line: whole, source: z.string().nullable(), reason: z.string() })),
      classes: z.array(z.string()),
    })
    .optional(),
  labeling: z
    .looseObject({ LabelingJobName: z.string().optional(), LabelCounters: z.record(z.string(), z.number()).optional() })
    .optional(),
  annotations: z.looseObject({ state: z.string().optional(), annotated: whole.optional(), tasks: whole.optional() }).optional(),
  training: z
    .looseObject({
      TrainingJobName: z.string().optional(),
      TrainingTimeInSeconds: z.number().optional(),
      BillableTimeInSeconds: z.number().optional(),
      ModelArtifacts: z.looseObject({ S3ModelArtifacts: z.string().optional() }).optional(),
    })
    .optional(),
  metrics: z.looseObject({ miou: z.array(z.number()).optional(), pixelAccuracy: z.array(z.number()).optional() }).optional(),
  champion: z.looseObject({ config: z.string().optional() }).optional(),
  evaluation: z
    .custom<NonNullable<RunState['evaluation']>>(
      (value) => typeof value === 'object' && value !== null && typeof (value as { reason?: unknown }).reason === 'string',
      'must be an evaluation result',
    )
    .optional(),
  error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

const executionStatusChange: z.ZodType<ExecutionStatusChange> = EventBridgeSchema.extend({
  detail: z.looseObject({
    name,
    status: name,
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
    startDate: z.number().nullish(),
    stopDate: z.number().nullish(),
  }),
});

/** The schedule's event, or an endpoint's change of state (the rule passes only `Failed` ones). */
const cleanupEvent = z.union([
  EventBridgeSchema.extend({
    'detail-type': z.literal('SageMaker Endpoint State Change'),
    detail: z.looseObject({ EndpointName: name, EndpointStatus: name }),
  }),
  EventBridgeSchema.extend({ 'detail-type': z.literal('Scheduled Event') }),
]);

const runEvaluationEvent: z.ZodType<RunEvaluationEvent> = z.looseObject({
  runId: name,
  trainingJob: name,
  classes: z.array(z.string()).min(2),
  challenger: name,
  champion: optionalName,
  championImage: optionalName,
  challengerImage: optionalName,
});

const taskChunk: z.ZodType<TaskChunk> = z.looseObject({ index: whole });
const counts = z.record(z.string(), whole);
const taskChunkProgress: z.ZodType<Partial<TaskChunkSummary>> = z.looseObject({
  next: whole.optional(),
  predicted: whole.optional(),
  noPrediction: counts.optional(),
  reasons: counts.optional(),
});

/** Each handler's event, by its file name under `lambda/handlers/`. */
export const HANDLER_EVENTS = {
  'start-run': S3EventNotificationEventBridgeSchema,
  'check-batch': z.object({ batch: name }),
  'snapshot-batch': z.object({ batch: name, generation: whole }),
  'take-import-turn': z.object({ batch: name, export: s3Uri, generation: whole }),
  'take-corrections-turn': z.object({ runId: name, batch: name, generation: whole }),
  'prepare-run': z.object({ runId: name, input: runInput }),
  'write-labelstudio-tasks': z.object({
    runId: name,
    batch: name,
    round: name,
    chunk: taskChunk,
    /** Where the chunk stands: the previous invocation's summary (`{ next: 0 }` at first). */
    progress: taskChunkProgress.optional(),
  }),
  'count-annotations': z.object({ runId: name, batch: name, round: name, tasks: whole, since: z.iso.datetime({ offset: true }) }),
  // Invoked with the state machine's state, which it does not read.
  'check-quota': z.unknown(),
  'check-budget': z.object({ images: whole, mode: z.enum(['label', 'import']) }),
  'plan-conversion': z.object({
    runId: name,
    export: s3Uri,
    batch: optionalName,
    labelStudioRound: optionalName,
    labelStudioFiles: optionalName,
  }),
  'convert-chunk': z.object({
    runId: name,
    export: s3Uri,
    batch: optionalName,
    labelStudioRound: optionalName,
    labelStudioFiles: optionalName,
    chunk: conversionChunk,
    classes: classListRef,
    // Empty for an export that is a prefix (Label Studio's target storage): no one ETag pins it.
    exportVersion: z.string(),
  }),
  'assemble-channels': z.object({ runId: name, batch: optionalName, chunks: z.array(chunkResult), classes: classListRef }),
  'run-ended': executionStatusChange,
  'evaluate-variants': runEvaluationEvent,
  'deploy-lock': z.object({ runId: name }),
  'finish-run': z.object({ status: runStatus, runId: name, state: runState, startedAt: name }),
  'clean-up': cleanupEvent,
  // Powertools' schemas leave out the PhysicalResourceId that CloudFormation sends with an Update and a Delete.
  'tear-down': z.union([
    CloudFormationCustomResourceCreateSchema,
    CloudFormationCustomResourceUpdateSchema.extend({ PhysicalResourceId: name }),
    CloudFormationCustomResourceDeleteSchema.extend({ PhysicalResourceId: name }),
  ]),
} satisfies Record<HandlerName, z.ZodType>;

export type HandlerEvent<N extends HandlerName> = z.output<(typeof HANDLER_EVENTS)[N]>;

/** Thrown when an invocation's event does not fit its handler's schema: nothing was read or written. */
export class EventError extends Error {
  constructor(handler: HandlerName, problems: readonly string[]) {
    super(
      `the ${handler} Lambda's event ${problems.length === 1 ? problems[0] : `has ${problems.length} problems: ${problems.join('; ')}`}`,
    );
    this.name = 'EventError';
  }
}

/** The event of a handler, parsed; every problem is named, with the value that caused it quoted and cut. */
export function parseEvent<N extends HandlerName>(handler: N, event: unknown): HandlerEvent<N> {
  const result = HANDLER_EVENTS[handler].safeParse(event, { reportInput: true });
  if (result.success) return result.data as HandlerEvent<N>;
  throw new EventError(
    handler,
    result.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(the whole event)';
      const text = typeof issue.input === 'string' ? issue.input : JSON.stringify(issue.input);
      const value = text === undefined ? '' : ` (received ${quoted(text, 120)})`;
      return `${where}: ${issue.message}${value}`;
    }),
  );
}
