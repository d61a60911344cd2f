import { BudgetExceededError, checkBudget, DEFAULT_PRICE_TABLE, estimateRunCost, formatEstimate } from '../../../lambda/cost/estimate';
import { resolveConfig } from '../../../lib/config';

const PUBLIC = resolveConfig({
  labelClasses: ['turtle'],
  workforce: { type: 'public', publicTaskPriceUsd: 0.96, attestNoPersonalData: true },
});

describe('estimateRunCost', () => {
  test('the default config: Label Studio with pre-labels, an hour of ml.p3.2xlarge, ml.c5.xlarge until the idle clean-up, a second one while a challenger is evaluated', () => {
    const estimate = estimateRunCost(resolveConfig({}), { images: 300 });
    // Pre-labels: 300 s of the endpoint, and 300 s / 4 at a time of a 1 GB Lambda.
    // The challenger's instance: two updates of 10 min, and 200 requests of 1 s (100 images to each variant).
    expect(estimate.lines.map((l) => [l.item, Number(l.usd.toFixed(4))])).toEqual([
      ['Labeling', 0],
      ['Pre-labels', Number(((0.204 * 300) / 3600 + 75 * 0.0000166667).toFixed(4))],
      ['Training', 3.825],
      ['Hosting', 0.612],
      ['Evaluation', Number(((0.204 * (20 + 200 / 60)) / 60).toFixed(4))],
    ]);
    expect(estimate.lines[0].detail).toBe('Label Studio: your own annotators, no per-object charge');
    expect(formatEstimate(estimate).split('\n').pop()).toBe('Total: $4.53');
  });

  test("pre-labels grow with the images and the table's assumptions; imported labels have none", () => {
    const table = {
      ...DEFAULT_PRICE_TABLE,
      labelStudio: { secondsPerImage: 2, writerMemoryGb: 2, imagesAtOnce: 8, lambdaUsdPerGbSecond: 0.00002 },
    };
    const line = estimateRunCost(resolveConfig({}), { images: 3600 }, table).lines.find((l) => l.item === 'Pre-labels');
    // 7200 s of the endpoint (2 h), and 7200 s / 8 at a time of a 2 GB Lambda.
    expect(line).toEqual({
      item: 'Pre-labels',
      usd: expect.closeTo(0.204 * 2 + 900 * 2 * 0.00002, 9),
      detail: expect.stringContaining('3600 images to the serving ml.c5.xlarge at about 2 s each (2.00 h at $0.204/h)'),
    });
    expect(estimateRunCost(resolveConfig({}), { images: 3600, labelsImported: true }).lines.map((l) => l.item)).not.toContain('Pre-labels');
    expect(estimateRunCost(resolveConfig({ labeling: { tool: 'none' } }), { images: 3600 }).lines.map((l) => l.item)).not.toContain(
      'Pre-labels',
    );
  });

  test('the public crowd: Ground Truth per object plus the task price per worker and image', () => {
    const estimate = estimateRunCost(PUBLIC, { images: 300 });
    expect(estimate.lines[0].usd).toBeCloseTo(300 * 0.08 + 0.96 * 3 * 300, 6);
    expect(estimate.totalUsd).toBeCloseTo(24 + 864 + 3.825 + 0.612 + (0.204 * (20 + 200 / 60)) / 60, 6);
  });

  test("Ground Truth's tiers apply past 50,000 objects; a private team adds no workforce charge", () => {
    const estimate = estimateRunCost({ ...PUBLIC, workforce: { ...PUBLIC.workforce, type: 'private' } }, { images: 60_000 });
    expect(estimate.lines[0].usd).toBeCloseTo(50_000 * 0.08 + 10_000 * 0.04, 6);
    expect(estimate.lines[0].detail).toContain('no workforce charge');
  });

  test("spot takes the table's typical saving off training; imports pay no labeling", () => {
    const spot = resolveConfig({ training: { spot: true, maxRuntimeSeconds: 7200 } });
    const estimate = estimateRunCost({ ...spot, workforce: PUBLIC.workforce }, { images: 100, labelsImported: true });
    expect(estimate.lines[0].usd).toBe(0);
    expect(estimate.lines[1].usd).toBeCloseTo(3.825 * 2 * (1 - DEFAULT_PRICE_TABLE.spot.typicalSaving), 6);
  });

  test('hosting stands until the time-to-live when that is sooner, and for a day in a clean-up dry run', () => {
    const ttl = estimateRunCost(resolveConfig({ hosting: { timeToLiveHours: 1 } }), { images: 1 });
    const hosting = (estimate: ReturnType<typeof estimateRunCost>) => estimate.lines.find((l) => l.item === 'Hosting')!;
    expect(hosting(ttl).usd).toBeCloseTo(0.204 * 2, 6);
    const dryRun = estimateRunCost(resolveConfig({ cleanup: { dryRun: true } }), { images: 1 });
    expect(hosting(dryRun).usd).toBeCloseTo(0.204 * 24, 6);
    expect(hosting(dryRun).detail).toContain('cleanup.dryRun is on, so nothing deletes it');
  });

  test("the evaluation window grows with evaluation.maxImages and the table's assumptions", () => {
    const estimate = estimateRunCost(
      resolveConfig({ evaluation: { maxImages: 600 } }),
      { images: 1 },
      { ...DEFAULT_PRICE_TABLE, evaluation: { endpointUpdateMinutes: 15, secondsPerRequest: 3 } },
    );
    // 2 × 15 min + 1200 requests × 3 s = 90 min.
    expect(estimate.lines.find((l) => l.item === 'Evaluation')).toEqual({
      item: 'Evaluation',
      usd: expect.closeTo(0.204 * 1.5, 9),
      detail: expect.stringContaining(
        'for 1.50 h: 2 endpoint updates of about 15 min and 1200 requests (evaluation.maxImages 600 to each variant) at about 3 s',
      ),
    });
  });

  test('an instance type missing from the table is named, not guessed', () => {
    const estimate = estimateRunCost(resolveConfig({ hosting: { instanceType: 'ml.r5.24xlarge' } }), { images: 1 });
    expect(estimate.unpriced).toEqual(['hosting on ml.r5.24xlarge']);
    expect(formatEstimate(estimate)).toContain('Not priced (add to the price table): hosting on ml.r5.24xlarge.');
  });
});

