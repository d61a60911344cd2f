import { SETTINGS_VARIABLE } from '../../../lambda/common/settings';
import { BudgetUncheckableError, checkBudget, DEFAULT_PRICE_TABLE, estimateRunCost, pickCostSettings } from '../../../lambda/cost/estimate';
import { resolveConfig } from '../../../lib/config';
import { workflowStack } from '../../helpers/workflow-stack';

/** The settings a handler's Lambda is deployed with, for a configuration. */
function functionEnvironmentSettings(rawConfig: unknown, handler: string): unknown {
  const { stack, workflow, template } = workflowStack(rawConfig);
  const fn = workflow.handlers[handler];
  const id = stack.getLogicalId(fn.function.node.defaultChild as never);
  return JSON.parse(template.toJSON().Resources[id].Properties.Environment.Variables[SETTINGS_VARIABLE]);
}

/** The PyTorch trainer's instance is what a run's estimate, budget stop and (check-quota) quota check price and check. */
const PYTORCH = resolveConfig({ training: { trainer: 'pytorch', pytorch: { instanceType: 'ml.g4dn.xlarge' } }, budgetUsd: 50 });

test('the estimate prices training on training.pytorch.instanceType, and says it is the PyTorch trainer', () => {
  const line = estimateRunCost(PYTORCH, { images: 300 }).lines.find((l) => l.item === 'Training')!;
  expect(line.usd).toBeCloseTo(DEFAULT_PRICE_TABLE.trainingUsdPerHour['ml.g4dn.xlarge'], 6);
  expect(line.detail).toMatch(/^ml\.g4dn\.xlarge \(PyTorch trainer\) at \$0\.736\/h/);
  // The built-in's type is not what is priced.
  expect(
    estimateRunCost(resolveConfig({ training: { pytorch: { instanceType: 'ml.g4dn.xlarge' } } }), { images: 300 }).lines.find(
      (l) => l.item === 'Training',
    )!.detail,
  ).toMatch(/^ml\.p3\.2xlarge at/);
});

test("the budget Lambda's settings carry the PyTorch instance, and the default's settings are unchanged", () => {
  expect(pickCostSettings(PYTORCH).training).toEqual({
    trainer: 'pytorch',
    instanceType: 'ml.g4dn.xlarge',
    maxRuntimeSeconds: 3600,
    spot: false,
  });
  expect(pickCostSettings(resolveConfig({})).training).toEqual({ instanceType: 'ml.p3.2xlarge', maxRuntimeSeconds: 3600, spot: false });
  expect(checkBudget(pickCostSettings(PYTORCH), { images: 300, labelsImported: true }).estimateUsd).toBeCloseTo(
    estimateRunCost(PYTORCH, { images: 300, labelsImported: true }).totalUsd,
    6,
  );
});

test('a PyTorch instance without a price stops a budgeted run rather than guessing', () => {
  const unpriced = resolveConfig({ training: { trainer: 'pytorch', pytorch: { instanceType: 'ml.c7i.large' } }, budgetUsd: 50 });
  expect(() => checkBudget(pickCostSettings(unpriced), { images: 10 })).toThrow(BudgetUncheckableError);
  expect(() => checkBudget(pickCostSettings(unpriced), { images: 10 })).toThrow(/no price for training on ml\.c7i\.large/);
});

test("the quota check before labeling asks for the PyTorch instance's quota", () => {
  expect(
    functionEnvironmentSettings({ training: { trainer: 'pytorch', pytorch: { instanceType: 'ml.g6.xlarge' }, spot: true } }, 'check-quota'),
  ).toEqual({ trainingInstanceType: 'ml.g6.xlarge', spot: true });
});
