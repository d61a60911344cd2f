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
