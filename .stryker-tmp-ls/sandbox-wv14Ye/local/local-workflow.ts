import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { SETTINGS_VARIABLE } from '../lambda/common/settings';
import type { ObjectCreatedEvent, StartRunResult } from '../lambda/handlers/start-run';
import type { HandlerFunction } from '../lib/handler-function';
import type { SegpipeStack } from '../lib/segpipe-stack';
import { synthesizeStack } from '../lib/synthesize';
import type { EmbeddedS3Server } from './embedded-s3-server';
import { handlerS3Environment } from './embedded-s3-server';
import { type LambdaModule, lambdaContext } from './lambda-invocation';
import {
  type AslDefinition,
  allStates,
  type RunWorkflowOptions,
  resolveCloudFormation,
  runWorkflow,
  synthesizedDefinition,
  type TaskHandler,
} from './workflow-runner';

export const INBOX_BUCKET = 'inbox';
export const ARTIFACTS_BUCKET = 'artifacts';

/** The workflow's Lambda handlers by file name; each loaded after its settings are in the environment, as Lambda would. */
const HANDLER_MODULES: Record<string, () => Promise<LambdaModule>> = {
  'check-batch': () => import('../lambda/handlers/check-batch') as never,
  'snapshot-batch': () => import('../lambda/handlers/snapshot-batch') as never,
  'take-import-turn': () => import('../lambda/handlers/take-import-turn') as never,
  'take-corrections-turn': () => import('../lambda/handlers/take-corrections-turn') as never,
  'check-quota': () => import('../lambda/handlers/check-quota') as never,
  'check-budget': () => import('../lambda/handlers/check-budget') as never,
  'prepare-run': () => import('../lambda/handlers/prepare-run') as never,
  'plan-conversion': () => import('../lambda/handlers/plan-conversion') as never,
  'convert-chunk': () => import('../lambda/handlers/convert-chunk') as never,
  'assemble-channels': () => import('../lambda/handlers/assemble-channels') as never,
  'evaluate-variants': () => import('../lambda/handlers/evaluate-variants') as never,
  'deploy-lock': () => import('../lambda/handlers/deploy-lock') as never,
  'finish-run': () => import('../lambda/handlers/finish-run') as never,
  'write-labelstudio-tasks': () => import('../lambda/handlers/write-labelstudio-tasks') as never,
  'count-annotations': () => import('../lambda/handlers/count-annotations') as never,
};

export interface LocalWorkflow {
  readonly stack: SegpipeStack;
  readonly template: Template;
  /** The synthesized state machine definition, resolved for the local buckets. */
  readonly definition: AslDefinition;
  /** The real handlers, by the name of the Lambda state that invokes them. */
  readonly lambdaStates: Record<string, TaskHandler>;
  /** The real start Lambda, with the trigger's settings: uploads' events start runs through it. */
  readonly startRun: (event: ObjectCreatedEvent) => Promise<StartRunResult>;
  /** Runs one execution; `tasks` answer the non-Lambda states by state name. */
  run(options: Omit<RunWorkflowOptions, 'definition' | 'tasks'> & { tasks: Record<string, TaskHandler> }): ReturnType<typeof runWorkflow>;
}

export interface LocalWorkflowOverrides {
  /** Settings replaced in every handler whose settings have them, such as a shorter `quietSeconds`. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Environment variables besides the handlers' settings, such as `SEGPIPE_SFN_ENDPOINT`. */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * The state machine `cdk deploy` ships, for a configuration, ready to execute on this machine: the
 * stack is synthesized, its definition resolved with the local bucket names, and its Lambda states run
 * the real handlers in this process, against the embedded S3 server, each with the settings the
 * template gives its function (and `overrides`, which the local run uses to shorten waits).
 */
export async function prepareLocalWorkflow(
  rawConfig: unknown,
  server: EmbeddedS3Server,
  overrides: LocalWorkflowOverrides = {},
): Promise<LocalWorkflow> {
  const { stack, template } = synthesizeStack(rawConfig);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const refs = {
    [logicalId(stack.storage.inboxBucket)]: INBOX_BUCKET,
    [logicalId(stack.storage.artifactsBucket)]: ARTIFACTS_BUCKET,
  };
  const definition = synthesizedDefinition(template, logicalId(stack.workflow.stateMachine), refs);

  Object.assign(
    process.env,
    {
      ...handlerS3Environment(server),
      POWERTOOLS_LOG_LEVEL: 'WARN',
      // LOCAL STAND-IN for the holdout key AWS keeps in Secrets Manager: a local run has no uploaders to hide the order from.
      SEGPIPE_LOCAL_HOLDOUT_KEY: 'segpipe local run: not a secret',
    },
    overrides.environment,
  );
  // One process runs every handler, and each reads its settings once, when its module loads: each
  // module is loaded with its own function's settings in the environment.
  const functions = template.toJSON().Resources as Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>;
  const loadWithSettings = <T>(fn: HandlerFunction, loadModule: () => Promise<T>): Promise<T> => {
    const variables = resolveCloudFormation(functions[logicalId(fn.function)].Properties.Environment.Variables, {
      refs,
      mappings: {},
    }) as Record<string, string>;
    const settings = JSON.parse(variables[SETTINGS_VARIABLE]) as Record<string, unknown>;
    for (const [name, value] of Object.entries(overrides.settings ?? {})) if (name in settings) settings[name] = value;
    process.env[SETTINGS_VARIABLE] = JSON.stringify(settings);
    return loadModule();
  };

  const lambdaStates: Record<string, TaskHandler> = {};
  for (const [name, fn] of Object.entries(stack.workflow.handlers)) {
    const loadModule = HANDLER_MODULES[name];
    if (!loadModule) throw new Error(`no local module for the handler ${name}`);
    const module = await loadWithSettings(fn, loadModule);
    const arn = `arn:aws:local:us-east-1:123456789012:${logicalId(fn.function)}`;
    for (const [state, definitionState] of allStates(definition)) {
      if (definitionState.Resource === arn)
        lambdaStates[state] = async (input) => module.handler(input, lambdaContext(name, fn.timeout.toSeconds()));
    }
  }
  const { handler: startRunHandler } = await loadWithSettings(stack.trigger.startRun, () => import('../lambda/handlers/start-run'));
  const startRun = (event: ObjectCreatedEvent) =>
    startRunHandler(event, lambdaContext('start-run', stack.trigger.startRun.timeout.toSeconds()));
  return {
    stack,
    template,
    definition,
    lambdaStates,
    startRun,
    run: ({ tasks, ...options }) => runWorkflow({ ...options, definition, tasks: { ...lambdaStates, ...tasks } }),
  };
}
