import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationValidatePlugin, type PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { endpointName, resourcePrefix } from '../../lambda/workflow/names';
import { resolveConfig } from '../../lib/config';
import { ALGORITHM_REGIONS, GROUND_TRUTH_REGIONS } from '../../lib/regions';
import { SegpipeStack } from '../../lib/segpipe-stack';
import { synthStack, testApp } from '../helpers/stack';

/**
 * The whole stack, as `cdk deploy` ships it: what SegpipeStack itself adds (the region table and
 * rules, the data key, the outputs, the order of deletion) and what only the whole app can show
 * (cdk-nag, CloudFormation's own validation). Each construct's own behaviour is tested in a stack of
 * its own (storage, trigger, cleanup, workflow/). Two synths, shared by the file.
 */
const PRIVATE_TEAM = {
  labelClasses: ['turtle'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
};
const DEFAULT = synthStack();
const PRIVATE_KMS_DESTROY = synthStack({ ...PRIVATE_TEAM, storage: { encryption: 'kms', retainOnDelete: false } });

const idOf = (template: typeof DEFAULT.template, type: string, prefix: string) => {
  const id = Object.keys(template.findResources(type)).find((key) => key.startsWith(prefix));
  if (!id) throw new Error(`no ${type} ${prefix}`);
  return id;
};

describe('region table', () => {
  const { template } = DEFAULT;
  const mapping = template.toJSON().Mappings.RegionTable;

  test.each([
    ['us-east-1', '811284229777', '432418664414'],
    ['ap-northeast-1', '501404015308', '477331159723'],
    ['eu-west-1', '685385470294', '568282634449'],
  ])('%s holds the algorithm image account and the Ground Truth Lambda account', (region, image, groundTruth) => {
    expect(mapping[region]).toEqual({ AlgorithmImageAccount: image, GroundTruthLambdaAccount: groundTruth });
  });

  test('every region with the algorithm image is covered, also those without Ground Truth', () => {
    expect(Object.keys(mapping).sort()).toEqual([...ALGORITHM_REGIONS]);
    expect(ALGORITHM_REGIONS).toHaveLength(37);
    expect(GROUND_TRUTH_REGIONS).toHaveLength(12);
    expect(mapping['eu-north-1']).toEqual({ AlgorithmImageAccount: '669576153137' });
  });

  test('the image URI is built from the mapping on AWS::Region, with the partition URL suffix', () => {
    const output = template.toJSON().Outputs.TrainingImageUri.Value;
    expect(output).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::FindInMap': ['RegionTable', { Ref: 'AWS::Region' }, 'AlgorithmImageAccount'] },
          '.dkr.ecr.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/semantic-segmentation:1',
        ],
      ],
    });
  });

  test('the template is region-agnostic: no region or account is baked in', () => {
    const { stack } = DEFAULT;
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
  });
});

describe('region rules', () => {
  test('CloudFormation refuses a region without the algorithm image, naming the supported ones', () => {
    const rules = DEFAULT.template.toJSON().Rules;
    expect(Object.keys(rules)).not.toContain('LabelingRegion');
    const assertion = rules.SupportedRegion.Assertions[0];
    expect(assertion.Assert).toEqual({ 'Fn::Contains': [[...ALGORITHM_REGIONS], { Ref: 'AWS::Region' }] });
    expect(assertion.AssertDescription).toContain('us-east-1');
    expect(assertion.AssertDescription).toContain('eu-north-1');
  });

  test('with a workforce, CloudFormation also refuses a region without Ground Truth', () => {
    const rules = PRIVATE_KMS_DESTROY.template.toJSON().Rules;
    const assertion = rules.LabelingRegion.Assertions[0];
    expect(assertion.Assert).toEqual({ 'Fn::Contains': [[...GROUND_TRUTH_REGIONS], { Ref: 'AWS::Region' }] });
    expect(assertion.AssertDescription).toMatch(
      /runs only in: ap-northeast-1, .*us-west-2\. Deploy there, or set workforce\.type to "none"/,
    );
  });
});

