/**
 * LOCAL STAND-IN for what the Lambda service and EventBridge hand a segpipe function: an invocation's
 * context, and S3's "Object Created" event as EventBridge delivers it (shape from the Amazon S3 User
 * Guide, "EventBridge event message structure"). The local run, the benchmarks and the tests invoke
 * the real handlers with these.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { ObjectCreatedEvent } from '../lambda/handlers/start-run';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './workflow-runner';

/** A handler module as Lambda loads it. */
export interface LambdaModule {
  readonly handler: (event: unknown, context: Context) => Promise<unknown>;
}

/** A context like Lambda's for one invocation of `functionName`, whose time runs out `timeoutSeconds` after it is made. */
export function lambdaContext(functionName: string, timeoutSeconds = 900): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const fail = () => {
    throw new Error('LOCAL STAND-IN: the callback API of the Lambda context is not used by segpipe');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '2048',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

/**
 * S3's event for an object created in `bucket`: `key` as S3 writes it in events (URL-encoded, spaces
 * as `+`) when `encodeKey`, as given otherwise; `time` cut to the second as S3 stamps it.
 */
export function objectCreatedEvent(
  bucket: string,
  key: string,
  options: { readonly time?: string; readonly encodeKey?: boolean } = {},
): ObjectCreatedEvent {
  const eventKey = options.encodeKey ? encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') : key;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: LOCAL_ACCOUNT,
    time: options.time ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key: eventKey, size: 1, etag: 'local', sequencer: '0' },
      'request-id': 'local',
      requester: LOCAL_ACCOUNT,
      reason: 'PutObject',
    },
  };
}
