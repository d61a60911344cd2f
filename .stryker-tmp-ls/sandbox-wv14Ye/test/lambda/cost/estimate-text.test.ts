import {
  BudgetExceededError,
  BudgetUncheckableError,
  type CostSettings,
  checkBudget,
  DEFAULT_PRICE_TABLE,
  estimateRunCost,
  formatEstimate,
  type PriceTable,
  pickCostSettings,
} from '../../../lambda/cost/estimate';

/**
 * The estimate as a user reads it (`segpipe estimate`, the budget stop's message), line by line, and
 * the arithmetic behind each line (found missing by `npm run mutate`: the other tests read the sums).
 */
const SETTINGS: CostSettings = {
  workforce: { type: 'public', workersPerObject: 3, publicTaskPriceUsd: 0.036 },
  training: { instanceType: 'ml.p3.2xlarge', maxRuntimeSeconds: 5400, spot: true },
  hosting: { instanceType: 'ml.c5.xlarge', idleMinutes: 60, timeToLiveHours: 1 },
  cleanup: { everyMinutes: 15, dryRun: false },
  evaluation: { maxImages: 30 },
};
const HEADER = (images: number) =>
  `Estimated cost of one run of ${images} images (prices: us-east-1, 2026-11-29, lambda/cost/price-table.json)`;
const NOT_COUNTED = '  Not counted: S3 storage and requests, Lambda, Step Functions, CloudWatch (cents for a run like this).';
const EVALUATION =
  '  Evaluation     $0.07  a second ml.c5.xlarge beside the serving one for 0.35 h: 2 endpoint updates of about 10 min and 60 requests (evaluation.maxImages 30 to each variant) at about 1 s; none at a first deployment';
const IDLE_HOSTING =
  '  Hosting        $0.26  ml.c5.xlarge at $0.204/h for 1.25 h, if unused once deployed: hosting.idleMinutes 60 + up to cleanup.everyMinutes 15 until the clean-up deletes it ($4.90 a day while in use)';

