/** The part of an AWS SDK v3 client's resolved configuration that fails when nothing is configured. */
interface ConfiguredClient {
  readonly config: { region: () => Promise<string>; credentials: () => Promise<unknown> };
}

/**
 * Resolves a client's region and credentials before any work, so that a missing one is one line
 * naming the fix instead of the SDK's "Region is missing" or "Could not load credentials" per request.
 * `endpointUrl` marks an S3-compatible or local server, whose keys are its own.
 */
export async function checkRegionAndCredentials(client: ConfiguredClient, endpointUrl?: string): Promise<void> {
  try {
    await client.config.region();
  } catch {
    throw new Error('no AWS region: pass --region (e.g. --region eu-west-1) or set AWS_REGION');
  }
  try {
    await client.config.credentials();
  } catch {
    throw new Error(
      endpointUrl
        ? `no credentials for ${endpointUrl}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to that server's keys (the local run's S3 server takes any, e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)`
        : 'no AWS credentials: run `aws configure` (or `aws sso login --profile <name>` and set AWS_PROFILE), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
}
