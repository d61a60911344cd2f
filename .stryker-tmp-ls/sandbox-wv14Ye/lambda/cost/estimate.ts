// @ts-nocheck
import PRICE_TABLE from './price-table.json';

/** The editable price table (`lambda/cost/price-table.json`). */
export interface PriceTable {
  readonly date: string;
  readonly region: string;
  readonly source: string;
  readonly groundTruth: {
    readonly perObjectTiers: readonly { readonly upToObjectsPerMonth: number | null; readonly usdPerObject: number }[];
  };
  readonly spot: { readonly typicalSaving: number };
  /** How long an evaluation keeps a second variant standing: two endpoint updates, and its requests. */
  readonly evaluation: { readonly endpointUpdateMinutes: number; readonly secondsPerRequest: number };
  /** What pre-labeling a Label Studio run's images takes: the endpoint's time per image, and the Lambda that asks it. */
  readonly labelStudio: {
    readonly secondsPerImage: number;
    readonly writerMemoryGb: number;
    readonly imagesAtOnce: number;
    readonly lambdaUsdPerGbSecond: number;
  };
  readonly trainingUsdPerHour: Readonly<Record<string, number>>;
  readonly hostingUsdPerHour: Readonly<Record<string, number>>;
}

export const DEFAULT_PRICE_TABLE: PriceTable = PRICE_TABLE;

/** The part of the configuration a run's cost depends on (a `SegpipeConfig` is one). */
export interface CostSettings {
  /** Who labels a batch of images: Label Studio (no per-object charge; the serving model pre-labels) or Ground Truth. @default Ground Truth */
  readonly labeling?: { readonly tool: string };
  readonly workforce: { readonly type: string; readonly workersPerObject: number; readonly publicTaskPriceUsd?: number };
  /**
   * The built-in algorithm trains on `instanceType`; the PyTorch trainer (`trainer: 'pytorch'`) on
   * `pytorch.instanceType` where given (a configuration), else on `instanceType` (settings picked for a Lambda).
   */
  readonly training: {
    readonly trainer?: 'builtin' | 'pytorch';
    readonly instanceType: string;
    readonly maxRuntimeSeconds: number;
    readonly spot: boolean;
    readonly pytorch?: { readonly instanceType: string };
  };
  readonly hosting: { readonly instanceType: string; readonly idleMinutes: number; readonly timeToLiveHours: number };
  readonly cleanup: { readonly everyMinutes: number; readonly dryRun: boolean };
  readonly evaluation: { readonly maxImages: number };
  readonly budgetUsd?: number;
}

/** The instance the configured trainer trains on. */
function trainingInstance(training: CostSettings['training']): string {
  return training.trainer === 'pytorch' ? (training.pytorch?.instanceType ?? training.instanceType) : training.instanceType;
}

/** Just the cost settings, for a Lambda's environment (the trainer named only when it is not the default). */
export function pickCostSettings(config: CostSettings): CostSettings {
  const { labeling, workforce, training, hosting, cleanup, evaluation, budgetUsd } = config;
  return {
    ...(labeling ? { labeling: { tool: labeling.tool } } : {}),
    workforce: { type: workforce.type, workersPerObject: workforce.workersPerObject, publicTaskPriceUsd: workforce.publicTaskPriceUsd },
    training: {
      ...(training.trainer === 'pytorch' ? { trainer: training.trainer } : {}),
      instanceType: trainingInstance(training),
      maxRuntimeSeconds: training.maxRuntimeSeconds,
      spot: training.spot,
    },
    hosting: { instanceType: hosting.instanceType, idleMinutes: hosting.idleMinutes, timeToLiveHours: hosting.timeToLiveHours },
    cleanup: { everyMinutes: cleanup.everyMinutes, dryRun: cleanup.dryRun },
    evaluation: { maxImages: evaluation.maxImages },
    budgetUsd,
  };
}

export interface CostLine {
  readonly item: 'Labeling' | 'Pre-labels' | 'Training' | 'Hosting' | 'Evaluation';
  readonly usd: number;
  readonly detail: string;
}

export interface CostEstimate {
  readonly images: number;
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  /** What the estimate could not price; a budget check refuses to guess. */
  readonly unpriced: readonly string[];
  readonly table: PriceTable;
}

export interface RunSize {
  readonly images: number;
  /** Labels come from an imported manifest: nobody is paid to label. */
  readonly labelsImported?: boolean;
}

const usd = (amount: number) => `$${amount.toFixed(2)}`;
const price = (amount: number) => `$${Number(amount.toFixed(4))}`;

/** Ground Truth's charge for `objects` labeled objects, from the first tier on (a month's first run). */
function groundTruthCharge(objects: number, table: PriceTable): number {
  let charged = 0;
  let total = 0;
  for (const tier of table.groundTruth.perObjectTiers) {
    const inTier = Math.max(0, Math.min(objects, tier.upToObjectsPerMonth ?? Infinity) - charged);
    total += inTier * tier.usdPerObject;
    charged += inTier;
  }
  return total;
}

