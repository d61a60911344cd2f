import { S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import { startEmbeddedS3Server } from '../../local/embedded-s3-server';

/**
 * An embedded S3 server with `buckets` for the tests of the enclosing `describe`: started before
 * them, closed after. `s3.store` is valid inside the tests.
 */
export function useEmbeddedS3(buckets: readonly string[]): { readonly store: S3ObjectStore } {
  const context = {} as { store: S3ObjectStore; close: () => Promise<void> };
  beforeAll(async () => {
    const server = await startEmbeddedS3Server({ buckets });
    context.store = new S3ObjectStore(server.client());
    context.close = () => server.close();
  });
  afterAll(async () => {
    context.store?.client.destroy();
    await context.close?.();
  });
  return {
    get store() {
      return context.store;
    },
  };
}
