/** Error names AWS services use for throttling. */
const THROTTLING_NAMES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'ProvisionedThroughputExceededException']);

interface AwsError {
  readonly name?: string;
  readonly message?: string;
  readonly $retryable?: { readonly throttling?: boolean };
}

export function isThrottling(err: unknown): boolean {
  const error = err as AwsError | undefined;
  return THROTTLING_NAMES.has(error?.name ?? '') || error?.$retryable?.throttling === true;
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

export interface RetryOptions {
  /** Tries in all, the first included. @default 6 */
  readonly attempts?: number;
  /** Delay before the first retry; each later one doubles it, with full jitter. @default 500 */
  readonly baseDelayMs?: number;
}

/**
 * Calls `call`, retrying throttling with exponential backoff and full jitter. The SDK retries too,
 * but a sweep over many resources outlasts its few attempts when an account is busy.
 */
export async function withThrottlingRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isThrottling(err) || attempt >= attempts) throw err;
      const delay = Math.random() * baseDelayMs * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
