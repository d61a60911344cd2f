import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/** `<LogicalId.Arn>`, as cdk-nag spells a resource's ARN in a finding. */
export function nagArnOf(construct: IConstruct): string {
  return `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;
}

/** Acknowledges `AwsSolutions-IAM5` findings (wildcards in IAM) under `scope`, each with its reason. */
export function acknowledgeWildcards(scope: Construct, findings: Record<string, string>): void {
  for (const [finding, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

/** The findings CDK's grant on a customer key raises. */
export const KMS_GRANT_FINDINGS: Record<string, string> = {
  'Action::kms:GenerateDataKey*': 'CDK\'s grant on the customer data key: encrypting objects needs every GenerateDataKey variant.',
  'Action::kms:ReEncrypt*': 'CDK\'s grant on the customer data key: S3 re-encrypts objects it copies.',
};
