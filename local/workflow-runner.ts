import type { Template } from 'aws-cdk-lib/assertions';

/**
 * Runs the state machine that `cdk deploy` ships, on this machine: the synthesized definition is
 * resolved to plain JSON and executed by aws-local-stepfunctions. Lambda states run the real handlers
 * in this process; every other task (SageMaker, SNS, EventBridge) is answered by a local stand-in the
 * caller supplies. The tests and the local run share it.
 */

// aws-local-stepfunctions targets Node 22; Node 20 lacks Promise.withResolvers.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '123456789012';

type Json = unknown;

export interface ResolveContext {
  /** Values of `Ref`s (by logical ID) and of `Fn::GetAtt` ARNs (by `<logical ID>.Arn`); others resolve to their logical ID. */
  readonly refs: Record<string, string>;
  readonly mappings: Record<string, Record<string, Record<string, string>>>;
  readonly region?: string;
}

/** Resolves the CloudFormation functions a state machine definition holds, for one region. */
export function resolveCloudFormation(value: Json, context: ResolveContext): Json {
  const region = context.region ?? LOCAL_REGION;
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::StackName': 'Segpipe',
  };
  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve);
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v as Record<string, Json>);
    if (entries.length === 1) {
      const [fn, args] = entries[0];
      if (fn === 'Ref') {
        const name = args as string;
        const resolved = pseudo[name] ?? context.refs[name];
        return resolved ?? name;
      }
      if (fn === 'Fn::GetAtt') {
        const [logicalId, attribute] = args as [string, string];
        if (attribute !== 'Arn') throw new Error(`cannot resolve Fn::GetAtt ${logicalId}.${attribute}`);
        return context.refs[`${logicalId}.Arn`] ?? `arn:aws:local:${region}:${LOCAL_ACCOUNT}:${logicalId}`;
      }
      if (fn === 'Fn::Join') {
        const [separator, parts] = args as [string, Json[]];
        return parts.map((p) => String(resolve(p))).join(separator);
      }
      if (fn === 'Fn::FindInMap') {
        const [map, key, attribute] = (args as Json[]).map(resolve) as string[];
        const value = context.mappings[map]?.[key]?.[attribute];
        if (value === undefined) throw new Error(`no ${map}.${key}.${attribute} in the mappings`);
        return value;
      }
      if (fn === 'Fn::Sub' && typeof args === 'string') {
        // The assets bucket's name (`cdk-<qualifier>-assets-${AWS::AccountId}-${AWS::Region}`): pseudo parameters and refs only.
        return args.replace(/\$\{([^}!]+)\}/g, (_, name: string) => String(resolve({ Ref: name })));
      }
      if (fn === 'Fn::Select') {
        const [index, list] = args as [number, Json];
        return (resolve(list) as Json[])[index];
      }
      if (fn === 'Fn::Split') {
        const [separator, source] = args as [string, Json];
        return String(resolve(source)).split(separator);
      }
    }
    return Object.fromEntries(entries.map(([k, x]) => [k, resolve(x)]));
  };
  return resolve(value);
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, Json>;
  readonly ItemProcessor?: AslDefinition;
  readonly [key: string]: Json;
}

/** A state machine's definition from a synthesized template, by its logical ID, resolved to plain JSON. */
export function synthesizedDefinition(
  template: Template,
  logicalId: string,
  refs: Record<string, string>,
  region = LOCAL_REGION,
): AslDefinition {
  const json = template.toJSON();
  const machine = (json.Resources as Record<string, { Type: string; Properties: Record<string, Json> }>)[logicalId];
  if (machine?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`the template has no state machine ${logicalId}`);
  const text = resolveCloudFormation(machine.Properties.DefinitionString, { refs, mappings: json.Mappings ?? {}, region });
  return JSON.parse(String(text));
}

/** Every state of a definition, with those inside Map item processors. */
export function allStates(definition: AslDefinition): [string, AslState][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}

export type TaskHandler = (input: Json) => Promise<Json>;

export interface ExecutionEvent {
  readonly type: string;
  readonly state?: string;
}

export interface RunWorkflowOptions {
  readonly definition: AslDefinition;
  readonly input: Json;
  /** The execution's name: the run id. */
  readonly executionName: string;
  /** Handlers of Task states by state name; a Task without one fails the run before it starts. */
  readonly tasks: Record<string, TaskHandler>;
  /** Called as the run enters each state (for progress output). */
  readonly onState?: (name: string) => void;
  /** Seconds every Wait state waits. @default 0 */
  readonly waitSeconds?: number;
  /**
   * Aborts the execution: no Task starts after it, and the run ends (FAILED, `ExecutionAborted`)
   * once the Tasks already running have returned, so that nothing of it still talks to the local
   * stand-ins when they are closed.
   */
  readonly signal?: AbortSignal;
}

export interface WorkflowOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  /** Names of the states entered, in order. */
  readonly path: string[];
}

