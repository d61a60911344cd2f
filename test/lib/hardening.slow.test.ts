import type { Template } from 'aws-cdk-lib/assertions';
import { resolveConfig } from '../../lib/config';
import { statementsOf, synthStack } from '../helpers/stack';

/**
 * Limits and leftovers (issue 16, item 7), read from the synthesized template: the start Lambda's
 * reserved concurrency, the inbox's CORS rule only for labeling, the state machine's logging level and
 * log-group key, the artifacts bucket's versions. Three synths, shared by the file.
 */
const PRIVATE_TEAM = {
  labelClasses: ['turtle'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
};
const DEFAULT = synthStack().template;
const PRIVATE_KMS = synthStack({ ...PRIVATE_TEAM, storage: { encryption: 'kms' } }).template;
const TUNED = synthStack({
  batch: { startConcurrency: 15 },
  logging: { level: 'all', includeExecutionData: true },
  storage: { noncurrentVersionExpirationDays: 90 },
}).template;

function resource(template: Template, type: string, prefix: string) {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`${found.length} ${type} resources whose logical ID starts with ${prefix}`);
  return { id: found[0][0], properties: found[0][1].Properties as Record<string, any> };
}

describe('reserved concurrency is an option', () => {
  test('no function reserves any by default: a new account (concurrency quota 10) can deploy', () => {
    const reserving = Object.values(DEFAULT.findResources('AWS::Lambda::Function')).filter(
      (r) => r.Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserving).toEqual([]);
  });
  test('batch.startConcurrency sets it', () => {
    expect(resource(TUNED, 'AWS::Lambda::Function', 'TriggerStartRun').properties.ReservedConcurrentExecutions).toBe(15);
  });
  test('only the start function reserves it when set', () => {
    const reserving = Object.keys(TUNED.findResources('AWS::Lambda::Function')).filter(
      (id) => TUNED.toJSON().Resources[id].Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserving).toEqual([resource(TUNED, 'AWS::Lambda::Function', 'TriggerStartRun').id]);
  });
});

describe("the inbox's CORS rule", () => {
  test("is there with a labeling workforce (Ground Truth's UI reads the images from the browser)", () => {
    expect(resource(PRIVATE_KMS, 'AWS::S3::Bucket', 'StorageInbox').properties.CorsConfiguration.CorsRules).toEqual([
      {
        AllowedHeaders: [],
        AllowedMethods: ['GET'],
        AllowedOrigins: ['*'],
        ExposedHeaders: ['Access-Control-Allow-Origin'],
      },
    ]);
  });
  test('is absent when labels are only imported', () => {
    expect(resource(DEFAULT, 'AWS::S3::Bucket', 'StorageInbox').properties.CorsConfiguration).toBeUndefined();
  });
});

