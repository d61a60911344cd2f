import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SegpipeStorage, type SegpipeStorageProps } from '../../lib/storage';
import { bareStack } from '../helpers/stack';

/** SegpipeStorage alone in a stack, and its template. */
function storage(props: SegpipeStorageProps = {}) {
  const stack = bareStack();
  const construct = new SegpipeStorage(stack, 'Storage', props);
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('storage', () => {
  const { template } = storage();
  const dataBuckets = ['Inbox', 'Artifacts'];

  function bucket(name: string) {
    const buckets = template.findResources('AWS::S3::Bucket');
    const id = Object.keys(buckets).find((key) => key.startsWith(`Storage${name}`));
    if (!id) throw new Error(`no bucket ${name}`);
    return { id, resource: buckets[id] };
  }

  test.each(['Inbox', 'Artifacts', 'AccessLogs'])('%s bucket is encrypted, private, retained and aborts stale uploads', (name) => {
    const { resource } = bucket(name);
    expect(resource.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe(
      'AES256',
    );
    expect(resource.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' })]),
    );
  });

  test.each(['Inbox', 'Artifacts', 'AccessLogs'])('%s bucket denies any request without TLS', (name) => {
    const { id } = bucket(name);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('the inbox sends its events to EventBridge and carries the CORS rule Ground Truth requires', () => {
    const { id, resource } = bucket('Inbox');
    expect(resource.Properties.CorsConfiguration.CorsRules).toEqual([
      {
        AllowedHeaders: [],
        AllowedMethods: ['GET'],
        AllowedOrigins: ['*'],
        ExposedHeaders: ['Access-Control-Allow-Origin'],
      },
    ]);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: id },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  test('the artifacts bucket expires tagged run scratch data only', () => {
    const rules = bucket('Artifacts').resource.Properties.LifecycleConfiguration.Rules;
    expect(rules).toContainEqual({
      Id: 'ExpireRunScratch',
      Status: 'Enabled',
      ExpirationInDays: 14,
      TagFilters: [{ Key: 'segpipe:retention', Value: 'scratch' }],
    });
    expect(rules.filter((r: { ExpirationInDays?: number }) => r.ExpirationInDays !== undefined)).toHaveLength(1);
  });

  test.each(dataBuckets)('%s bucket logs its access', (name) => {
    expect(bucket(name).resource.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: bucket('AccessLogs').id });
  });

  test('a customer key encrypts both data buckets, and only them (access logs take SSE-S3 only)', () => {
    const stack = bareStack();
    const key = new kms.Key(stack, 'DataKey');
    new SegpipeStorage(stack, 'Storage', { encryptionKey: key });
    const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket');
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    const encrypted = Object.entries(buckets).filter(([, b]) => {
      const sse = b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
      return (
        sse.ServerSideEncryptionByDefault.SSEAlgorithm === 'aws:kms' &&
        JSON.stringify(sse.ServerSideEncryptionByDefault.KMSMasterKeyID).includes(keyId)
      );
    });
    expect(encrypted.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['StorageArtifacts', 'StorageInbox']);
  });

  test('retainOnDelete false empties and deletes the buckets with the stack', () => {
    const destroy = storage({ retainOnDelete: false }).template;
    for (const b of Object.values(destroy.findResources('AWS::S3::Bucket'))) expect(b.DeletionPolicy).toBe('Delete');
    expect(Object.keys(destroy.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(3);
  });
});

describe("the inbox's CORS rule for Label Studio", () => {
  test('only the configured origin may GET and HEAD, as segpipe labelstudio setup prints it', () => {
    const { template } = storage({ labelingCors: false, labelStudioOrigin: 'https://ls.example.com' });
    const inbox = Object.entries(template.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('StorageInbox'))![1];
    expect(inbox.Properties.CorsConfiguration.CorsRules).toEqual([
      {
        AllowedMethods: ['GET', 'HEAD'],
        AllowedOrigins: ['https://ls.example.com'],
        AllowedHeaders: ['*'],
        ExposedHeaders: ['x-amz-server-side-encryption', 'x-amz-request-id', 'x-amz-id-2'],
        MaxAge: 3000,
      },
    ]);
  });

  test('without an origin, no CORS rule at all', () => {
    const { template } = storage({ labelingCors: false });
    const inbox = Object.entries(template.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('StorageInbox'))![1];
    expect(inbox.Properties.CorsConfiguration).toBeUndefined();
  });
});