describe('the estimate, line by line', () => {
  test("a public crowd on spot: Ground Truth plus the task price per worker and image; spot's saving named", () => {
    const estimate = estimateRunCost(SETTINGS, { images: 120 });
    expect(estimate.lines.map((l) => l.usd)).toEqual([
      expect.closeTo(120 * 0.08 + 0.036 * 3 * 120, 9),
      expect.closeTo(3.825 * 1.5 * (1 - 0.7), 9),
      expect.closeTo(0.204 * 1.25, 9),
      // A second instance for two updates of 10 min and 60 requests of 1 s: 0.35 h.
      expect.closeTo(0.204 * 0.35, 9),
    ]);
    expect(estimate.totalUsd).toBeCloseTo(22.56 + 1.72125 + 0.255 + 0.0714, 9);
    expect(estimate.images).toBe(120);
    expect(estimate.unpriced).toEqual([]);
    expect(formatEstimate(estimate, 50)).toBe(
      [
        HEADER(120),
        '  Labeling      $22.56  Ground Truth $9.60 for 120 objects ($0.08 each in the first tier); Mechanical Turk $0.036 × 3 workers × 120 images = $12.96',
        "  Training       $1.72  ml.p3.2xlarge at $3.825/h for up to 1.50 h (training.maxRuntimeSeconds 5400), less spot's typical 70% saving",
        IDLE_HOSTING,
        EVALUATION,
        NOT_COUNTED,
        'Budget: $50.00 per run; this estimate is within it.',
        'Total: $24.61',
      ].join('\n'),
    );
  });

  test('a private team adds no workforce charge; on-demand training is said so; a time-to-live of 0 never limits hosting', () => {
    const estimate = estimateRunCost(
      {
        ...SETTINGS,
        workforce: { type: 'private', workersPerObject: 1 },
        training: { ...SETTINGS.training, spot: false },
        hosting: { ...SETTINGS.hosting, timeToLiveHours: 0 },
      },
      { images: 7 },
    );
    expect(estimate.lines.map((l) => l.usd)).toEqual([
      expect.closeTo(0.56, 9),
      expect.closeTo(3.825 * 1.5, 9),
      expect.closeTo(0.255, 9),
      expect.closeTo(0.0714, 9),
    ]);
    expect(formatEstimate(estimate)).toBe(
      [
        HEADER(7),
        '  Labeling       $0.56  Ground Truth $0.56 for 7 objects ($0.08 each in the first tier); your private workteam: no workforce charge',
        '  Training       $5.74  ml.p3.2xlarge at $3.825/h for up to 1.50 h (training.maxRuntimeSeconds 5400), on-demand',
        IDLE_HOSTING,
        EVALUATION,
        NOT_COUNTED,
        'Total: $6.62',
      ].join('\n'),
    );
  });

  test('a vendor and an unknown training type are named as unpriced; a clean-up dry run counts a day of hosting; over the budget says OVER', () => {
    const estimate = estimateRunCost(
      {
        ...SETTINGS,
        workforce: { type: 'vendor', workersPerObject: 1 },
        training: { ...SETTINGS.training, instanceType: 'ml.x.big' },
        cleanup: { everyMinutes: 15, dryRun: true },
      },
      { images: 3 },
    );
    expect(estimate.unpriced).toEqual(["the vendor workforce's price", 'training on ml.x.big']);
    expect(estimate.lines.map((l) => l.usd)).toEqual([
      expect.closeTo(0.24, 9),
      0,
      expect.closeTo(0.204 * 24, 9),
      expect.closeTo(0.0714, 9),
    ]);
    expect(formatEstimate(estimate, 1)).toBe(
      [
        HEADER(3),
        "  Labeling       $0.24  Ground Truth $0.24 for 3 objects ($0.08 each in the first tier); the vendor's own price (its AWS Marketplace listing) is not included",
        '  Training       $0.00  ml.x.big: no price in the table',
        '  Hosting        $4.90  ml.c5.xlarge at $0.204/h for a day, and on: cleanup.dryRun is on, so nothing deletes it ($4.90 a day while in use)',
        EVALUATION,
        NOT_COUNTED,
        "  Not priced (add to the price table): the vendor workforce's price, training on ml.x.big.",
        'Budget: $1.00 per run; this estimate is OVER it.',
        'Total: $5.21',
      ].join('\n'),
    );
  });

  test('workforce "none" and imported labels pay no labeling, whatever the workforce', () => {
    const none = estimateRunCost({ ...SETTINGS, workforce: { type: 'none', workersPerObject: 1 } }, { images: 3 });
    expect(none.lines[0]).toEqual({ item: 'Labeling', usd: 0, detail: 'workforce "none": labels are imported, nothing is labeled' });
    const imported = estimateRunCost(SETTINGS, { images: 3, labelsImported: true });
    expect(imported.lines[0]).toEqual({
      item: 'Labeling',
      usd: 0,
      detail: 'labels imported from a Ground Truth output manifest: nothing is labeled',
    });
    expect(imported.totalUsd).toBeCloseTo(1.72125 + 0.255 + 0.0714, 9);
  });

  test('a public crowd without a task price costs only Ground Truth', () => {
    const estimate = estimateRunCost({ ...SETTINGS, workforce: { type: 'public', workersPerObject: 3 } }, { images: 10 });
    expect(estimate.lines[0].usd).toBeCloseTo(0.8, 9);
    expect(estimate.lines[0].detail).toContain('Mechanical Turk $0 × 3 workers × 10 images = $0.00');
  });

  test('hosting stands until the time-to-live plus a sweep when that comes before the idle limit', () => {
    const estimate = estimateRunCost(
      { ...SETTINGS, hosting: { ...SETTINGS.hosting, idleMinutes: 120, timeToLiveHours: 1 } },
      { images: 1 },
    );
    expect(estimate.lines[2]).toEqual({
      item: 'Hosting',
      usd: expect.closeTo(0.204 * 1.25, 9),
      detail:
        'ml.c5.xlarge at $0.204/h for 1.25 h: hosting.timeToLiveHours 1 + up to cleanup.everyMinutes 15 until the clean-up deletes it ($4.90 a day while in use)',
    });
    const idleSooner = estimateRunCost(
      { ...SETTINGS, hosting: { ...SETTINGS.hosting, idleMinutes: 30, timeToLiveHours: 1 } },
      { images: 1 },
    );
    expect(idleSooner.lines[2].usd).toBeCloseTo(0.204 * 0.75, 9);
  });

  test('an unknown hosting type is unpriced and costs nothing in the sum', () => {
    const estimate = estimateRunCost({ ...SETTINGS, hosting: { ...SETTINGS.hosting, instanceType: 'ml.x.huge' } }, { images: 1 });
    expect(estimate.lines[2]).toEqual({ item: 'Hosting', usd: 0, detail: 'ml.x.huge: no price in the table' });
    expect(estimate.unpriced).toEqual(['hosting on ml.x.huge']);
    expect(estimate.lines.map((l) => l.item)).toEqual(['Labeling', 'Training', 'Hosting']);
  });

  test("Ground Truth's tiers: each object is charged at the tier it falls in, the last tier without end", () => {
    const table: PriceTable = {
      ...DEFAULT_PRICE_TABLE,
      groundTruth: {
        perObjectTiers: [
          { upToObjectsPerMonth: 10, usdPerObject: 1 },
          { upToObjectsPerMonth: 20, usdPerObject: 0.5 },
          { upToObjectsPerMonth: null, usdPerObject: 0.25 },
        ],
      },
    };
    const labeling = (images: number) =>
      estimateRunCost({ ...SETTINGS, workforce: { type: 'private', workersPerObject: 1 } }, { images }, table).lines[0].usd;
    expect(labeling(0)).toBe(0);
    expect(labeling(10)).toBe(10);
    expect(labeling(15)).toBe(12.5);
    expect(labeling(25)).toBe(16.25);
    expect(estimateRunCost(SETTINGS, { images: 1 }, table).lines[0].detail).toMatch(
      /^Ground Truth \$1\.00 for 1 objects \(\$1 each in the first tier\)/,
    );
  });
});