/**
 * Pre-labels for a Label Studio run: each image is sent to the serving endpoint once, by task-writing
 * Lambdas that wait for its answer. Real-time endpoints charge no price per request: the endpoint's
 * time is counted at its hourly rate, as if the images went one after another (an upper bound).
 */
function prelabelLine(images: number, hostingRate: number | undefined, instanceType: string, table: PriceTable): CostLine {
  const { secondsPerImage, writerMemoryGb, imagesAtOnce, lambdaUsdPerGbSecond } = table.labelStudio;
  const endpointHours = (images * secondsPerImage) / 3600;
  const lambda = ((images * secondsPerImage) / imagesAtOnce) * writerMemoryGb * lambdaUsdPerGbSecond;
  const endpoint = (hostingRate ?? 0) * endpointHours;
  return {
    item: 'Pre-labels',
    usd: endpoint + lambda,
    detail:
      `${images} images to the serving ${instanceType} at about ${secondsPerImage} s each (${endpointHours.toFixed(2)} h${hostingRate === undefined ? ', no hosting price in the table' : ` at ${price(hostingRate)}/h`}) ` +
      `and the task writers' Lambda time (${usd(lambda)}); none before the first model serves`,
  };
}

/**
 * What one run is expected to cost: Ground Truth's per-object charge plus the workforce's price per
 * worker and object; the training instance up to the maximum runtime (less spot's typical saving);
 * the endpoint for as long as the clean-up lets an unused one stand; and a second instance of it while
 * a challenger is evaluated beside the serving model.
 */
export function estimateRunCost(settings: CostSettings, size: RunSize, table: PriceTable = DEFAULT_PRICE_TABLE): CostEstimate {
  const { workforce, training, hosting, cleanup, evaluation } = settings;
  const lines: CostLine[] = [];
  const unpriced: string[] = [];

  if (size.labelsImported) {
    lines.push({ item: 'Labeling', usd: 0, detail: 'labels imported from a Ground Truth output manifest: nothing is labeled' });
  } else if (settings.labeling?.tool === 'labelstudio') {
    lines.push({ item: 'Labeling', usd: 0, detail: 'Label Studio: your own annotators, no per-object charge' });
    lines.push(prelabelLine(size.images, table.hostingUsdPerHour[hosting.instanceType], hosting.instanceType, table));
  } else if (workforce.type === 'none') {
    lines.push({ item: 'Labeling', usd: 0, detail: 'workforce "none": labels are imported, nothing is labeled' });
  } else {
    const service = groundTruthCharge(size.images, table);
    const parts = [
      `Ground Truth ${usd(service)} for ${size.images} objects (${price(table.groundTruth.perObjectTiers[0].usdPerObject)} each in the first tier)`,
    ];
    let workers = 0;
    if (workforce.type === 'public') {
      const perTask = workforce.publicTaskPriceUsd ?? 0;
      workers = perTask * workforce.workersPerObject * size.images;
      parts.push(`Mechanical Turk ${price(perTask)} × ${workforce.workersPerObject} workers × ${size.images} images = ${usd(workers)}`);
    } else if (workforce.type === 'private') {
      parts.push('your private workteam: no workforce charge');
    } else {
      parts.push("the vendor's own price (its AWS Marketplace listing) is not included");
      unpriced.push("the vendor workforce's price");
    }
    lines.push({ item: 'Labeling', usd: service + workers, detail: parts.join('; ') });
  }

  const hours = training.maxRuntimeSeconds / 3600;
  const trainingType = trainingInstance(training);
  const trainer = training.trainer === 'pytorch' ? ' (PyTorch trainer)' : '';
  const trainingRate = table.trainingUsdPerHour[trainingType];
  if (trainingRate === undefined) {
    unpriced.push(`training on ${trainingType}`);
    lines.push({ item: 'Training', usd: 0, detail: `${trainingType}${trainer}: no price in the table` });
  } else {
    const saving = training.spot ? table.spot.typicalSaving : 0;
    lines.push({
      item: 'Training',
      usd: trainingRate * hours * (1 - saving),
      detail:
        `${trainingType}${trainer} at ${price(trainingRate)}/h for up to ${hours.toFixed(2)} h (training.maxRuntimeSeconds ${training.maxRuntimeSeconds})` +
        (training.spot ? `, less spot's typical ${Math.round(saving * 100)}% saving` : ', on-demand'),
    });
  }

  // An unused endpoint stands until a sweep after its idle time (or its time-to-live, if sooner)
  // deletes it; in a dry run nothing does, and a day is counted.
  const idleLimit = hosting.idleMinutes + cleanup.everyMinutes;
  const ttlLimit = hosting.timeToLiveHours > 0 ? hosting.timeToLiveHours * 60 + cleanup.everyMinutes : Infinity;
  const standingHours = cleanup.dryRun ? 24 : Math.min(idleLimit, ttlLimit) / 60;
  const standing = cleanup.dryRun
    ? 'for a day, and on: cleanup.dryRun is on, so nothing deletes it'
    : ttlLimit < idleLimit
      ? `for ${standingHours.toFixed(2)} h: hosting.timeToLiveHours ${hosting.timeToLiveHours} + up to cleanup.everyMinutes ${cleanup.everyMinutes} until the clean-up deletes it`
      : `for ${standingHours.toFixed(2)} h, if unused once deployed: hosting.idleMinutes ${hosting.idleMinutes} + up to cleanup.everyMinutes ${cleanup.everyMinutes} until the clean-up deletes it`;
  const hostingRate = table.hostingUsdPerHour[hosting.instanceType];
  if (hostingRate === undefined) {
    unpriced.push(`hosting on ${hosting.instanceType}`);
    lines.push({ item: 'Hosting', usd: 0, detail: `${hosting.instanceType}: no price in the table` });
  } else {
    lines.push({
      item: 'Hosting',
      usd: hostingRate * standingHours,
      detail: `${hosting.instanceType} at ${price(hostingRate)}/h ${standing} (${usd(hostingRate * 24)} a day while in use)`,
    });
  }
  // A challenger stands beside the serving model from the update that adds it until the one that
  // retires the champion (or removes it): two updates, and the requests to both variants between them.
  const requests = 2 * evaluation.maxImages;
  const windowHours = (2 * table.evaluation.endpointUpdateMinutes + (requests * table.evaluation.secondsPerRequest) / 60) / 60;
  if (hostingRate !== undefined) {
    lines.push({
      item: 'Evaluation',
      usd: hostingRate * windowHours,
      detail:
        `a second ${hosting.instanceType} beside the serving one for ${windowHours.toFixed(2)} h: 2 endpoint updates of about ${table.evaluation.endpointUpdateMinutes} min and ${requests} requests ` +
        `(evaluation.maxImages ${evaluation.maxImages} to each variant) at about ${table.evaluation.secondsPerRequest} s; none at a first deployment`,
    });
  }
  const totalUsd = lines.reduce((sum, line) => sum + line.usd, 0);
  return { images: size.images, lines, totalUsd, unpriced, table };
}

