import { Aws, type CfnElement, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { labelStudioPolicy } from '../lambda/labelstudio/setup';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from '../lambda/labelstudio/storage-layout';
import { IMAGES_PREFIX } from '../lambda/workflow/layout';
import { acknowledgeWildcards } from './nag';

export interface LabelStudioRoleProps {
  /** The inbox Label Studio's storages read images and tasks from and write annotations to. */
  readonly inboxBucket: s3.IBucket;
  /** The inbox's KMS key. @default - S3-managed encryption, no key to grant */
  readonly encryptionKey?: kms.IKey;
  /** The external ID Label Studio sends when it assumes the role. */
  readonly externalId: string;
  /** Who assumes it: Label Studio Enterprise's own role (HumanSignal's cloud, or a self-hosted one). */
  readonly trustedPrincipal: string;
}

/**
 * The role Label Studio Enterprise's "Amazon S3 with IAM role" storages assume, with an external ID: the
 * same least-privilege policy `segpipe labelstudio setup` prints for keys (one source for both).
 */
export class LabelStudioRole extends Construct {
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: LabelStudioRoleProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      description: "segpipe: Label Studio reads the inbox's images and tasks, writes its annotations",
      assumedBy: new iam.ArnPrincipal(props.trustedPrincipal),
      externalIds: [props.externalId],
    });
    const document = labelStudioPolicy({
      inboxBucket: props.inboxBucket.bucketName,
      kmsKeyArn: props.encryptionKey?.keyArn,
      region: Aws.REGION,
    });
    new iam.Policy(this, 'Storage', { roles: [role], document: iam.PolicyDocument.fromJson(document) });
    // cdk-nag spells the bucket's name as its logical ID in angle brackets.
    const objects = (prefix: string) =>
      `Resource::arn:aws:s3:::<${Stack.of(this).getLogicalId(props.inboxBucket.node.defaultChild as CfnElement)}>/${prefix}*`;
    acknowledgeWildcards(this, {
      [objects(IMAGES_PREFIX)]: "Label Studio shows the images segpipe's tasks name, all under images/; nothing else of the bucket",
      [objects(LABELSTUDIO_TASKS_PREFIX)]: "Label Studio's source storage imports every task segpipe writes under this prefix",
      [objects(LABELSTUDIO_ANNOTATIONS_PREFIX)]: "Label Studio's target storage writes one file per annotation under this prefix",
    });
    this.role = role;
    new CfnOutput(scope, 'LabelStudioRoleArn', {
      description: "The role Label Studio Enterprise's S3 storages assume (with the configured external ID)",
      value: role.roleArn,
    });
  }
}
