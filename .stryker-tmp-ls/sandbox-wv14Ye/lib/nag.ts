import { Aspects, type CfnElement, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct, IConstruct } from 'constructs';

/** `<LogicalId.Arn>`, as cdk-nag spells a resource's ARN in a finding. */
export function nagArnOf(construct: IConstruct): string {
  return `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;
}

/**
 * A CloudFormation value as cdk-nag spells it in a finding: joins joined, `Ref` and `Fn::GetAtt` as
 * `<Name>` and `<LogicalId.Attribute>`, any other function as its JSON.
 */
function nagSpelling(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const node = value as Record<string, unknown>;
  if (Array.isArray(node?.['Fn::Join'])) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(nagSpelling).join(delimiter);
  }
  if (Array.isArray(node?.['Fn::GetAtt'])) {
    const [resource, attribute] = node['Fn::GetAtt'] as unknown[];
    return `<${nagSpelling(resource)}.${nagSpelling(attribute)}>`;
  }
  if (node && 'Ref' in node) return `<${nagSpelling(node.Ref)}>`;
  return JSON.stringify(value);
}

/** The `AwsSolutions-IAM5` findings of a resolved policy document: each wildcard action and resource it allows. */
function wildcardFindings(document: { Statement?: { Effect?: string; Action?: unknown; Resource?: unknown }[] }): string[] {
  const findings = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of [statement.Action ?? []].flat() as string[]) if (action.includes('*')) findings.add(`Action::${action}`);
    for (const resource of [statement.Resource ?? []].flat().map(nagSpelling))
      if (resource.includes('*')) findings.add(`Resource::${resource}`);
  }
  return [...findings];
}

/**
 * Acknowledges `AwsSolutions-IAM5` findings (wildcards in IAM) on each IAM policy under `scope` that
 * has them, each with its reason: an acknowledgement covers the one policy whose statement holds the
 * wildcard, never a construct around it. The policies are read when the app synthesizes, so grants
 * made after this call are covered too; a wildcard without a reason here is left to cdk-nag to report.
 */
export function acknowledgeWildcards(scope: Construct, reasons: Record<string, string>): void {
  const aspect: IAspect = {
    visit(node: IConstruct) {
      if (!(node instanceof iam.CfnPolicy)) return;
      for (const finding of wildcardFindings(Stack.of(node).resolve(node.policyDocument))) {
        const reason = reasons[finding];
        if (reason) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
      }
    },
  };
  Aspects.of(scope).add(aspect);
}