/** The estimate as the command line prints it; the last line is `Total: $<amount>`. */
export function formatEstimate(estimate: CostEstimate, budgetUsd?: number): string {
  const { table } = estimate;
  const out = [
    `Estimated cost of one run of ${estimate.images} images (prices: ${table.region}, ${table.date}, lambda/cost/price-table.json)`,
    ...estimate.lines.map((line) => `  ${line.item.padEnd(10)}${usd(line.usd).padStart(10)}  ${line.detail}`),
    '  Not counted: S3 storage and requests, Lambda, Step Functions, CloudWatch (cents for a run like this).',
  ];
  if (estimate.unpriced.length > 0) out.push(`  Not priced (add to the price table): ${estimate.unpriced.join(', ')}.`);
  if (budgetUsd !== undefined)
    out.push(`Budget: ${usd(budgetUsd)} per run; this estimate is ${estimate.totalUsd > budgetUsd ? 'OVER' : 'within'} it.`);
  out.push(`Total: ${usd(estimate.totalUsd)}`);
  return out.join('\n');
}

export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceeded';
  }
}

/** The estimate has a part the price table cannot price, so the budget cannot be checked. */
export class BudgetUncheckableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetUncheckable';
  }
}

/**
 * Stops a run whose estimate is over the budget, before anyone is paid to label. An estimate with
 * an unpriced part cannot be checked, and is refused too: the fix is one line in the price table.
 */
export function checkBudget(
  settings: CostSettings,
  size: RunSize,
  table: PriceTable = DEFAULT_PRICE_TABLE,
): { estimateUsd: number; message: string } {
  const estimate = estimateRunCost(settings, size, table);
  const budget = settings.budgetUsd;
  if (budget === undefined) return { estimateUsd: estimate.totalUsd, message: `no budget set; estimated ${usd(estimate.totalUsd)}` };
  if (estimate.unpriced.length > 0) {
    throw new BudgetUncheckableError(
      `the run could not be checked against the budget of ${usd(budget)}: the price table has no price for ${estimate.unpriced.join(', ')}. ` +
        'Add it to lambda/cost/price-table.json and deploy, or remove budgetUsd.',
    );
  }
  // An estimate equal to the budget is within it: the budget is the most a run may cost.
  if (estimate.totalUsd > budget) {
    throw new BudgetExceededError(
      `the estimated cost of this run, ${usd(estimate.totalUsd)}, is over the budget of ${usd(budget)} per run, so it stopped before labeling. ` +
        `Raise budgetUsd, or send fewer images per batch, then deploy and drop _START into the batch.\n${formatEstimate(estimate, budget)}`,
    );
  }
  return { estimateUsd: estimate.totalUsd, message: `estimated ${usd(estimate.totalUsd)}, within the budget of ${usd(budget)}` };
}
