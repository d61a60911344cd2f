import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { unbundledApp } from '../../lib/synthesize';

export { synthesizeStack as synthStack, unbundledApp as testApp } from '../../lib/synthesize';

/**
 * A stack of its own for the construct under test and the few things it needs, as aws-cdk's own
 * tests make them: cdk.json's feature flags (the buckets depend on them), no asset bundling.
 */
export function bareStack(id = 'Test'): Stack {
  return new Stack(unbundledApp(), id);
}

interface Statement {
  Effect?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Policy statements of the roles whose logical IDs start with `rolePrefix`. */
export function statementsOf(template: Template, rolePrefix: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
