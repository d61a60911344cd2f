import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readChannelManifest } from '../../lambda/workflow/channel-manifest';
import { resourcePrefix } from '../../lambda/workflow/names';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../local/ground-truth-output';
import type { TrueLabels } from '../../local/simulated-workforce';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import type { TaskHandler } from '../../local/workflow-runner';
import { CHAMPION, ENDPOINT, fakes } from '../helpers/workflow-fakes';
import {
  ARTIFACTS_BUCKET,
  INBOX_BUCKET,
  startWorkflowHarness,
  uploadSyntheticBatch,
  type WorkflowHarness,
} from '../helpers/workflow-harness';

/** The harness's stack's SageMaker prefix (`Segpipe`, lib/synthesize.ts). */
const PREFIX = resourcePrefix('Segpipe');

const CONFIG = {
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/turtle-team' },
  split: { validationFraction: 0.3 },
  training: { minSamples: 2 },
};
describe('the run workflow, executed locally from the synthesized definition', () => {
  let harness: WorkflowHarness;
  const truth = new Map<string, TrueLabels>();

  const uploadBatch = (batch: string, count: number, seed: number) => uploadSyntheticBatch(harness, truth, batch, count, seed);

  const report = async (runId: string) =>
    JSON.parse((await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/${runId}/report.json`)).toString('utf8'));

  beforeAll(async () => {
    harness = await startWorkflowHarness(CONFIG);
  });
  afterAll(async () => harness?.close());

  test('first run: labels, converts, trains, passes the gate, creates the endpoint and evaluates the model alone', async () => {
    const images = await uploadBatch('turtles', 14, 100);
    truth.delete(images[13]); // one image no worker labels
    const { tasks, calls } = fakes(harness, truth);
    const outcome = await harness.run({ input: { batch: 'turtles', images }, executionName: 'turtles-1', fakes: tasks });
    expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
    expect(outcome.path).toEqual(
      expect.arrayContaining([
        'Prepare run',
        'Label',
        'Use labeling output',
        'Plan conversion',
        'Convert chunks',
        'Convert chunk',
        'Assemble channels',
        'Train',
        'Read metrics',
        'Create model',
        'Create endpoint config',
        'Find endpoint',
        'Create endpoint',
        'Wait for endpoint',
        'Describe endpoint',
        'Evaluate model',
        'Report deployed',
        'Notify',
        'Publish event',
        'Run finished',
      ]),
    );
    expect(outcome.path).not.toContain('Add challenger');
    expect(calls['Describe endpoint']).toHaveLength(2);

    const labeling = calls.Label[0] as Record<string, any>;
    expect(labeling).toMatchObject({
      LabelAttributeName: 'segmentation-ref',
      RoleArn: expect.stringContaining('GroundTruthRole'),
      HumanTaskConfig: {
        WorkteamArn: CONFIG.workforce.workteamArn,
        PreHumanTaskLambdaArn: 'arn:aws:lambda:us-east-1:432418664414:function:PRE-SemanticSegmentation',
        AnnotationConsolidationConfig: {
          AnnotationConsolidationLambdaArn: 'arn:aws:lambda:us-east-1:432418664414:function:ACS-SemanticSegmentation',
        },
        NumberOfHumanWorkersPerDataObject: 1,
        UiConfig: { UiTemplateS3Uri: `s3://${ARTIFACTS_BUCKET}/runs/turtles-1/labeling/template.liquid` },
      },
    });
    expect(labeling.LabelingJobName).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);

    const training = calls.Train[0] as Record<string, any>;
    expect(training.AlgorithmSpecification).toEqual({
      TrainingImage: '811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1',
      TrainingInputMode: 'File',
    });
    expect(training.ResourceConfig).toMatchObject({ InstanceType: 'ml.p3.2xlarge', InstanceCount: 1 });
    expect(training.HyperParameters).toMatchObject({ num_classes: '3', algorithm: 'fcn', backbone: 'resnet-50', epochs: '30' });
    const rep = await report('turtles-1');
    expect(training.HyperParameters.num_training_samples).toBe(String(rep.counts.train));
    expect(training.InputDataConfig.map((c: { ChannelName: string }) => c.ChannelName)).toEqual([
      'train',
      'validation',
      'train_annotation',
      'validation_annotation',
    ]);
    // Manifest-file channels: the job reads the dataset's objects where they are.
    for (const channel of training.InputDataConfig) {
      expect(channel.DataSource.S3DataSource).toMatchObject({
        S3DataType: 'ManifestFile',
        S3Uri: `s3://${ARTIFACTS_BUCKET}/runs/turtles-1/channels/${channel.ChannelName}.manifest`,
      });
    }
    expect(calls['Create endpoint config'][0]).toMatchObject({
      ProductionVariants: [
        {
          VariantName: expect.stringMatching(new RegExp(`^${PREFIX}-variant-turtles-1-[0-9a-f]{8}$`)),
          InstanceType: 'ml.c5.xlarge',
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
        },
      ],
    });
    expect(calls['Create endpoint'][0]).toMatchObject({ EndpointName: ENDPOINT });

    expect(rep).toMatchObject({
      runId: 'turtles-1',
      batch: 'turtles',
      status: 'deployed',
      endpoint: ENDPOINT,
      classes: ['BACKGROUND', 'turtle', 'rock'],
      counts: { converted: 13, skipped: 1 },
      metrics: { 'validation:mIOU': 0.71, 'validation:pixel_accuracy': 0.93, minimumMiou: 0.5 },
      evaluation: {
        promote: true,
        images: rep.counts.validation,
        challenger: { variant: (calls['Create endpoint config'][0] as any).ProductionVariants[0].VariantName, miou: 1 },
        reportUri: `s3://${ARTIFACTS_BUCKET}/runs/turtles-1/evaluation/report.html`,
        reportConsoleUrl:
          'https://console.aws.amazon.com/s3/object/artifacts?region=us-east-1&bucketType=general&prefix=runs%2Fturtles-1%2Fevaluation%2Freport.html',
      },
    });
    expect(rep.evaluation.champion).toBeUndefined();
    expect(new Set(harness.runtime.requests)).toEqual(new Set([rep.evaluation.challenger.variant]));
    const metrics = JSON.parse((await harness.store.read(rep.evaluation.metricsUri)).toString('utf8'));
    expect(metrics.variants).toHaveLength(1);
    expect(metrics.variants[0]).toMatchObject({ role: 'model', miou: 1, pixelAccuracy: 1 });
    expect((await harness.store.read(rep.evaluation.reportUri)).toString('utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(rep.skippedItems[0]).toMatchObject({ source: images[13], reason: expect.stringMatching(/^labeling failed/) });
    expect(calls.Notify[0]).toMatchObject({ Subject: `segpipe: turtles deployed to ${ENDPOINT}` });
    expect((calls['Publish event'][0] as any).Entries[0]).toMatchObject({
      Source: 'segpipe',
      DetailType: 'Segpipe Run Finished',
      Detail: expect.objectContaining({ status: 'deployed' }),
    });
    expect((calls.Notify[0] as any).Message).toContain(
      `Evaluation report: ${rep.evaluation.reportUri}\n  in the S3 console: ${rep.evaluation.reportConsoleUrl}`,
    );
    expect((calls.Notify[0] as any).Message).not.toMatch(/X-Amz-Signature/i);
    const conversion = JSON.parse(
      (await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/turtles-1/conversion/report.json`)).toString('utf8'),
    );
    for (const item of conversion.items as { name: string; split: 'train' | 'validation' }[]) {
      const images = await readChannelManifest(harness.store, `s3://${ARTIFACTS_BUCKET}/runs/turtles-1/channels/${item.split}.manifest`);
      const masks = await readChannelManifest(
        harness.store,
        `s3://${ARTIFACTS_BUCKET}/runs/turtles-1/channels/${item.split}_annotation.manifest`,
      );
      expect(await harness.store.readStart(`${images.prefix}${images.keys.find((k) => k === `${item.name}.jpg`)}`, 4)).toBeDefined();
      expect(await harness.store.readStart(`${masks.prefix}${masks.keys.find((k) => k === `${item.name}.png`)}`, 4)).toBeDefined();
    }
    expect(await harness.store.list(ARTIFACTS_BUCKET, 'runs/turtles-1/channels/')).toHaveLength(4);
  });

  test('second run: the challenger as good as the champion is promoted, and trains on everything labeled so far', async () => {
    const first = await report('turtles-1');
    const images = await uploadBatch('more-turtles', 8, 300);
    const { tasks, calls } = fakes(harness, truth, { endpointExists: true, endpointStatuses: ['Updating', 'Updating', 'InService'] });
    const outcome = await harness.run({ input: { batch: 'more-turtles', images }, executionName: 'more-turtles-1', fakes: tasks });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.path).toContain('Add challenger');
    expect(outcome.path).toContain('Retire champion');
    expect(outcome.path).not.toContain('Create endpoint');
    const second = await report('more-turtles-1');
    expect(second.counts.train + second.counts.validation).toBe(first.counts.train + first.counts.validation + 8);
    expect((calls.Train[0] as any).HyperParameters.num_training_samples).toBe(String(second.counts.train));
  });

  describe('a challenger on the serving endpoint', () => {
    const trialOf = (calls: Record<string, unknown[]>) =>
      calls['Create trial config'][0] as {
        EndpointConfigName: string;
        ProductionVariants: { VariantName: string; ModelName: string; InitialVariantWeight: number }[];
      };
    afterEach(() => {
      harness.runtime.answer = () => 'truth';
    });

    test('a worse challenger is removed, the champion keeps serving, and the run says why with both scores', async () => {
      const images = await uploadBatch('worse', 4, 2000);
      const { tasks, calls, endpoint } = fakes(harness, truth, { endpointExists: true });
      // The challenger misses every third image.
      harness.runtime.answer = (variant, nth) => (variant !== CHAMPION.variant && nth % 3 === 0 ? 'background' : 'truth');
      const outcome = await harness.run({ input: { batch: 'worse', images }, executionName: 'worse-1', fakes: tasks });
      expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
      const trial = trialOf(calls);
      // The champion's variant as it serves, and the challenger beside it at zero weight.
      expect(trial.ProductionVariants).toEqual([
        expect.objectContaining({ VariantName: CHAMPION.variant, ModelName: CHAMPION.model, InitialVariantWeight: 1 }),
        expect.objectContaining({ VariantName: expect.stringMatching(new RegExp(`^${PREFIX}-variant-worse-1-`)), InitialVariantWeight: 0 }),
      ]);
      expect(outcome.path).toEqual(
        expect.arrayContaining([
          'Add challenger',
          'Evaluate champion and challenger',
          'Remove challenger',
          'Delete trial config',
          'Report not promoted',
        ]),
      );
      expect(outcome.path).not.toContain('Shift traffic to challenger');
      expect(calls['Remove challenger']).toEqual([{ EndpointName: ENDPOINT, EndpointConfigName: CHAMPION.config }]);
      expect(endpoint.config).toBe(CHAMPION.config);
      const rep = await report('worse-1');
      expect(rep).toMatchObject({
        status: 'not-promoted',
        endpoint: ENDPOINT,
        evaluation: {
          promote: false,
          champion: { variant: CHAMPION.variant, miou: 1 },
          challenger: { variant: trial.ProductionVariants[1].VariantName },
        },
      });
      expect(rep.evaluation.challenger.miou).toBeGreaterThan(0.5);
      expect(rep.evaluation.challenger.miou).toBeLessThan(0.99);
      expect(rep.reason).toMatch(
        new RegExp(
          `^challenger ${trial.ProductionVariants[1].VariantName} mIoU 0\\.\\d{3}, champion AllTraffic mIoU 1\\.000 on the same ${rep.evaluation.images} validation images: the challenger is worse by 0\\.\\d{3}, more than the tolerance 0\\.01; the champion keeps serving, the challenger variant was removed$`,
        ),
      );
      expect((calls.Notify[0] as any).Subject).toBe('segpipe: worse trained, not promoted (evaluated on the endpoint)');
      expect((calls.Notify[0] as any).Message).toContain(`Endpoint: ${ENDPOINT} (still serving the champion)`);
      const metrics = JSON.parse((await harness.store.read(rep.evaluation.metricsUri)).toString('utf8'));
      expect(metrics.variants.map((v: { role: string }) => v.role)).toEqual(['champion', 'challenger']);
      expect(metrics.variants[0].perImage.map((i: { name: string }) => i.name)).toEqual(
        metrics.variants[1].perImage.map((i: { name: string }) => i.name),
      );
    });

    test("a better challenger gets all the weight, then the champion's variant is removed", async () => {
      const images = await uploadBatch('better', 4, 2100);
      const { tasks, calls, endpoint } = fakes(harness, truth, { endpointExists: true });
      harness.runtime.answer = (variant) => (variant === CHAMPION.variant ? 'background' : 'truth');
      const outcome = await harness.run({ input: { batch: 'better', images }, executionName: 'better-1', fakes: tasks });
      expect(outcome.status).toBe('SUCCEEDED');
      const at = (state: string) => outcome.path.indexOf(state);
      expect(at('Add challenger')).toBeLessThan(at('Evaluate champion and challenger'));
      expect(at('Evaluate champion and challenger')).toBeLessThan(at('Shift traffic to challenger'));
      expect(at('Shift traffic to challenger')).toBeLessThan(at('Retire champion'));
      const challenger = trialOf(calls).ProductionVariants[1].VariantName;
      expect(endpoint.weights).toEqual([
        { VariantName: CHAMPION.variant, DesiredWeight: 0 },
        { VariantName: challenger, DesiredWeight: 1 },
      ]);
      const rep = await report('better-1');
      expect(endpoint.config).toBe((calls['Create endpoint config'][0] as { EndpointConfigName: string }).EndpointConfigName);
      expect(rep).toMatchObject({
        status: 'deployed',
        evaluation: { promote: true, challenger: { variant: challenger, miou: 1 }, champion: { variant: CHAMPION.variant } },
      });
      // Each variant says which trainer made it: the challenger's image from the stack, the champion's read from its model.
      expect(rep.evaluation.champion.trainer).toBe('built-in Semantic Segmentation algorithm');
      expect(rep.evaluation.challenger.trainer).toBe('built-in Semantic Segmentation algorithm');
      const html = (await harness.store.read(rep.evaluation.reportUri)).toString();
      expect(html.match(/trained by built-in Semantic Segmentation algorithm/g)).toHaveLength(2);
      expect(rep.evaluation.champion.miou).toBeLessThan(0.5);
    });

    test('an evaluation failing midway removes the challenger: the champion serves, the run fails and says why', async () => {
      const images = await uploadBatch('flaky', 4, 2200);
      const { tasks, calls, endpoint } = fakes(harness, truth, { endpointExists: true });
      harness.runtime.answer = (variant, nth) => (variant !== CHAMPION.variant && nth >= 3 ? 'error' : 'truth');
      const outcome = await harness.run({ input: { batch: 'flaky', images }, executionName: 'flaky-1', fakes: tasks });
      expect(outcome).toMatchObject({ status: 'FAILED' });
      expect(outcome.path).toEqual(
        expect.arrayContaining([
          'Evaluate champion and challenger',
          'Remove challenger',
          'Describe endpoint (challenger removed)',
          'Delete trial config',
          'Delete model',
          'Report failure',
        ]),
      );
      expect(outcome.path).not.toContain('Shift traffic to challenger');
      expect(endpoint.config).toBe(CHAMPION.config);
      expect(endpoint.weights).toBeUndefined();
      expect(calls['Delete trial config']).toEqual([{ EndpointConfigName: trialOf(calls).EndpointConfigName }]);
      const rep = await report('flaky-1');
      expect(rep.status).toBe('failed');
      // Refused images are left out and counted; too few left fails the evaluation, naming them.
      expect(rep.reason).toMatch(
        new RegExp(
          `^Error: only 2 of the 5 chosen validation images were answered by every variant, fewer than the 5 needed \\(\\S+ refused by variant ${PREFIX}-variant-flaky-1-[0-9a-f]{8}: variant ${PREFIX}-variant-flaky-1-[0-9a-f]{8} failed on request 3;`,
        ),
      );
      expect((calls['Notify failure'][0] as any).Message).toContain('refused by variant');
    });
  });

  test('import: an existing Ground Truth manifest skips labeling', async () => {
    const client = harness.server.client();
    const classes = labelingClasses(['rock', 'turtle']); // another job's order and colours
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) {
      const scene = renderSyntheticScene(500 + i, 64, 48);
      await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: `images/imported/${i}.jpg`, Body: await sceneToJpeg(scene) }));
      const swapped = Uint8Array.from(scene.classIndices, (c) => [0, 2, 1][c]);
      await client.send(
        new PutObjectCommand({
          Bucket: INBOX_BUCKET,
          Key: `labeled/imported/masks/${i}.png`,
          Body: groundTruthMaskPng(swapped, 64, 48, classes),
        }),
      );
      lines.push(
        JSON.stringify(
          groundTruthManifestLine({
            source: `s3://${INBOX_BUCKET}/images/imported/${i}.jpg`,
            mask: `s3://${INBOX_BUCKET}/labeled/imported/masks/${i}.png`,
            attribute: 'old-job-ref',
            jobName: 'old-job',
            classes,
          }),
        ),
      );
    }
    await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: 'labeled/imported/output.manifest', Body: lines.join('\n') }));
    client.destroy();
    const { tasks, calls } = fakes(harness, truth, { endpointExists: true });
    const outcome = await harness.run({
      input: { batch: 'imported', manifest: `s3://${INBOX_BUCKET}/labeled/imported/output.manifest` },
      executionName: 'imported-1',
      fakes: tasks,
    });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.path).toContain('Use imported labels');
    expect(outcome.path).not.toContain('Label');
    expect(calls.Label).toBeUndefined();
    expect((await report('imported-1')).classes).toEqual(['BACKGROUND', 'turtle', 'rock']);
  });

  test("import: a hostile manifest's lines outside the run's allow-list are skipped with their reason, never read", async () => {
    const client = harness.server.client();
    const classes = labelingClasses(['turtle', 'rock']);
    const put = async (bucket: string, key: string, body: Buffer | string) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const pair = async (seed: number, image: [string, string], mask: [string, string]) => {
      const scene = renderSyntheticScene(seed, 64, 48);
      await put(...image, await sceneToJpeg(scene));
      await put(...mask, groundTruthMaskPng(scene.classIndices, 64, 48, classes));
      return JSON.stringify(
        groundTruthManifestLine({
          source: `s3://${image[0]}/${image[1]}`,
          mask: `s3://${mask[0]}/${mask[1]}`,
          attribute: 'old-job-ref',
          jobName: 'old-job',
          classes,
        }),
      );
    };
    const lines: string[] = [];
    for (let i = 0; i < 6; i++)
      lines.push(await pair(900 + i, [INBOX_BUCKET, `images/hostile/${i}.jpg`], [INBOX_BUCKET, `labeled/hostile/masks/${i}.png`]));
    // Valid pairs the import may not read: another batch's upload, the models, the batches' state, a `..` way out.
    lines.push(await pair(910, [INBOX_BUCKET, 'labeled/someone-else/private.jpg'], [INBOX_BUCKET, 'labeled/hostile/masks/private.png']));
    lines.push(await pair(911, [INBOX_BUCKET, 'images/hostile/ok-image.jpg'], [ARTIFACTS_BUCKET, 'models/secret-mask.png']));
    lines.push(await pair(912, [ARTIFACTS_BUCKET, 'batches/secret.jpg'], [INBOX_BUCKET, 'labeled/hostile/masks/other.png']));
    lines.push(
      await pair(913, [INBOX_BUCKET, 'images/../labeled/someone-else/private.jpg'], [INBOX_BUCKET, 'labeled/hostile/masks/dots.png']),
    );
    // Another batch's image, pointed at a mask of the import's own.
    lines.push(await pair(914, [INBOX_BUCKET, 'images/turtles/victim.jpg'], [INBOX_BUCKET, 'labeled/hostile/masks/victim.png']));
    await put(INBOX_BUCKET, 'labeled/hostile/output.manifest', lines.join('\n'));
    client.destroy();
    const { tasks } = fakes(harness, truth, { endpointExists: true });
    const outcome = await harness.run({
      input: { batch: 'hostile', manifest: `s3://${INBOX_BUCKET}/labeled/hostile/output.manifest` },
      executionName: 'hostile-import-1',
      fakes: tasks,
    });
    expect(outcome.status).toBe('SUCCEEDED');
    const conversion = JSON.parse(
      (await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/hostile-import-1/conversion/report.json`)).toString('utf8'),
    );
    expect(conversion.converted).toBe(6);
    const allowed = `(s3://${INBOX_BUCKET}/images/hostile/, s3://${INBOX_BUCKET}/labeled/hostile/, s3://${ARTIFACTS_BUCKET}/runs/hostile-import-1/labeling/output/)`;
    expect(conversion.skippedItems).toEqual([
      {
        line: 7,
        source: `s3://${INBOX_BUCKET}/labeled/someone-else/private.jpg`,
        reason: `image "s3://${INBOX_BUCKET}/labeled/someone-else/private.jpg" is outside what this run may read ${allowed}`,
      },
      {
        line: 8,
        source: `s3://${INBOX_BUCKET}/images/hostile/ok-image.jpg`,
        reason: `mask "s3://${ARTIFACTS_BUCKET}/models/secret-mask.png" is outside what this run may read ${allowed}`,
      },
      {
        line: 9,
        source: `s3://${ARTIFACTS_BUCKET}/batches/secret.jpg`,
        reason: `image "s3://${ARTIFACTS_BUCKET}/batches/secret.jpg" is outside what this run may read ${allowed}`,
      },
      {
        line: 10,
        source: `s3://${INBOX_BUCKET}/images/../labeled/someone-else/private.jpg`,
        reason: `image "s3://${INBOX_BUCKET}/images/../labeled/someone-else/private.jpg" is outside what this run may read ${allowed}`,
      },
      {
        line: 11,
        source: `s3://${INBOX_BUCKET}/images/turtles/victim.jpg`,
        reason: `image "s3://${INBOX_BUCKET}/images/turtles/victim.jpg" is outside what this run may read ${allowed}`,
      },
    ]);
  });

  test("import: a chunk killed after writing leaves the dataset exactly as it was; only the run's staging area holds its items", async () => {
    const client = harness.server.client();
    const classes = labelingClasses(['turtle', 'rock']);
    const lines: string[] = [];
    for (let i = 0; i < 4; i++) {
      const scene = renderSyntheticScene(800 + i, 64, 48);
      await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: `images/killed/${i}.jpg`, Body: await sceneToJpeg(scene) }));
      await client.send(
        new PutObjectCommand({
          Bucket: INBOX_BUCKET,
          Key: `labeled/killed/masks/${i}.png`,
          Body: groundTruthMaskPng(scene.classIndices, 64, 48, classes),
        }),
      );
      lines.push(
        JSON.stringify(
          groundTruthManifestLine({
            source: `s3://${INBOX_BUCKET}/images/killed/${i}.jpg`,
            mask: `s3://${INBOX_BUCKET}/labeled/killed/masks/${i}.png`,
            attribute: 'job-ref',
            jobName: 'job',
            classes,
          }),
        ),
      );
    }
    await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: 'labeled/killed/output.manifest', Body: lines.join('\n') }));
    client.destroy();
    const datasetNow = async () =>
      (await harness.store.list(ARTIFACTS_BUCKET, 'datasets/')).map((o) => `${o.key} ${o.lastModified.toISOString()}`).sort();
    const before = await datasetNow();
    const classesNow = async () =>
      (await harness.store.readStart(`s3://${ARTIFACTS_BUCKET}/datasets/main/classes.json`, 1 << 20))?.data.toString();
    const classesBefore = await classesNow();
    const { tasks } = fakes(harness, truth, { endpointExists: true });
    // The chunk's Lambda converts its entries, then is killed (its time-out) before it can answer.
    tasks['Convert chunk'] = async (input) => {
      await harness.lambdaStates['Convert chunk'](input);
      throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: 'Sandbox.Timedout' });
    };
    const outcome = await harness.run({
      input: { batch: 'killed', export: `s3://${INBOX_BUCKET}/labeled/killed/output.manifest` },
      executionName: 'killed-import-1',
      fakes: tasks,
    });
    expect(outcome.status).toBe('FAILED');
    expect((await report('killed-import-1')).reason).toContain('1 of 1 conversion chunks failed');
    expect(await datasetNow()).toEqual(before);
    expect(await classesNow()).toBe(classesBefore);
    expect((await harness.store.list(ARTIFACTS_BUCKET, 'runs/killed-import-1/staging/')).length).toBe(8);
  });

  test("import: a manifest outside the batch's own labeled/<batch>/ is not read at all", async () => {
    const { tasks } = fakes(harness, truth, { endpointExists: true });
    const outcome = await harness.run({
      input: { batch: 'hostile', manifest: `s3://${ARTIFACTS_BUCKET}/runs/turtles-1/report.json` },
      executionName: 'hostile-import-2',
      fakes: tasks,
    });
    expect(outcome.status).toBe('FAILED');
    expect((await report('hostile-import-2')).reason).toContain(
      `"s3://${ARTIFACTS_BUCKET}/runs/turtles-1/report.json" is outside what this run may read`,
    );
  });

  test('labeling failed: the run ends failed with the reason, nothing created', async () => {
    const images = await uploadBatch('doomed', 3, 700);
    const { tasks, calls } = fakes(harness, truth, { failLabeling: true });
    const outcome = await harness.run({ input: { batch: 'doomed', images }, executionName: 'doomed-1', fakes: tasks });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(outcome.path.slice(-4)).toEqual(['Report failure', 'Notify failure', 'Publish failure event', 'Run failed']);
    expect(calls.Train).toBeUndefined();
    expect((calls['Notify failure'][0] as any).Message).toContain('Reason: States.TaskFailed: ClientError: workteam has no workers');
    expect(await report('doomed-1')).toMatchObject({ status: 'failed', reason: 'States.TaskFailed: ClientError: workteam has no workers' });
  });

  test('training failed: the run ends failed before any model is made', async () => {
    const images = await uploadBatch('heavy', 4, 800);
    const { tasks, calls } = fakes(harness, truth, { failTraining: true });
    const outcome = await harness.run({ input: { batch: 'heavy', images }, executionName: 'heavy-1', fakes: tasks });
    expect(outcome.status).toBe('FAILED');
    expect(calls['Create model']).toBeUndefined();
    expect((await report('heavy-1')).reason).toBe('States.TaskFailed: AlgorithmError: CUDA out of memory');
    expect((calls['Publish failure event'][0] as any).Entries[0]).toMatchObject({ DetailType: 'Segpipe Run Failed' });
  });

  test('below the gate: the run ends "not deployed" and the endpoint is untouched', async () => {
    const images = await uploadBatch('blurry', 4, 900);
    const { tasks, calls } = fakes(harness, truth, { miou: 0.31 });
    const outcome = await harness.run({ input: { batch: 'blurry', images }, executionName: 'blurry-1', fakes: tasks });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.path).toContain('Report not deployed');
    for (const state of ['Create model', 'Create endpoint config', 'Create endpoint', 'Add challenger'])
      expect(calls[state]).toBeUndefined();
    expect(await report('blurry-1')).toMatchObject({ status: 'not-deployed', metrics: { 'validation:mIOU': 0.31 } });
    expect((calls.Notify[0] as any).Subject).toBe('segpipe: blurry trained, not deployed (mIOU below minimum)');
  });

  test('at the gate exactly: a validation:mIOU equal to the minimum passes ("below" is strict)', async () => {
    const images = await uploadBatch('borderline', 8, 950);
    const { tasks, calls } = fakes(harness, truth, { miou: 0.5 });
    harness.runtime.answer = () => 'truth';
    const outcome = await harness.run({ input: { batch: 'borderline', images }, executionName: 'borderline-1', fakes: tasks });
    expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
    expect(outcome.path).not.toContain('Report not deployed');
    expect(calls['Create model']).toHaveLength(1);
    expect(await report('borderline-1')).toMatchObject({ status: 'deployed', metrics: { 'validation:mIOU': 0.5, minimumMiou: 0.5 } });
  });

  test('a first model that scores below the minimum on the endpoint: its new endpoint is deleted, not left serving', async () => {
    const images = await uploadBatch('murky', 8, 975);
    const { tasks, calls, endpoint } = fakes(harness, truth);
    // Passes the training gate (0.71), but predicts nothing but background on the endpoint.
    harness.runtime.answer = () => 'background';
    const outcome = await harness.run({ input: { batch: 'murky', images }, executionName: 'murky-1', fakes: tasks });
    const at = (state: string) => outcome.path.indexOf(state);
    expect(at('Create endpoint')).toBeGreaterThan(-1);
    expect(at('Evaluate model')).toBeLessThan(at('Model good enough?'));
    expect(at('Model good enough?')).toBeLessThan(at('Delete new endpoint'));
    expect(calls['Delete new endpoint']).toEqual([{ EndpointName: ENDPOINT }]);
    expect(endpoint.config).toBeUndefined();
    const rep = await report('murky-1');
    expect(rep.status).not.toBe('deployed');
    expect(rep.evaluation).toMatchObject({ promote: false, reason: expect.stringContaining('below the minimum mIoU 0.5') });
  });

  test("endpoint Failed: the run ends failed with the endpoint's reason", async () => {
    const images = await uploadBatch('broken', 4, 1000);
    const { tasks, calls } = fakes(harness, truth, { endpointStatuses: ['Creating', 'Failed'] });
    const outcome = await harness.run({ input: { batch: 'broken', images }, executionName: 'broken-1', fakes: tasks });
    expect({ status: outcome.status, error: outcome.error, cause: outcome.cause }).toMatchObject({
      status: 'FAILED',
      error: 'EndpointFailed',
    });
    expect(outcome.path).toContain('Endpoint failed');
    expect((await report('broken-1')).reason).toBe(`EndpointFailed: endpoint ${ENDPOINT} is Failed: The primary container failed to start`);
    expect(calls['Notify failure']).toHaveLength(1);
  });

  test('a failed update rolls back: the run fails, deletes its unused model and config, and says why', async () => {
    const images = await uploadBatch('rollback', 4, 1200);
    const { tasks, calls } = fakes(harness, truth, { endpointExists: true, endpointStatuses: ['Updating', 'InService'], rolledBack: true });
    const outcome = await harness.run({ input: { batch: 'rollback', images }, executionName: 'rollback-1', fakes: tasks });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointUpdateFailed' });
    expect(outcome.path).toEqual(
      expect.arrayContaining(['Update rolled back (challenger added)', 'Delete trial config', 'Delete endpoint config', 'Delete model']),
    );
    expect(outcome.path).not.toContain('Evaluate champion and challenger');
    expect(outcome.path).not.toContain('Report deployed');
    expect((await report('rollback-1')).reason).toBe(
      `EndpointUpdateFailed: endpoint ${ENDPOINT} is InService: The primary container failed to start`,
    );
    expect(calls.Notify).toBeUndefined();
  });

  test('an endpoint out of service without a reason still ends the run with a report', async () => {
    const images = await uploadBatch('silent', 4, 1300);
    const { tasks } = fakes(harness, truth, { endpointStatuses: ['Creating', 'OutOfService'] });
    const outcome = await harness.run({ input: { batch: 'silent', images }, executionName: 'silent-1', fakes: tasks });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointFailed' });
    expect((await report('silent-1')).reason).toBe(`EndpointFailed: endpoint ${ENDPOINT} is OutOfService`);
  });

  test("a failure after the model was made deletes the run's model and endpoint config", async () => {
    const images = await uploadBatch('quota', 4, 1100);
    const { tasks, calls } = fakes(harness, truth);
    tasks['Create endpoint'] = async () => {
      throw Object.assign(new Error('ResourceLimitExceeded: ml.c5.xlarge for endpoint usage'), {
        name: 'SageMaker.ResourceLimitExceededException',
      });
    };
    const outcome = await harness.run({ input: { batch: 'quota', images }, executionName: 'quota-1', fakes: tasks });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.path).toEqual(expect.arrayContaining(['Delete endpoint config', 'Delete model', 'Report failure']));
    expect(calls['Delete model'][0]).toEqual({ ModelName: (calls['Create model'][0] as any).ModelName });
  });

  describe("every failure after the model was made deletes the run's endpoint config and model", () => {
    const sageMakerError = (name: string, message: string) => Object.assign(new Error(message), { name });
    /** The fakes with `state` recording its request, then failing with `error`. */
    function failing(tasks: Record<string, TaskHandler>, state: string, error: Error) {
      const answer = tasks[state];
      tasks[state] = async (input) => {
        await answer(input);
        throw error;
      };
    }
    async function deployFails(
      batch: string,
      seed: number,
      fail: (tasks: Record<string, TaskHandler>) => void,
      options: Parameters<typeof fakes>[2] = {},
    ) {
      const images = await uploadBatch(batch, 4, seed);
      const { tasks, calls } = fakes(harness, truth, options);
      fail(tasks);
      const outcome = await harness.run({ input: { batch, images }, executionName: `${batch}-1`, fakes: tasks });
      const created = {
        model: (calls['Create model'][0] as { ModelName: string }).ModelName,
        config: (calls['Create endpoint config'][0] as { EndpointConfigName: string }).EndpointConfigName,
      };
      return { outcome, calls, created, report: await report(`${batch}-1`) };
    }

    test('at Create endpoint config', async () => {
      const {
        outcome,
        calls,
        created,
        report: rep,
      } = await deployFails('no-config', 1400, (tasks) =>
        failing(
          tasks,
          'Create endpoint config',
          sageMakerError('SageMaker.ResourceLimitExceededException', 'endpoint config limit reached'),
        ),
      );
      expect(outcome.status).toBe('FAILED');
      expect(calls['Delete endpoint config']).toEqual([{ EndpointConfigName: created.config }]);
      expect(calls['Delete model']).toEqual([{ ModelName: created.model }]);
      expect(calls['Create endpoint']).toBeUndefined();
      expect(rep.reason).toBe('SageMaker.ResourceLimitExceededException: endpoint config limit reached');
    });

    test('at Add challenger', async () => {
      const {
        outcome,
        calls,
        created,
        report: rep,
      } = await deployFails(
        'no-update',
        1500,
        (tasks) =>
          failing(tasks, 'Add challenger', sageMakerError('SageMaker.AmazonSageMakerException', 'Cannot update in-progress endpoint')),
        { endpointExists: true },
      );
      expect(outcome.status).toBe('FAILED');
      expect(outcome.path).toContain('Add challenger');
      expect(calls['Delete endpoint config']).toEqual([{ EndpointConfigName: created.config }]);
      expect(calls['Delete model']).toEqual([{ ModelName: created.model }]);
      expect(rep.reason).toBe('SageMaker.AmazonSageMakerException: Cannot update in-progress endpoint');
    });

    test('the model is deleted even when deleting the config fails, and the run reports the first failure', async () => {
      const {
        outcome,
        calls,
        created,
        report: rep,
      } = await deployFails('no-delete', 1600, (tasks) => {
        failing(tasks, 'Create endpoint', sageMakerError('SageMaker.ResourceLimitExceededException', 'ml.c5.xlarge for endpoint usage'));
        failing(
          tasks,
          'Delete endpoint config',
          sageMakerError('SageMaker.AmazonSageMakerException', 'Could not find endpoint configuration'),
        );
      });
      expect(outcome.status).toBe('FAILED');
      expect(calls['Delete endpoint config']).toEqual([{ EndpointConfigName: created.config }]);
      expect(calls['Delete model']).toEqual([{ ModelName: created.model }]);
      expect(rep.reason).toBe('SageMaker.ResourceLimitExceededException: ml.c5.xlarge for endpoint usage');
    });
  });

  test('an input that is not a batch of s3:// images fails at once with what is wrong', async () => {
    const { tasks, calls } = fakes(harness, truth);
    const outcome = await harness.run({ input: { batch: 'typo', images: ['/home/me/turtle.jpg'] }, executionName: 'typo-1', fakes: tasks });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'EventError' });
    expect(calls.Label).toBeUndefined();
    expect((await report('typo-1')).reason).toBe(
      'EventError: the prepare-run Lambda\'s event input.images.0: must be an s3://bucket/key URI (received "/home/me/turtle.jpg")',
    );
  });
});
