import type { CfnElement, CfnMapping } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { resolveConfig } from '../../lib/config';
import { PYTORCH_IMAGE_ACCOUNTS } from '../../lib/pytorch-images';
import { SegpipeWorkflow, type SegpipeWorkflowProps } from '../../lib/workflow';
import {
  type AslDefinition,
  type AslState,
  allStates,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  resolveCloudFormation,
  synthesizedDefinition,
} from '../../local/workflow-runner';
import { bareStack } from './stack';

/** The built-in algorithm's image in us-east-1, as the stack's region table gives it there. */
export const ALGORITHM_IMAGE_URI = '811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1';
/** The account of Ground Truth's PRE-/ACS- Lambdas in us-east-1. */
export const GROUND_TRUTH_LAMBDA_ACCOUNT = '432418664414';

/**
 * SegpipeWorkflow in a stack of its own, with what it is given: two buckets, the algorithm's image,
 * Ground Truth's account, and the data key when the configuration asks for one (created in the
 * stack, or imported by `storage.kmsKeyArn`). Logical IDs are the deployed stack's (`Workflow...`).
 */
export function workflowStack(rawConfig: unknown) {
  const { stack, workflow } = buildWorkflow(rawConfig);
  const template = Template.fromStack(stack);
  const definition: AslDefinition = synthesizedDefinition(
    template,
    stack.getLogicalId(workflow.stateMachine.node.defaultChild as never),
    {},
  );
  const stateOf = (name: string): AslState => {
    const state = allStates(definition).find(([n]) => n === name);
    if (!state) throw new Error(`no state ${name}`);
    return state[1];
  };
  return { stack, workflow, template, definition, stateOf };
}

/** The buckets' names in a definition from {@link workflowDefinition}. */
export const DEFINITION_BUCKETS = { inbox: 'inbox', artifacts: 'artifacts' } as const;

/**
 * SegpipeWorkflow's state machine definition alone, resolved to plain JSON from the construct without
 * synthesizing the template (about a tenth of a second against seconds): the state machine
 * `workflowStack` synthesizes, the buckets named {@link DEFINITION_BUCKETS}, and the Lambda Task
 * states with the handler each invokes (`lambda/handlers/<name>.ts`); and the stack and construct, for
 * properties read without a template. `props` replace what the construct is given.
 */
export function workflowDefinition(rawConfig: unknown, props: Partial<SegpipeWorkflowProps> = {}) {
  const { stack, workflow, inboxBucket, artifactsBucket } = buildWorkflow(rawConfig, props);
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const refs = { [logicalId(inboxBucket)]: DEFINITION_BUCKETS.inbox, [logicalId(artifactsBucket)]: DEFINITION_BUCKETS.artifacts };
  const machine = workflow.stateMachine.node.defaultChild as CfnStateMachine;
  // The PyTorch trainer's images name their account through its mapping, here for the local region only.
  const imageAccounts = workflow.node.tryFindChild('PyTorchTrainer')?.node.tryFindChild('ImageAccounts') as CfnMapping | undefined;
  const mappings = imageAccounts
    ? { [stack.getLogicalId(imageAccounts)]: { [LOCAL_REGION]: { Account: PYTORCH_IMAGE_ACCOUNTS[LOCAL_REGION] } } }
    : {};
  const definition: AslDefinition = JSON.parse(String(resolveCloudFormation(stack.resolve(machine.definitionString), { refs, mappings })));
  const handlerOfState: Record<string, string> = {};
  for (const [handler, fn] of Object.entries(workflow.handlers)) {
    const arn = `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId(fn.function)}`;
    for (const [name, state] of allStates(definition)) if (state.Resource === arn) handlerOfState[name] = handler;
  }
  return { definition, handlerOfState, stack, workflow };
}

function buildWorkflow(rawConfig: unknown, props: Partial<SegpipeWorkflowProps> = {}) {
  const stack = bareStack();
  const config = resolveConfig(rawConfig);
  const encryptionKey =
    config.storage.encryption !== 'kms'
      ? undefined
      : config.storage.kmsKeyArn
        ? kms.Key.fromKeyArn(stack, 'DataKey', config.storage.kmsKeyArn)
        : new kms.Key(stack, 'DataKey');
  const inboxBucket = new s3.Bucket(stack, 'Inbox');
  const artifactsBucket = new s3.Bucket(stack, 'Artifacts');
  const workflow = new SegpipeWorkflow(stack, 'Workflow', {
    config,
    inboxBucket,
    artifactsBucket,
    encryptionKey,
    algorithmImageUri: ALGORITHM_IMAGE_URI,
    algorithmImageAccount: '811284229777',
    groundTruthLambdaAccount: config.workforce.type === 'none' ? undefined : GROUND_TRUTH_LAMBDA_ACCOUNT,
    resourcePrefix: 'segpipe',
    ...props,
  });
  return { stack, workflow, inboxBucket, artifactsBucket };
}
