import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Template } from 'aws-cdk-lib/assertions';
import { S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import type { SegpipeStack } from '../../lib/segpipe-stack';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../local/embedded-s3-server';
import {
  ARTIFACTS_BUCKET,
  INBOX_BUCKET,
  type LocalWorkflow,
  type LocalWorkflowOverrides,
  prepareLocalWorkflow,
} from '../../local/local-workflow';
import type { TrueLabels } from '../../local/simulated-workforce';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import type { AslDefinition, runWorkflow, TaskHandler } from '../../local/workflow-runner';
import { FakeRuntime } from './fake-runtime';

export { ARTIFACTS_BUCKET, INBOX_BUCKET };

export interface WorkflowHarness {
  readonly stack: SegpipeStack;
  readonly template: Template;
  readonly definition: AslDefinition;
  readonly server: EmbeddedS3Server;
  readonly store: S3ObjectStore;
  /** The endpoint's runtime the evaluation calls: tests say how each variant answers. */
  readonly runtime: FakeRuntime;
  /** The real handlers, by the name of the Lambda state that invokes them. */
  readonly lambdaStates: Record<string, TaskHandler>;
  /** The real start Lambda: uploads' events start runs through it. */
  readonly startRun: LocalWorkflow['startRun'];
  /** Runs one execution; `fakes` answer the non-Lambda tasks by state name. */
  run(options: { input: unknown; executionName: string; fakes: Record<string, TaskHandler> }): ReturnType<typeof runWorkflow>;
  close(): Promise<void>;
}

/** The local run's workflow (the synthesized definition, the real handlers) on a fresh embedded S3 server. */
export async function startWorkflowHarness(rawConfig: unknown, overrides: LocalWorkflowOverrides = {}): Promise<WorkflowHarness> {
  const server = await startEmbeddedS3Server({ buckets: [INBOX_BUCKET, ARTIFACTS_BUCKET] });
  const runtime = new FakeRuntime();
  const workflow = await prepareLocalWorkflow(rawConfig, server, {
    ...overrides,
    environment: { SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT: await runtime.start(), SEGPIPE_NO_CLOUDWATCH: '1', ...overrides.environment },
  });
  const store = new S3ObjectStore(server.client());
  // A test that fails (or times out) may leave executions running: the server would wait for their
  // connections (kept alive for minutes), and Jest for the server.
  const running = new Map<AbortController, Promise<unknown>>();
  return {
    ...workflow,
    server,
    store,
    runtime,
    run: ({ input, executionName, fakes }) => {
      const controller = new AbortController();
      const outcome = workflow.run({ input, executionName, tasks: fakes, signal: controller.signal });
      running.set(controller, outcome);
      const done = () => running.delete(controller);
      outcome.then(done, done);
      return outcome;
    },
    close: async () => {
      for (const controller of running.keys()) controller.abort();
      await Promise.allSettled(running.values());
      store.client.destroy();
      await runtime.close();
      await server.close();
    },
  };
}

/**
 * Uploads `count` synthetic 64×48 photos to `images/<batch>/` (names with a space, as users have),
 * records their true labels in `truth` for the simulated workforce, and returns their URIs.
 */
export async function uploadSyntheticBatch(
  harness: WorkflowHarness,
  truth: Map<string, TrueLabels>,
  batch: string,
  count: number,
  seed: number,
): Promise<string[]> {
  const client = harness.server.client();
  const images: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const scene = renderSyntheticScene(seed + i, 64, 48);
      const key = `images/${batch}/photo ${i}.jpg`;
      const jpeg = await sceneToJpeg(scene);
      await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: key, Body: jpeg }));
      images.push(`s3://${INBOX_BUCKET}/${key}`);
      truth.set(images[i], { width: 64, height: 48, classIndices: scene.classIndices });
      harness.runtime.truthByImage.set(FakeRuntime.hash(jpeg), truth.get(images[i])!);
    }
  } finally {
    client.destroy();
  }
  return images;
}
