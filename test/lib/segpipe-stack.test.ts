import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveConfig } from '../../lib/config';
import { ALGORITHM_REGIONS, GROUND_TRUTH_REGIONS } from '../../lib/regions';
import { SegpipeStack } from '../../lib/segpipe-stack';
import { synthStack, testApp } from '../helpers/stack';

const PRIVATE_TEAM = {
  labelClasses: ['turtle'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
};

describe('region table', () => {
  const { template } = synthStack();
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
      'Fn::Join': ['', [
        { 'Fn::FindInMap': ['RegionTable', { Ref: 'AWS::Region' }, 'AlgorithmImageAccount'] },
        '.dkr.ecr.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/semantic-segmentation:1',
      ]],
    });
  });

  test('the template is region-agnostic: no region or account is baked in', () => {
    const { stack } = synthStack();
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
  });
});

describe('region rules', () => {
  test('CloudFormation refuses a region without the algorithm image, naming the supported ones', () => {
    const rules = synthStack().template.toJSON().Rules;
    expect(Object.keys(rules)).not.toContain('LabelingRegion');
    const assertion = rules.SupportedRegion.Assertions[0];
    expect(assertion.Assert).toEqual({ 'Fn::Contains': [[...ALGORITHM_REGIONS], { Ref: 'AWS::Region' }] });
    expect(assertion.AssertDescription).toContain('us-east-1');
    expect(assertion.AssertDescription).toContain('eu-north-1');
  });

  test('with a workforce, CloudFormation also refuses a region without Ground Truth', () => {
    const rules = synthStack(PRIVATE_TEAM).template.toJSON().Rules;
    const assertion = rules.LabelingRegion.Assertions[0];
    expect(assertion.Assert).toEqual({ 'Fn::Contains': [[...GROUND_TRUTH_REGIONS], { Ref: 'AWS::Region' }] });
    expect(assertion.AssertDescription).toMatch(/runs only in: ap-northeast-1, .*us-west-2\. Deploy there, or set workforce\.type to "none"/);
  });
});

describe('storage', () => {
  const { template } = synthStack();
  const dataBuckets = ['Inbox', 'Artifacts'];

  function bucket(name: string) {
    const buckets = template.findResources('AWS::S3::Bucket');
    const id = Object.keys(buckets).find((key) => key.startsWith(`Storage${name}`));
    if (!id) throw new Error(`no bucket ${name}`);
    return { id, resource: buckets[id] };
  }

  test.each(['Inbox', 'Artifacts', 'AccessLogs'])('%s bucket is encrypted, private, retained and aborts stale uploads', (name) => {
    const { resource } = bucket(name);
    expect(resource.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(resource.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.Properties.LifecycleConfiguration.Rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
    ]));
  });

  test.each(['Inbox', 'Artifacts', 'AccessLogs'])('%s bucket denies any request without TLS', (name) => {
    const { id } = bucket(name);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('the inbox sends its events to EventBridge and carries the CORS rule Ground Truth requires', () => {
    const { id, resource } = bucket('Inbox');
    expect(resource.Properties.CorsConfiguration.CorsRules).toEqual([{
      AllowedHeaders: [], AllowedMethods: ['GET'], AllowedOrigins: ['*'], ExposedHeaders: ['Access-Control-Allow-Origin'],
    }]);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: id },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  test('the artifacts bucket expires tagged run scratch data only', () => {
    const rules = bucket('Artifacts').resource.Properties.LifecycleConfiguration.Rules;
    expect(rules).toContainEqual({
      Id: 'ExpireRunScratch', Status: 'Enabled', ExpirationInDays: 14,
      TagFilters: [{ Key: 'segpipe:retention', Value: 'scratch' }],
    });
    expect(rules.filter((r: { ExpirationInDays?: number }) => r.ExpirationInDays !== undefined)).toHaveLength(1);
  });

  test.each(dataBuckets)('%s bucket logs its access', (name) => {
    expect(bucket(name).resource.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: bucket('AccessLogs').id });
  });

  test('storage.encryption "kms" creates a rotated key for both data buckets', () => {
    const kms = synthStack({ storage: { encryption: 'kms' } }).template;
    kms.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const buckets = kms.findResources('AWS::S3::Bucket');
    const encrypted = Object.entries(buckets).filter(([, b]) =>
      b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm === 'aws:kms');
    expect(encrypted.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['StorageArtifacts', 'StorageInbox']);
  });

  test('retainOnDelete false empties and deletes the buckets with the stack', () => {
    const destroy = synthStack({ storage: { retainOnDelete: false } }).template;
    for (const b of Object.values(destroy.findResources('AWS::S3::Bucket'))) expect(b.DeletionPolicy).toBe('Delete');
    expect(Object.keys(destroy.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(3);
  });

  test('outputs give the buckets and the exact command that starts a run', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.InboxBucketName.Value).toEqual({ Ref: bucket('Inbox').id });
    expect(outputs.ArtifactsBucketName.Value).toEqual({ Ref: bucket('Artifacts').id });
    expect(outputs.StartRunCommand.Value).toEqual({
      'Fn::Join': ['', ['aws s3 sync ./my-images s3://', { Ref: bucket('Inbox').id }, '/images/my-batch/']],
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['the default config', {}],
    ['a private workforce with a customer key, deleted with the stack', { ...PRIVATE_TEAM, storage: { encryption: 'kms', retainOnDelete: false } }],
  ])('%s synthesizes with no unacknowledged finding, every acknowledgement with a reason', (_name, raw) => {
    const outdir = mkdtempSync(join(tmpdir(), 'segpipe-nag-'));
    const app = testApp({ outdir });
    const stack = new SegpipeStack(app, 'Segpipe', { config: resolveConfig(raw) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failure: unknown;
    try {
      app.synth();
    } catch (err) {
      failure = err;
    }
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect({ failure: failure && String(failure), report: failure ? report : 'ok' }).toEqual({ failure: undefined, report: 'ok' });
    // Each acknowledgement is recorded as { [rule id]: reason }.
    const reasons = stack.node.findAll().flatMap((c) => c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, string>)));
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason).toMatch(/^\S+( \S+){6,}/);
  });
});
