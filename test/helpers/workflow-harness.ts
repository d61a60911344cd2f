import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { S3ObjectStore } from '../../lambda/convert/s3-object-store';
import { EmbeddedS3Server, startEmbeddedS3Server } from '../../lambda/local/embedded-s3-server';
import { AslDefinition, TaskHandler, allStates, resolveCloudFormation, runWorkflow, synthesizedDefinition } from '../../lambda/local/workflow-runner';
import { SegpipeStack } from '../../lib/segpipe-stack';
import { synthStack } from './stack';

export const INBOX_BUCKET = 'inbox';
export const ARTIFACTS_BUCKET = 'artifacts';

export interface WorkflowHarness {
  readonly stack: SegpipeStack;
  readonly template: Template;
  readonly definition: AslDefinition;
  readonly server: EmbeddedS3Server;
  readonly store: S3ObjectStore;
  /** The real handlers, by the name of the Lambda state that invokes them. */
  readonly lambdaStates: Record<string, TaskHandler>;
  /** Runs one execution; `fakes` answer the non-Lambda tasks by state name. */
  run(options: { input: unknown; executionName: string; fakes: Record<string, TaskHandler> }): ReturnType<typeof runWorkflow>;
  close(): Promise<void>;
}

const HANDLER_MODULES: Record<string, () => Promise<{ handler: TaskHandler }>> = {
  'check-batch': () => import('../../lambda/handlers/check-batch') as never,
  'snapshot-batch': () => import('../../lambda/handlers/snapshot-batch') as never,
  'check-quota': () => import('../../lambda/handlers/check-quota') as never,
  'check-budget': () => import('../../lambda/handlers/check-budget') as never,
  'prepare-run': () => import('../../lambda/handlers/prepare-run') as never,
  'plan-conversion': () => import('../../lambda/handlers/plan-conversion') as never,
  'convert-chunk': () => import('../../lambda/handlers/convert-chunk') as never,
  'assemble-channels': () => import('../../lambda/handlers/assemble-channels') as never,
  'finish-run': () => import('../../lambda/handlers/finish-run') as never,
};

/**
 * The synthesized state machine, ready to execute locally: an embedded S3 server holds the buckets,
 * Lambda states run the real handlers against it with the environment the template gives them.
 */
export async function startWorkflowHarness(rawConfig: unknown, environmentOverrides: Record<string, string> = {}): Promise<WorkflowHarness> {
  const { stack, template } = synthStack(rawConfig);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const refs = {
    [logicalId(stack.storage.inboxBucket)]: INBOX_BUCKET,
    [logicalId(stack.storage.artifactsBucket)]: ARTIFACTS_BUCKET,
  };
  const definition = synthesizedDefinition(template, logicalId(stack.workflow.stateMachine), refs);

  const server = await startEmbeddedS3Server({ buckets: [INBOX_BUCKET, ARTIFACTS_BUCKET] });
  const functions = template.toJSON().Resources as Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }>;
  const firstHandler = Object.values(stack.workflow.handlers)[0];
  const variables = functions[logicalId(firstHandler.function)].Properties.Environment!.Variables;
  const environment = resolveCloudFormation(variables, { refs, mappings: {} }) as Record<string, string>;
  Object.assign(process.env, environment, {
    SEGPIPE_S3_ENDPOINT: server.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  }, environmentOverrides);

  const lambdaStates: Record<string, TaskHandler> = {};
  for (const [name, fn] of Object.entries(stack.workflow.handlers)) {
    const module = await HANDLER_MODULES[name]();
    const arn = `arn:aws:local:us-east-1:123456789012:${logicalId(fn.function)}`;
    for (const [state, definitionState] of allStates(definition)) {
      if (definitionState.Resource === arn) lambdaStates[state] = async (input) => module.handler(input);
    }
  }
  const store = new S3ObjectStore(server.client());
  return {
    stack, template, definition, server, store, lambdaStates,
    run: ({ input, executionName, fakes }) => runWorkflow({ definition, input, executionName, tasks: { ...lambdaStates, ...fakes } }),
    close: async () => {
      store.client.destroy();
      await server.close();
    },
  };
}