/**
 * What a Task without `TimeoutSeconds` may take locally. Step Functions gives such a Task no timeout
 * (a Lambda's own timeout bounds it), while aws-local-stepfunctions applies the States Language
 * specification's 60 s, which converting or training a large local batch exceeds. One day stands in
 * for none (Node's timers stop at 24.8 days).
 */
export const LOCAL_TASK_TIMEOUT_SECONDS = 86_400;

/**
 * The definition with {@link LOCAL_TASK_TIMEOUT_SECONDS} on every Task that sets no timeout of its
 * own, and without `ResultPath: "$"` (the default, spelt out by CDK): aws-local-stepfunctions stores
 * such a result under a key named `$` instead of replacing the state with it, as Step Functions does.
 */
export function withStepFunctionsTaskTimeouts(definition: AslDefinition): AslDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, original]) => {
      const { ResultPath, ...rest } = original as AslState & { ResultPath?: unknown };
      const state = (ResultPath === '$' ? rest : original) as AslState;
      const ownTimeout = state.TimeoutSeconds !== undefined || state.TimeoutSecondsPath !== undefined;
      const withTimeout = state.Type === 'Task' && !ownTimeout ? { ...state, TimeoutSeconds: LOCAL_TASK_TIMEOUT_SECONDS } : state;
      return [
        name,
        withTimeout.ItemProcessor
          ? { ...withTimeout, ItemProcessor: withStepFunctionsTaskTimeouts(withTimeout.ItemProcessor) }
          : withTimeout,
      ];
    }),
  );
  return { ...definition, States: states };
}

/**
 * Definitions aws-local-stepfunctions has validated already: its validation takes about half a second
 * a run, and the tests execute one definition many times.
 */
const validatedDefinitions = new WeakSet<AslDefinition>();

/** Executes the definition locally with every Task answered by `tasks`, Waits as short as asked, Retries without delay. */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowOutcome> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const states = allStates(options.definition);
  const missing = states.filter(([name, s]) => s.Type === 'Task' && !options.tasks[name]).map(([name]) => name);
  if (missing.length > 0) throw new Error(`no local handler for the Task states ${missing.join(', ')}`);
  const waitTimeOverrides = Object.fromEntries(
    states.filter(([, s]) => s.Type === 'Wait').map(([name]) => [name, (options.waitSeconds ?? 0) * 1000]),
  );
  const retryIntervalOverrides = Object.fromEntries(states.filter(([, s]) => Array.isArray(s.Retry)).map(([name]) => [name, 0]));
  // The Tasks running now, Map iterations' included: the interpreter settles an aborted or failed run
  // without waiting for them, and they would go on using the stand-ins after the run returned.
  const running = new Set<Promise<Json>>();
  const { signal } = options;
  const tasks = Object.fromEntries(
    Object.entries(options.tasks).map(([name, handler]): [string, TaskHandler] => [
      name,
      (input) => {
        if (signal?.aborted)
          return Promise.reject(
            Object.assign(new Error(`execution ${options.executionName} was aborted before ${name}`), { name: 'ExecutionAborted' }),
          );
        const task = handler(input);
        running.add(task);
        const done = () => running.delete(task);
        task.then(done, done);
        return task;
      },
    ]),
  );
  const machine = new StateMachine(withStepFunctionsTaskTimeouts(options.definition) as never, {
    validationOptions: validatedDefinitions.has(options.definition) ? { noValidate: true } : { checkArn: false, checkPaths: false },
  });
  validatedDefinitions.add(options.definition);
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: tasks as never, waitTimeOverrides, retryIntervalOverrides },
    context: { Execution: { Name: options.executionName, Input: options.input, StartTime: new Date().toISOString() } } as never,
  });
  const abort = () => execution.abort();
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort, { once: true });
  const path: string[] = [];
  let failure: { Error: string; Cause: unknown } | undefined;
  const follow = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<{
      type: string;
      state?: { name: string };
      Error?: string;
      Cause?: unknown;
    }>) {
      if (event.type === 'StateEntered' && event.state) {
        path.push(event.state.name);
        options.onState?.(event.state.name);
      }
      if (event.type === 'ExecutionFailed') failure = { Error: String(event.Error), Cause: event.Cause };
    }
  })();
  const settled = async () => {
    signal?.removeEventListener('abort', abort);
    while (running.size > 0) await Promise.allSettled([...running]);
  };
  try {
    const output = await execution.result;
    await follow;
    await settled();
    return { status: 'SUCCEEDED', output, path };
  } catch (err) {
    await follow.catch(() => undefined);
    await settled();
    if (signal?.aborted)
      return { status: 'FAILED', error: 'ExecutionAborted', cause: `execution ${options.executionName} was aborted`, path };
    return {
      status: 'FAILED',
      error: failure?.Error ?? (err as Error).name,
      cause: String(failure?.Cause ?? (err as Error).message),
      path,
    };
  }
}
