/**
 * What every segpipe Lambda shares once per container: the logger, the S3 clients, and the wrapper
 * that parses an invocation's event and puts its request context into each log line.
 */
// @ts-nocheck

import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createS3Client, S3ObjectStore } from '../convert/stores/s3-object-store';
import { type HandlerEvent, parseEvent } from './handler-events';
import { SCRATCH_OBJECT_TAG } from './retention';
import type { HandlerName } from './settings';

export const logger = new Logger({ serviceName: 'segpipe' });

// SEGPIPE_S3_ENDPOINT is set only by the local run and the tests, to point at the embedded S3 server.
const s3Client = createS3Client({ endpoint: process.env.SEGPIPE_S3_ENDPOINT || undefined });
/** Object storage for the handlers: one S3 client per container. */
export const store = new S3ObjectStore(s3Client);
/** The same, tagging what it writes as run scratch data that the bucket's lifecycle rule expires. */
export const scratchStore = new S3ObjectStore(s3Client, { tagging: `${SCRATCH_OBJECT_TAG.key}=${SCRATCH_OBJECT_TAG.value}` });

/** A Lambda entry point: the event it was handed and the invocation's context. */
export type LambdaHandler<R> = (event: unknown, context: Context) => Promise<R>;

/**
 * The entry point of the handler `name` over `handle`: the event is parsed with the handler's schema
 * first (`HANDLER_EVENTS`: a payload that does not fit fails the invocation with an `EventError` before
 * anything is read or written), each log line carries the invocation's request context (Powertools'
 * `injectLambdaContext`), and keys a handler appends to the logger hold for its own invocation only.
 */
export function lambdaHandler<N extends HandlerName, R>(
  name: N,
  handle: (event: HandlerEvent<N>, context: Context) => Promise<R>,
): LambdaHandler<R> {
  return middy((event: unknown, context: Context) => handle(parseEvent(name, event), context)).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
}
