import { Aws } from 'aws-cdk-lib';
import { labelStudioPolicy } from '../../lambda/labelstudio/setup';
import { LABEL_STUDIO_CLOUD_PRINCIPAL, resolveConfig } from '../../lib/config';
import { statementsOf, synthStack } from '../helpers/stack';

/**
 * What a Label Studio stack adds to the template: the annotations prefix on the upload rule, the
 * grants of exactly the new prefixes, the CORS rule of the one origin, and the outputs Label Studio's
 * storages are given. One synth of the default stack (Label Studio labels) and one of Ground Truth's.
 */
const LABEL_STUDIO = synthStack({ labeling: { labelStudio: { origin: 'https://ls.example.com' } } });
const GROUND_TRUTH = synthStack({
  labelClasses: ['a'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t' },
});

const resourceText = (resource: unknown) => JSON.stringify(resource);

describe('a Label Studio stack', () => {
  const { template } = LABEL_STUDIO;

  test("the upload rule also takes the target storage's files; a Ground Truth stack's does not", () => {
    const keys = (t: typeof template) =>
      Object.values(t.findResources('AWS::Events::Rule'))
        .map((r) => r.Properties.EventPattern?.detail?.object?.key)
        .find((k) => k !== undefined);
    expect(keys(template)).toEqual([{ prefix: 'images/' }, { prefix: 'labeled/' }, { prefix: 'labelstudio/annotations/' }]);
    expect(keys(GROUND_TRUTH.template)).toEqual([{ prefix: 'images/' }, { prefix: 'labeled/' }]);
  });

  test('the new prefixes are granted to exactly the functions that use them', () => {
    const grants = (role: string) => statementsOf(template, role).map(resourceText).join('\n');
    expect(grants('WorkflowWriteLabelStudioTasks')).toContain('/labelstudio/tasks/*');
    // It writes only task files (it reads the images it pre-labels).
    const writes = statementsOf(template, 'WorkflowWriteLabelStudioTasks')
      .filter((st) => [st.Action].flat().includes('s3:PutObject'))
      .map(resourceText);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain('/labelstudio/tasks/*');
    expect(grants('WorkflowWriteLabelStudioTasks')).toContain('sagemaker:InvokeEndpoint');
    // The count reads only its batch's corrections turns (it closes the round), and writes them and the round's closed mark.
    const countReads = statementsOf(template, 'WorkflowCountAnnotations')
      .filter((st) => [st.Action].flat().includes('s3:GetObject'))
      .map(resourceText);
    expect(countReads).toEqual([expect.stringContaining('/batches/*/labelstudio-corrections/*')]);
    expect(grants('WorkflowTakeCorrectionsTurn')).toContain('/batches/*/labelstudio-corrections/*');
    expect(grants('WorkflowTakeCorrectionsTurn')).not.toContain('Inbox');
    expect(grants('TriggerStartRun')).toContain('/batches/*/labelstudio-corrections/*');
    // A run that ends where its workflow cannot report it still ends its round's conversion or its corrections turn.
    expect(grants('WorkflowRunEndedFunction')).toContain('/batches/*/labelstudio-corrections/*');
    expect(grants('WorkflowPlanConversion')).toContain('/labelstudio/annotations/*');
    expect(grants('TriggerStartRun')).toContain('/labelstudio/annotations/*');
    expect(grants('TriggerStartRun')).toContain('/batches/*/labelstudio/*');
    expect(grants('TriggerStartRun')).toContain('/labelstudio/tasks/*');
    const startRunWrites = statementsOf(template, 'TriggerStartRun')
      .filter((st) => [st.Action].flat().includes('s3:PutObject'))
      .map(resourceText);
    expect(startRunWrites).toHaveLength(1);
    expect(startRunWrites[0]).not.toContain('Inbox');
    // No one else writes into the tasks prefix (the start Lambda reads a task's first byte).
    for (const role of [
      'WorkflowConvertChunk',
      'WorkflowPrepareRun',
      'WorkflowFinishRun',
      'WorkflowAssembleChannels',
      'WorkflowEvaluateVariants',
    ]) {
      expect(grants(role)).not.toBe('');
      expect(grants(role)).not.toContain('labelstudio/tasks');
    }
    expect(grants('WorkflowAssembleChannels')).not.toContain('labelstudio/annotations');
    const groundTruthGrants = statementsOf(GROUND_TRUTH.template, '').map(resourceText).join('\n');
    expect(groundTruthGrants).not.toContain('labelstudio');
  });

  test('the inbox lets only the configured origin read images; the outputs give the bucket and both prefixes', () => {
    const inbox = Object.entries(template.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('StorageInbox'))![1];
    expect(inbox.Properties.CorsConfiguration.CorsRules).toEqual([
      expect.objectContaining({ AllowedOrigins: ['https://ls.example.com'], AllowedMethods: ['GET', 'HEAD'] }),
    ]);
    const outputs = template.findOutputs('*');
    expect(resourceText(outputs.LabelStudioTasksPrefix.Value)).toContain('/labelstudio/tasks');
    expect(resourceText(outputs.LabelStudioAnnotationsPrefix.Value)).toContain('/labelstudio/annotations');
    expect(GROUND_TRUTH.template.findOutputs('LabelStudioTasksPrefix')).toEqual({});
  });
});

describe("Label Studio Enterprise's role, created on request", () => {
  const WITH_ROLE = synthStack({ labeling: { labelStudio: { origin: 'https://ls.example.com', role: { externalId: 'ls-ext-1234' } } } });
  const roles = (t: typeof WITH_ROLE.template) =>
    Object.entries(t.findResources('AWS::IAM::Role')).filter(([id]) => id.startsWith('LabelStudioRole'));

  test("trusts HumanSignal's cloud by default, only with the external ID; a self-hosted principal is taken as given", () => {
    const [[, role]] = roles(WITH_ROLE.template);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: LABEL_STUDIO_CLOUD_PRINCIPAL },
        Condition: { StringEquals: { 'sts:ExternalId': 'ls-ext-1234' } },
      },
    ]);
    const own = synthStack({
      labeling: { labelStudio: { role: { externalId: 'x1', trustedPrincipal: 'arn:aws:iam::111122223333:role/label-studio' } } },
    });
    expect(roles(own.template)[0][1].Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      AWS: 'arn:aws:iam::111122223333:role/label-studio',
    });
  });

  test('allowed exactly what the setup text prints for keys, and its ARN is an output; no role unless asked', () => {
    const statements = statementsOf(WITH_ROLE.template, 'LabelStudioRole');
    const printed = WITH_ROLE.stack.resolve(
      labelStudioPolicy({ inboxBucket: WITH_ROLE.stack.storage.inboxBucket.bucketName, region: Aws.REGION }),
    ) as { Statement: unknown[] };
    expect(statements).toEqual(printed.Statement);
    // A KMS-encrypted inbox: its key too, through S3 only.
    const kms = synthStack({ storage: { encryption: 'kms' }, labeling: { labelStudio: { role: { externalId: 'ls-ext-1234' } } } });
    expect(statementsOf(kms.template, 'LabelStudioRole').at(-1)).toMatchObject({
      Sid: 'UseTheInboxKey',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
    });
    expect(WITH_ROLE.template.findOutputs('LabelStudioRoleArn')).not.toEqual({});
    expect(roles(LABEL_STUDIO.template)).toEqual([]);
    expect(LABEL_STUDIO.template.findOutputs('LabelStudioRoleArn')).toEqual({});
  });

  test('an external ID that is not one is refused with what is allowed', () => {
    expect(() => resolveConfig({ labeling: { labelStudio: { role: { externalId: 'a b' } } } })).toThrow(
      /labeling\.labelStudio\.role\.externalId.*2 to 1224 of letters, digits and _\+=,\.@:\/-/,
    );
  });
});
