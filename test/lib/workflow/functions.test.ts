import { statementsOf } from '../../helpers/stack';
import { workflowStack } from '../../helpers/workflow-stack';

/** The workflow's Lambdas and their grants (lib/workflow/functions.ts), with a customer key and a foreign bucket to import from. */
const { template } = workflowStack({
  storage: { encryption: 'kms' },
  import: { readBuckets: ['old-labeling-output', 'partner-exports/turtles/'], readBucketOwners: { 'partner-exports': '210987654321' } },
});

describe('workflow Lambdas', () => {
  test('Lambdas run on Node.js 22 or newer, and every log group keeps its logs a month', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Handler === 'index.handler',
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(30);
  });

  test('the customer key: through S3 only, decrypt only for readers, none for the Lambdas that touch no object', () => {
    const keyActions = (role: string) => statementsOf(template, role).filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    const viaS3 = { StringEquals: { 'kms:ViaService': [{ 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }] } };
    for (const role of [
      'WorkflowSnapshotBatchRole',
      'WorkflowPrepareRunRole',
      'WorkflowPlanConversionRole',
      'WorkflowConvertChunkRole',
      'WorkflowAssembleChannelsRole',
      'WorkflowFinishRunRole',
    ]) {
      expect({ role, key: keyActions(role).map((s) => [s.Action, s.Condition]) }).toEqual({
        role,
        key: [[['kms:Decrypt', 'kms:GenerateDataKey'], viaS3]],
      });
    }
    expect(keyActions('WorkflowCheckBatchRole').map((s) => [s.Action, s.Condition])).toEqual([['kms:Decrypt', viaS3]]);
    for (const role of ['WorkflowCheckQuotaRole', 'WorkflowCheckBudgetRole'])
      expect({ role, key: keyActions(role) }).toEqual({ role, key: [] });
  });

  test("locations listed in import.readBuckets are granted read-only to the converter alone, under their prefix, in their owner's bucket", () => {
    const statements = statementsOf(template, 'WorkflowConvertChunkRole');
    const foreign = (bucket: string) => statements.filter((s) => JSON.stringify(s.Resource).includes(bucket));
    const stackAccount = { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } };
    expect(foreign('old-labeling-output').map((s) => [s.Action, JSON.stringify(s.Resource), s.Condition])).toEqual([
      ['s3:GetObject', expect.stringContaining(':s3:::old-labeling-output/*"'), stackAccount],
      ['s3:ListBucket', expect.stringContaining(':s3:::old-labeling-output"'), stackAccount],
    ]);
    const partner = { StringEquals: { 's3:ResourceAccount': '210987654321' } };
    expect(foreign('partner-exports').map((s) => [s.Action, JSON.stringify(s.Resource), s.Condition])).toEqual([
      ['s3:GetObject', expect.stringContaining(':s3:::partner-exports/turtles/*"'), partner],
      ['s3:ListBucket', expect.stringContaining(':s3:::partner-exports"'), { ...partner, StringLike: { 's3:prefix': ['turtles/*'] } }],
    ]);
    for (const role of ['WorkflowAssembleChannelsRole', 'WorkflowPlanConversionRole']) {
      expect({ role, foreign: JSON.stringify(statementsOf(template, role)).match(/old-labeling-output|partner-exports/g) }).toEqual({
        role,
        foreign: null,
      });
    }
  });

  test("the conversion reads a run's labeling output, not the rest of runs/; it writes its chunk reports, not the rest", () => {
    const objects = (role: string, action: string) =>
      statementsOf(template, role)
        .filter((s) => [s.Action].flat().includes(action))
        .flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)))
        .filter((r) => r.includes('Artifacts'))
        .map((r) => /"(\/[^"]*)"\]\]\}$/.exec(r)?.[1]);
    // A Label Studio run's list of files (its round's or its corrections'), which the run wrote (the default stack labels with Label Studio).
    expect(objects('WorkflowConvertChunkRole', 's3:GetObject').sort()).toEqual([
      '/runs/*/conversion/*',
      '/runs/*/labeling/output/*',
      '/runs/*/labelstudio/files.json',
    ]);
    // Stage, check, commit: only the assembly, which checks first, writes the dataset.
    expect(objects('WorkflowConvertChunkRole', 's3:PutObject').sort()).toEqual(['/runs/*/conversion/*', '/runs/*/staging/*']);
    expect(objects('WorkflowPlanConversionRole', 's3:GetObject').sort()).toEqual([
      '/datasets/main/classes.json',
      '/runs/*/labeling/output/*',
      '/runs/*/labelstudio/files.json',
    ]);
    expect(objects('WorkflowPlanConversionRole', 's3:PutObject')).toEqual(['/runs/*/conversion/*']);
    expect(objects('WorkflowAssembleChannelsRole', 's3:DeleteObject')).toEqual(['/runs/*/staging/*']);
    expect(objects('WorkflowPrepareRunRole', 's3:PutObject').sort()).toEqual(['/runs/*/labeling/*', '/runs/*/labelstudio/*']);
    const listed = statementsOf(template, 'WorkflowAssembleChannelsRole')
      .filter((s) => s.Action === 's3:ListBucket')
      .flatMap((s) => [s.Resource].flat());
    expect(JSON.stringify(listed)).not.toContain('Inbox');
  });
});

describe('the evaluation function and its holdout key', () => {
  /** The keys an S3 grant names in the artifacts bucket (`Fn::Join` of the bucket's ARN and `/<key>`). */
  const objectsOf = (statement: { Resource: unknown }) =>
    [statement.Resource]
      .flat()
      .map((r) => {
        const join = (r as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
        return join && JSON.stringify(join[1][0]).includes('Artifacts') ? String(join[1][1]).replace(/^\//, '') : JSON.stringify(r);
      })
      .sort();
  const statements = statementsOf(template, 'WorkflowEvaluateVariantsRole');
  const withAction = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));

  test("reads the run's channels, the dataset's validation items and its index; writes only runs/*/evaluation/", () => {
    expect(withAction('s3:GetObject').flatMap(objectsOf)).toEqual([
      'datasets/main/index/*',
      'datasets/main/items.json',
      'datasets/main/validation/*',
      'datasets/main/validation_annotation/*',
      'runs/*/channels/*',
    ]);
    expect(withAction('s3:PutObject').flatMap(objectsOf)).toEqual(['runs/*/evaluation/*']);
    expect(
      statements
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
        .flatMap((s) => [s.Action].flat())
        .sort(),
    ).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });

  test("the key is a generated secret under the stack's key, read by the evaluation alone, GetSecretValue only", () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    const [[id, secret]] = Object.entries(secrets);
    expect(secret.Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
    expect(JSON.stringify(secret.Properties.KmsKeyId)).toContain('DataKey');
    const readers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes(`"Ref":"${id}"`),
    );
    expect(readers.map(([, policy]) => JSON.stringify(policy.Properties.Roles))).toEqual([
      expect.stringContaining('WorkflowEvaluateVariantsRole'),
    ]);
    const secretStatements = statements.filter((s) => JSON.stringify(s.Resource).includes(id));
    expect(secretStatements.map((s) => [s.Action, s.Resource])).toEqual([['secretsmanager:GetSecretValue', { Ref: id }]]);
    const viaSecretsManager = statements.filter((s) => JSON.stringify(s.Condition ?? {}).includes('secretsmanager.'));
    expect(viaSecretsManager.map((s) => s.Action)).toEqual(['kms:Decrypt']);
  });
});
