import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/** What a role does with the data key: read what it encrypts, or write too. */
export type DataKeyAccess = 'decrypt' | 'encrypt-decrypt';

/** The services through which the data key is used (`kms:ViaService`): S3 for the buckets, SNS for the topic, Secrets Manager for the holdout key. */
export type DataKeyService = 's3' | 'sns' | 'secretsmanager';

/**
 * Lets `grantee` use the data key only through `services` (`kms:ViaService`), for what it does with
 * the data: a reader decrypts, a writer also makes data keys (S3 and SNS encrypt with
 * `GenerateDataKey`, and S3 decrypts the parts of a multipart upload). Nothing else: no `Encrypt`,
 * no `ReEncrypt`, no use of the key outside those services.
 */
export function grantDataKey(
  key: kms.IKey,
  grantee: iam.IGrantable,
  access: DataKeyAccess,
  services: readonly DataKeyService[] = ['s3'],
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: access === 'decrypt' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': services.map((service) => `${service}.${Aws.REGION}.amazonaws.com`) } },
    }),
  );
}
