import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

/** A client for the real SageMaker runtime, or for the local run's endpoint, which needs no credentials. */
export function runtimeClientFor(options: { region?: string; endpointUrl?: string }): SageMakerRuntimeClient {
  const local = options.endpointUrl !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(options.endpointUrl);
  return new SageMakerRuntimeClient({
    region: options.region ?? process.env.AWS_REGION ?? (local ? 'us-east-1' : undefined),
    endpoint: options.endpointUrl,
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}

/**
 * Resolves the client's region and credentials before any image is sent, so that a missing one is
 * one line naming the fix, not the SDK's "Region is missing" for every image.
 */
export async function checkRegionAndCredentials(client: SageMakerRuntimeClient): Promise<void> {
  try {
    await client.config.region();
  } catch {
    throw new Error('no AWS region: pass --region (e.g. --region eu-west-1) or set AWS_REGION, as for the region the stack was deployed to');
  }
  try {
    await client.config.credentials();
  } catch {
    throw new Error('no AWS credentials: run `aws configure` (or `aws sso login --profile <name>` and set AWS_PROFILE), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
}