describe('pickCostSettings', () => {
  test('keeps exactly the settings the cost depends on, and drops the rest', () => {
    const config = {
      ...SETTINGS,
      budgetUsd: 12,
      labelClasses: ['turtle'],
      workforce: { ...SETTINGS.workforce, attestNoPersonalData: true },
      training: { ...SETTINGS.training, epochs: 30 },
      hosting: { ...SETTINGS.hosting, minimumMiou: 0.5 },
      cleanup: { ...SETTINGS.cleanup, notify: 'x' },
    };
    expect(pickCostSettings(config)).toStrictEqual({ ...SETTINGS, budgetUsd: 12 });
  });
});

describe('checkBudget, its messages', () => {
  test("without a budget, the estimate is given; with one, the run's estimate against it", () => {
    expect(checkBudget(SETTINGS, { images: 120 })).toEqual({
      estimateUsd: expect.closeTo(24.60765, 9),
      message: 'no budget set; estimated $24.61',
    });
    expect(checkBudget({ ...SETTINGS, budgetUsd: 30 }, { images: 120 })).toEqual({
      estimateUsd: expect.closeTo(24.60765, 9),
      message: 'estimated $24.61, within the budget of $30.00',
    });
  });

  test('over the budget: what to do, then the whole estimate', () => {
    let error: unknown;
    try {
      checkBudget({ ...SETTINGS, budgetUsd: 20 }, { images: 120 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as Error).name).toBe('BudgetExceeded');
    expect((error as Error).message).toBe(
      'the estimated cost of this run, $24.61, is over the budget of $20.00 per run, so it stopped before labeling. ' +
        'Raise budgetUsd, or send fewer images per batch, then deploy and drop _START into the batch.\n' +
        formatEstimate(estimateRunCost(SETTINGS, { images: 120 }), 20),
    );
  });

  test('an unpriced part: the budget cannot be checked, and the fix is named', () => {
    expect(() =>
      checkBudget({ ...SETTINGS, budgetUsd: 1000, hosting: { ...SETTINGS.hosting, instanceType: 'ml.x.huge' } }, { images: 1 }),
    ).toThrow(
      expect.objectContaining({
        constructor: BudgetUncheckableError,
        name: 'BudgetUncheckable',
        message:
          'the run could not be checked against the budget of $1000.00: the price table has no price for hosting on ml.x.huge. ' +
          'Add it to lambda/cost/price-table.json and deploy, or remove budgetUsd.',
      }),
    );
  });

  test('no budget: an unpriced part does not stop the run', () => {
    expect(checkBudget({ ...SETTINGS, hosting: { ...SETTINGS.hosting, instanceType: 'ml.x.huge' } }, { images: 1 }).message).toBe(
      'no budget set; estimated $1.91',
    );
  });
});