describe('checkBudget', () => {
  test('over the budget: a clear error with the estimate; within it: a message', () => {
    const settings = { ...PUBLIC, budgetUsd: 100 };
    expect(() => checkBudget(settings, { images: 300 })).toThrow(BudgetExceededError);
    expect(() => checkBudget(settings, { images: 300 })).toThrow(
      /\$892\.52, is over the budget of \$100\.00 per run[\s\S]*Total: \$892\.52$/,
    );
    expect(checkBudget(settings, { images: 10 }).message).toBe('estimated $34.12, within the budget of $100.00');
    expect(checkBudget(PUBLIC, { images: 300 }).message).toBe('no budget set; estimated $892.52');
  });

  test('an estimate exactly equal to the budget is within it; a cent less of budget stops the run', () => {
    const estimate = estimateRunCost(PUBLIC, { images: 10 });
    const atBudget = { ...PUBLIC, budgetUsd: estimate.totalUsd };
    expect(checkBudget(atBudget, { images: 10 }).message).toBe('estimated $34.12, within the budget of $34.12');
    expect(formatEstimate(estimate, atBudget.budgetUsd)).toContain('this estimate is within it.');
    expect(() => checkBudget({ ...PUBLIC, budgetUsd: estimate.totalUsd - 0.01 }, { images: 10 })).toThrow(BudgetExceededError);
  });

  test('an unpriced part cannot be checked against a budget', () => {
    expect(() => checkBudget({ ...PUBLIC, budgetUsd: 1000, workforce: { ...PUBLIC.workforce, type: 'vendor' } }, { images: 10 })).toThrow(
      expect.objectContaining({
        name: 'BudgetUncheckable',
        message: expect.stringContaining("the price table has no price for the vendor workforce's price"),
      }),
    );
  });
});