describe('the configuration reaches the constructs', () => {
  test('storage.encryption "kms" creates a rotated key, which encrypts both data buckets', () => {
    const { template } = PRIVATE_KMS_DESTROY;
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const keyId = idOf(template, 'AWS::KMS::Key', 'DataKey');
    const encrypted = Object.entries(template.findResources('AWS::S3::Bucket')).filter(([, b]) =>
      JSON.stringify(
        b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID ?? null,
      ).includes(keyId),
    );
    expect(encrypted.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['StorageArtifacts', 'StorageInbox']);
  });

  test('storage.retainOnDelete false deletes the buckets (and the key) with the stack; by default they are kept', () => {
    for (const b of Object.values(PRIVATE_KMS_DESTROY.template.findResources('AWS::S3::Bucket'))) expect(b.DeletionPolicy).toBe('Delete');
    for (const k of Object.values(PRIVATE_KMS_DESTROY.template.findResources('AWS::KMS::Key'))) expect(k.DeletionPolicy).toBe('Delete');
    for (const b of Object.values(DEFAULT.template.findResources('AWS::S3::Bucket'))) expect(b.DeletionPolicy).toBe('Retain');
  });

  test("the workflow gets the region's algorithm image and Ground Truth Lambdas from the region table", () => {
    const machine = JSON.stringify(
      Object.values(PRIVATE_KMS_DESTROY.template.findResources('AWS::StepFunctions::StateMachine')).find((m) =>
        JSON.stringify(m).includes('createTrainingJob'),
      ),
    );
    expect(machine).toContain('function:PRE-SemanticSegmentation');
    expect(machine).toContain('"Fn::FindInMap":["RegionTable",{"Ref":"AWS::Region"},"GroundTruthLambdaAccount"]');
    expect(machine).toContain('"Fn::FindInMap":["RegionTable",{"Ref":"AWS::Region"},"AlgorithmImageAccount"]');
  });

  test('every segpipe Lambda of the stack (workflow, trigger, clean-up, tear-down) runs on Node.js 22 or newer, and every log group keeps its logs a month', () => {
    const { template } = PRIVATE_KMS_DESTROY;
    const handlers = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, fn]) =>
      JSON.stringify(fn.Properties.Environment ?? {}).includes('SEGPIPE_SETTINGS'),
    );
    expect(
      handlers
        .map(([id]) => id.replace(/Function[0-9A-F]{8}$/, ''))
        .filter((id) => /^(Trigger|Cleanup)/.test(id))
        .sort(),
    ).toEqual(['CleanupCleanUp', 'CleanupTearDownCheck', 'CleanupTearDownStart', 'TriggerStartRun']);
    for (const [, fn] of handlers) expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(30);
  });

  test('on deletion the trigger goes before the tear-down runs: no new run starts meanwhile', () => {
    const { template } = DEFAULT;
    const tearDown = idOf(template, 'Custom::SegpipeSageMakerTearDown', 'CleanupTearDown');
    const [trigger] = Object.entries(template.findResources('AWS::Events::Rule')).filter(([ruleId]) =>
      ruleId.startsWith('TriggerObjectCreated'),
    );
    expect(trigger[1].DependsOn).toEqual(expect.arrayContaining([tearDown]));
  });
});

test('outputs give the buckets, the exact command that starts a run, the state machine console link, the topic and the endpoint name', () => {
  const { template } = DEFAULT;
  const outputs = template.toJSON().Outputs;
  const bucket = (name: string) => ({ Ref: idOf(template, 'AWS::S3::Bucket', `Storage${name}`) });
  expect(outputs.InboxBucketName.Value).toEqual(bucket('Inbox'));
  expect(outputs.ArtifactsBucketName.Value).toEqual(bucket('Artifacts'));
  expect(outputs.StartRunCommand.Value).toEqual({
    'Fn::Join': ['', ['aws s3 sync ./my-images s3://', bucket('Inbox'), '/images/my-batch/']],
  });
  expect(outputs.EndpointName.Value).toBe(endpointName(resourcePrefix('Segpipe')));
  expect(JSON.stringify(outputs.StateMachineConsoleUrl.Value)).toContain('#/statemachines/view/');
  expect(outputs.NotificationTopicArn.Value).toEqual({ Ref: expect.stringMatching(/^WorkflowNotifications/) });
});

test("the stack's SageMaker scope is its own prefix, with a hash of its name: no other stack's names fall under it", () => {
  const text = JSON.stringify(DEFAULT.template.toJSON());
  const prefix = resourcePrefix('Segpipe');
  expect(prefix).toMatch(/^segpipe-[0-9a-f]{8}$/);
  for (const resource of ['training-job', 'model', 'endpoint-config']) expect(text).toContain(`:${resource}/${prefix}-*`);
  expect(text).toContain(`:endpoint/${prefix}-endpoint`);
  expect(text).not.toMatch(/:(training-job|model|endpoint-config|endpoint)\/segpipe-(\*|endpoint)/);
});

describe('validation', () => {
  // One engine for both: it starts again (seconds) only for resource types it has not seen, and the
  // first config has every type the second has.
  const cfnValidate = new CloudFormationValidatePlugin();
  const validate = cfnValidate.validate.bind(cfnValidate);
  test.each([
    [
      'a private workforce with a customer key, deleted with the stack',
      { ...PRIVATE_TEAM, storage: { encryption: 'kms', retainOnDelete: false } },
    ],
    ['the default config', {}],
    [
      "Label Studio Enterprise's role",
      { labeling: { labelStudio: { origin: 'https://ls.example.com', role: { externalId: 'ls-ext-1234' } } } },
    ],
  ])(
    "%s synthesizes with no cdk-nag AwsSolutions finding unacknowledged, every acknowledgement with a reason, and nothing CloudFormation's own validation reports",
    (_name, raw) => {
      const outdir = mkdtempSync(join(tmpdir(), 'segpipe-nag-'));
      const app = testApp({ outdir });
      const stack = new SegpipeStack(app, 'Segpipe', { config: resolveConfig(raw) });
      // aws-cdk-lib's built-in CloudFormation validation, off in the other tests (test/helpers/jest-setup.ts),
      // registered here; what it reports is kept (its findings are warnings, which do not fail a synth).
      const builtIn: PolicyValidationPluginReport[] = [];
      cfnValidate.validate = (context) => {
        builtIn.push(validate(context));
        return builtIn.at(-1)!;
      };
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app), cfnValidate);
      let failure: unknown;
      try {
        app.synth();
      } catch (err) {
        failure = err;
      }
      const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
      expect({ failure: failure && String(failure), report: failure ? report : 'ok' }).toEqual({ failure: undefined, report: 'ok' });
      expect(builtIn).toHaveLength(1);
      expect(builtIn[0].violations).toEqual([]);
      // Each acknowledgement is recorded as { [rule id]: reason }.
      const reasons = stack.node
        .findAll()
        .flatMap((c) =>
          c.node.metadata
            .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
            .flatMap((m) => Object.values(m.data as Record<string, string>)),
        );
      expect(reasons.length).toBeGreaterThan(0);
      for (const reason of reasons) expect(reason).toMatch(/^\S+( \S+){6,}/);
    },
  );
});
