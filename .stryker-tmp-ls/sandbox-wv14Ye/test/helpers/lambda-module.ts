import type { HandlerName, HandlerSettings } from '../../lambda/common/settings';
import { S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import { handlerS3Environment, startEmbeddedS3Server } from '../../local/embedded-s3-server';

/**
 * Handler modules loaded as Lambda loads them, for the tests of the enclosing `describe`: an embedded
 * S3 server with `buckets` that the handlers' shared S3 client (`lambda/common/runtime.ts`) points at,
 * and `load`, which imports a handler module with its settings in `SEGPIPE_SETTINGS` (each module
 * reads them once, when it is first imported, as at a cold start). `store` reads and writes the same
 * buckets for the test; `logged` is what the handlers logged during the current test (kept off the terminal).
 */
export function useLambdaEnvironment(buckets: readonly string[]): {
  readonly store: S3ObjectStore;
  /** The JSON log lines the current test's handlers wrote, parsed. */
  logged(): Record<string, unknown>[];
  load<N extends HandlerName, M>(name: N, settings: HandlerSettings<N>, importModule: () => Promise<M>): Promise<M>;
  /** The same in a module registry of its own: a second cold start of a handler, with other settings. */
  loadFresh<N extends HandlerName, M>(name: N, settings: HandlerSettings<N>, importModule: () => Promise<M>): Promise<M>;
} {
  const context = { lines: [] } as unknown as { store: S3ObjectStore; close: () => Promise<void>; lines: string[] };
  beforeAll(async () => {
    const server = await startEmbeddedS3Server({ buckets });
    context.store = new S3ObjectStore(server.client());
    context.close = () => server.close();
    Object.assign(process.env, {
      ...handlerS3Environment(server),
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });
  // The log lines of each test, kept from the terminal: what a handler logs is part of what it does.
  // Powertools writes INFO lines to stdout and WARN and ERROR lines to stderr.
  let writes: jest.SpyInstance[] = [];
  beforeEach(() => {
    context.lines = [];
    writes = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        context.lines.push(
          ...String(chunk)
            .split('\n')
            .filter((line) => line.startsWith('{')),
        );
        return true;
      }),
    );
  });
  afterEach(() => {
    for (const write of writes) write.mockRestore();
  });
  afterAll(async () => {
    context.store?.client.destroy();
    await context.close?.();
  });
  return {
    get store() {
      return context.store;
    },
    logged: () => context.lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async load(_name, settings, importModule) {
      process.env.SEGPIPE_SETTINGS = JSON.stringify(settings);
      return importModule();
    },
    async loadFresh(_name, settings, importModule) {
      process.env.SEGPIPE_SETTINGS = JSON.stringify(settings);
      let loaded: Awaited<ReturnType<typeof importModule>> | undefined;
      await jest.isolateModulesAsync(async () => {
        loaded = await importModule();
      });
      return loaded as Awaited<ReturnType<typeof importModule>>;
    },
  };
}

/**
 * What `run` logged, as JSON lines parsed, and what it returned or threw; kept off the terminal.
 * Powertools writes INFO and DEBUG lines to stdout, WARN and ERROR lines to stderr.
 */
export async function withLogs<T>(run: () => Promise<T>): Promise<{ result?: T; error?: unknown; logged: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const writes = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line.startsWith('{')),
      );
      return true;
    }),
  );
  try {
    return { result: await run(), logged: lines.map((line) => JSON.parse(line)) };
  } catch (error) {
    return { error, logged: lines.map((line) => JSON.parse(line)) };
  } finally {
    for (const write of writes) write.mockRestore();
  }
}
