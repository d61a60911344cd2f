import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import { DEPLOY_LOCK_KEY } from '../../lambda/workflow/deploy-lock';
import type { RunReport } from '../../lambda/workflow/run-report';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../local/embedded-s3-server';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../local/ground-truth-output';
import { LocalSageMaker } from '../../local/local-sagemaker';
import { ARTIFACTS_BUCKET, INBOX_BUCKET, prepareLocalWorkflow } from '../../local/local-workflow';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import type { TaskHandler, WorkflowOutcome } from '../../local/workflow-runner';

/**
 * Two imports at once, through the state machine cdk deploy ships, the real handlers, the embedded S3
 * server and the SageMaker stand-in (which refuses an endpoint change while one is under way, as
 * SageMaker does): one deploys at a time, the second is evaluated against the model the first left
 * serving, and the better one serves.
 */
describe('two imports at once (local stand-ins)', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  let sagemaker: LocalSageMaker;
  const dataDir = mkdtempSync(join(tmpdir(), 'segpipe-concurrent-'));

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: [INBOX_BUCKET, ARTIFACTS_BUCKET], directory: join(dataDir, 's3') });
    store = new S3ObjectStore(server.client());
    sagemaker = new LocalSageMaker({ store, truthOf: () => undefined, log: () => undefined });
  });
  afterAll(async () => {
    await sagemaker.close();
    store.client.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A Ground Truth export of `count` synthetic scenes under labeled/<batch>/, its images under images/<batch>/. */
  async function uploadExport(batch: string, seed: number, count: number): Promise<string> {
    const classes = labelingClasses(['turtle', 'rock']);
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const scene = renderSyntheticScene(seed + i, 96, 72);
      await store.write(`s3://${INBOX_BUCKET}/images/${batch}/${i}.jpg`, await sceneToJpeg(scene), 'image/jpeg');
      await store.write(
        `s3://${INBOX_BUCKET}/labeled/${batch}/masks/${i}.png`,
        groundTruthMaskPng(scene.classIndices, 96, 72, classes),
        'image/png',
      );
      lines.push(
        JSON.stringify(
          groundTruthManifestLine({
            source: `s3://${INBOX_BUCKET}/images/${batch}/${i}.jpg`,
            mask: `s3://${INBOX_BUCKET}/labeled/${batch}/masks/${i}.png`,
            attribute: 'job-ref',
            jobName: 'job',
            classes,
          }),
        ),
      );
    }
    const key = `labeled/${batch}/output.manifest`;
    await store.write(`s3://${INBOX_BUCKET}/${key}`, Buffer.from(`${lines.join('\n')}\n`), 'application/x-ndjson');
    return `s3://${INBOX_BUCKET}/${key}`;
  }

  test("one deploys at a time; the second is compared with the first one's model, and the better one serves", async () => {
    const endpointUrl = await sagemaker.start();
    const workflow = await prepareLocalWorkflow(
      { labelClasses: ['turtle', 'rock'], split: { validationFraction: 0.3 }, training: { minSamples: 2, epochs: 2 } },
      server,
      {
        environment: { SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT: endpointUrl, SEGPIPE_NO_CLOUDWATCH: '1' },
      },
    );
    const ok: TaskHandler = async () => ({ MessageId: 'local', FailedEntryCount: 0, Entries: [] });
    const standIns = sagemaker.tasks(workflow.definition);
    // The runs overlap for certain, not by the scheduler's luck: the first to hold the deploy lock
    // creates its model only once the other run has found the lock taken and waits for it.
    let otherWaits: () => void = () => undefined;
    const otherWaiting = new Promise<void>((resolve) => {
      otherWaits = resolve;
    });
    let gated = false;
    const createModel: TaskHandler = async (input) => {
      if (!gated) {
        gated = true;
        let timer: NodeJS.Timeout | undefined;
        const noWait = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the other run never waited for the deploy lock')), 120_000);
        });
        await Promise.race([otherWaiting, noWait]).finally(() => clearTimeout(timer));
      }
      return standIns['Create model'](input);
    };
    const tasks: Record<string, TaskHandler> = {
      'Check training quota': async () => ({ message: 'local run: quota not checked' }),
      Notify: ok,
      'Notify failure': ok,
      'Notify tasks ready': ok,
      'Publish event': ok,
      'Publish failure event': ok,
      ...standIns,
      'Create model': createModel,
    };
    const exports = { beach: await uploadExport('beach', 4000, 10), reef: await uploadExport('reef', 5000, 10) };
    const taken: string[] = [];
    const run = (batch: 'beach' | 'reef') =>
      workflow.run({
        input: { batch, export: exports[batch] },
        executionName: `${batch}-import-1`,
        tasks,
        waitSeconds: 0.2,
        onState: (state) => {
          if (state === 'Create model') taken.push(batch);
          if (state === 'Wait for deploy lock') otherWaits();
        },
      });
    const outcomes: Record<string, WorkflowOutcome> = Object.fromEntries(
      await Promise.all((['beach', 'reef'] as const).map(async (b) => [b, await run(b)])),
    );
    for (const outcome of Object.values(outcomes))
      expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
    // One of them waited for the other's deploy to end.
    expect(Object.values(outcomes).some((o) => o.path.includes('Wait for deploy lock'))).toBe(true);
    const reports: Record<string, RunReport> = {};
    for (const batch of ['beach', 'reef'])
      reports[batch] = JSON.parse((await store.read(`s3://${ARTIFACTS_BUCKET}/runs/${batch}-import-1/report.json`)).toString());
    const [first, second] = taken as ('beach' | 'reef')[];
    expect(reports[first].evaluation?.champion).toBeUndefined();
    // The run that waited met the model the first deployed, and both were scored on the same images.
    const firstVariant = reports[first].evaluation!.challenger.variant;
    expect(reports[second].evaluation?.champion?.variant).toBe(firstVariant);
    const endpoint = [...sagemaker.endpoints.values()][0];
    expect(endpoint.status).toBe('InService');
    const serving = endpoint.variants.map((v) => v.name);
    expect(serving).toEqual([reports[second].evaluation!.promote ? reports[second].evaluation!.challenger.variant : firstVariant]);
    expect(reports[second].status).toBe(reports[second].evaluation!.promote ? 'deployed' : 'not-promoted');
    // Both released the lock.
    expect(await store.readStart(`s3://${ARTIFACTS_BUCKET}/${DEPLOY_LOCK_KEY}`, 1)).toBeUndefined();
  }, 300_000);
});
