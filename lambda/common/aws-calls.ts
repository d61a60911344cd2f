interface AwsError {
  readonly name?: string;
  readonly message?: string;
}

/**
 * SageMaker answers a call on a resource that no longer exists (deleted by someone else in the
 * meantime) with a ValidationException "Could not find ..." rather than a typed not-found error.
 */
export function isNotFound(err: unknown): boolean {
  const error = err as AwsError | undefined;
  if (error?.name === 'ResourceNotFound' || error?.name === 'ResourceNotFoundException') return true;
  return error?.name === 'ValidationException' && /could not find|does not exist|not found/i.test(error.message ?? '');
}

export function isAccessDenied(err: unknown): boolean {
  const name = (err as AwsError | undefined)?.name ?? '';
  return name === 'AccessDeniedException' || name === 'AccessDenied';
}

/**
 * Retry settings of segpipe's AWS clients: the SDK's adaptive mode (exponential backoff
 * with jitter, plus a client-side rate limiter that slows the calls down while the service throttles),
 * with more attempts than the default 3, since a sweep over many resources of a busy account
 * outlasts a few.
 */
export const ADAPTIVE_RETRY = { retryMode: 'adaptive', maxAttempts: 8 } as const;
