import { statementsOf } from '../../helpers/stack';
import { workflowStack } from '../../helpers/workflow-stack';

/** The workflow's Lambdas and their grants (lib/workflow/functions.ts), with a customer key and a foreign bucket to import from. */
const { template } = workflowStack({ storage: { encryption: 'kms' }, import: { readBuckets: ['old-labeling-output'] } });

describe('workflow Lambdas', () => {
  test('Lambdas run on Node.js 22 or newer, and every log group keeps its logs a month', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((fn) => fn.Properties.Handler === 'index.handler');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(30);
  });

  test('a customer key is granted to the Lambdas that touch the data', () => {
    for (const role of ['WorkflowConvertChunkRole', 'WorkflowAssembleChannelsRole']) {
      expect({ role, kms: JSON.stringify(statementsOf(template, role)).includes('kms:Decrypt') }).toEqual({ role, kms: true });
    }
  });

  test('buckets listed in import.readBuckets are granted read-only to the converter, nothing else', () => {
    const statements = statementsOf(template, 'WorkflowConvertChunkRole');
    const foreign = statements.filter((s) => JSON.stringify(s.Resource).includes('old-labeling-output'));
    expect(foreign.flatMap((s) => [s.Action].flat()).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });
});