describe("the state machine's logs", () => {
  const logging = (template: Template) =>
    resource(template, 'AWS::StepFunctions::StateMachine', 'WorkflowStateMachine').properties.LoggingConfiguration;

  test('by default: errors only, without execution data', () => {
    expect(logging(DEFAULT)).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  });
  test('logging.level and logging.includeExecutionData set them', () => {
    expect(logging(TUNED)).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
  });
  test('logging.level "off" logs nothing', () => {
    const { template } = synthStack({ logging: { level: 'off' } });
    expect(logging(template)).toBeUndefined();
  });
  test("in KMS mode its log group is encrypted with the stack's key, whose policy lets CloudWatch Logs use it for log groups", () => {
    const key = resource(PRIVATE_KMS, 'AWS::KMS::Key', 'DataKey');
    expect(resource(PRIVATE_KMS, 'AWS::Logs::LogGroup', 'WorkflowLogs').properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
    const statements = key.properties.KeyPolicy.Statement as {
      Principal?: { Service?: unknown };
      Condition?: Record<string, Record<string, unknown>>;
    }[];
    const logs = statements.filter((s) => JSON.stringify(s.Principal?.Service ?? '').includes('logs.'));
    expect(logs).toHaveLength(1);
    expect(JSON.stringify(logs[0].Condition?.ArnLike?.['kms:EncryptionContext:aws:logs:arn'])).toContain('log-group:*');
  });
  test("with S3-managed encryption its log group uses CloudWatch Logs' own encryption", () => {
    expect(resource(DEFAULT, 'AWS::Logs::LogGroup', 'WorkflowLogs').properties.KmsKeyId).toBeUndefined();
  });
});

describe('the artifacts bucket keeps versions', () => {
  const rules = (template: Template) => resource(template, 'AWS::S3::Bucket', 'StorageArtifacts').properties.LifecycleConfiguration.Rules;

  test('it is versioned; replaced and deleted versions expire after 30 days by default', () => {
    expect(resource(DEFAULT, 'AWS::S3::Bucket', 'StorageArtifacts').properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(rules(DEFAULT)).toContainEqual({
      Id: 'ExpireNoncurrentVersions',
      Status: 'Enabled',
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      ExpiredObjectDeleteMarker: true,
    });
  });
  test('storage.noncurrentVersionExpirationDays sets the days', () => {
    expect(rules(TUNED)).toContainEqual(
      expect.objectContaining({ Id: 'ExpireNoncurrentVersions', NoncurrentVersionExpiration: { NoncurrentDays: 90 } }),
    );
  });
  test('the inbox is not versioned: uploads are input, not records', () => {
    expect(resource(DEFAULT, 'AWS::S3::Bucket', 'StorageInbox').properties.VersioningConfiguration).toBeUndefined();
  });
});

describe('the new configuration fields', () => {
  test('defaults', () => {
    const config = resolveConfig({});
    expect(config.batch.startConcurrency).toBeUndefined();
    expect(config.logging).toEqual({ level: 'error', includeExecutionData: false });
    expect(config.storage.noncurrentVersionExpirationDays).toBe(30);
  });
  test('out-of-range values are refused, each naming what is allowed', () => {
    expect(() =>
      resolveConfig({ batch: { startConcurrency: 0 }, logging: { level: 'verbose' }, storage: { noncurrentVersionExpirationDays: 0 } }),
    ).toThrow(
      /batch\.startConcurrency: received 0; allowed: an integer from 1 to 1000[\s\S]*storage\.noncurrentVersionExpirationDays: received 0[\s\S]*logging\.level: received "verbose"; allowed: off, error, fatal, all/,
    );
  });
});

describe('the data key, whole stack (issue 16, item 6)', () => {
  const keyStatements = (role: string) =>
    statementsOf(PRIVATE_KMS, role).filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
  const via = (service: string) => ({
    StringEquals: { 'kms:ViaService': [{ 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] }] },
  });
  test('the start Lambda only reads, through S3; the clean-up only publishes, through SNS', () => {
    expect(keyStatements('TriggerStartRunRole').map((s) => [s.Action, s.Condition])).toEqual([['kms:Decrypt', via('s3')]]);
    expect(keyStatements('CleanupCleanUpRole').map((s) => [s.Action, s.Condition])).toEqual([
      [['kms:Decrypt', 'kms:GenerateDataKey'], via('sns')],
    ]);
  });
  test('no role may use the key outside a service, nor with a wildcard action', () => {
    const keyUses = Object.values(PRIVATE_KMS.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown }[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    expect(keyUses.length).toBeGreaterThan(10);
    expect(keyUses.filter((s) => s.Condition === undefined || [s.Action].flat().some((a) => a.includes('*')))).toEqual([]);
  });
});

describe("the clean-up's dead letters (issue 16, item 7)", () => {
  const alarms = (template: Template) =>
    Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => /DeadLettersAlarm/.test(id));
  test("the clean-up has its own dead-letter alarm beside the other EventBridge targets'; under a customer key each notifies the run topic", () => {
    expect(alarms(PRIVATE_KMS).map(([id]) => id.replace(/DeadLetters.*$/, ''))).toContain('Cleanup');
    for (const [, alarm] of alarms(PRIVATE_KMS))
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^WorkflowNotifications/) }]);
  });
  test('under the AWS-managed SNS key the alarms have no action (CloudWatch cannot publish there)', () => {
    for (const [, alarm] of alarms(DEFAULT)) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });
});
