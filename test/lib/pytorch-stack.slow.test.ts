import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveConfig } from '../../lib/config';
import { SegpipeStack } from '../../lib/segpipe-stack';
import { synthStack, testApp } from '../helpers/stack';

/** The whole stack with the PyTorch trainer: cdk-nag's AwsSolutions checks, and the default's template untouched by it. */
test('the stack with the PyTorch trainer synthesizes with no cdk-nag AwsSolutions finding unacknowledged', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'segpipe-nag-pytorch-'));
  const app = testApp({ outdir });
  new SegpipeStack(app, 'Segpipe', {
    config: resolveConfig({ training: { trainer: 'pytorch', spot: true }, storage: { encryption: 'kms' } }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let failure: unknown;
  try {
    app.synth();
  } catch (err) {
    failure = err;
  }
  expect({
    failure: failure && String(failure),
    report: failure ? readFileSync(join(outdir, 'validation-report.json'), 'utf8') : 'ok',
  }).toEqual({ failure: undefined, report: 'ok' });
});

test("choosing the built-in trainer explicitly synthesizes the default's template, byte for byte", () => {
  expect(JSON.stringify(synthStack({ training: { trainer: 'builtin' } }).template.toJSON())).toBe(
    JSON.stringify(synthStack({}).template.toJSON()),
  );
});
