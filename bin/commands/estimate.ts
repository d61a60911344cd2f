import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { PriceTable, estimateRunCost, formatEstimate } from '../../lambda/cost/estimate';
import { MAX_IMAGES_PER_RUN } from '../../lambda/workflow/batch';
import { mergeContextConfig, resolveConfig } from '../../lib/config';
import { parsePositiveInteger } from './convert';

/** The repository's root: the nearest folder up from here holding cdk.json (from bin/commands or from dist). */
export function repositoryRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'cdk.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no cdk.json above ${from}: run segpipe from its repository`);
  }
}

/** An edited price table, refused with its file name when it is not one. */
function readPriceTable(file: string): PriceTable {
  let table: Partial<PriceTable>;
  try {
    table = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`price table ${file}: ${(err as Error).message}`);
  }
  const missing = (['date', 'region', 'source', 'groundTruth', 'spot', 'trainingUsdPerHour', 'hostingUsdPerHour'] as const).filter((field) => table[field] === undefined);
  if (missing.length > 0) throw new Error(`price table ${file} lacks ${missing.join(', ')} (see lambda/cost/price-table.json)`);
  return table as PriceTable;
}

interface EstimateOptions {
  images: number;
  imported: boolean;
  config?: string;
  priceTable?: string;
}

/** The runs a batch of `images` takes: full runs of the per-run maximum, then one of the rest. */
export function runsFor(images: number): { images: number; runs: number }[] {
  const full = Math.floor(images / MAX_IMAGES_PER_RUN);
  const rest = images % MAX_IMAGES_PER_RUN;
  return [...(full > 0 ? [{ images: MAX_IMAGES_PER_RUN, runs: full }] : []), ...(rest > 0 ? [{ images: rest, runs: 1 }] : [])];
}

/** `segpipe estimate`: what one run costs with the current configuration, before it is spent. */
export function estimateCommand(): Command {
  return new Command('estimate')
    .description(`print the expected cost of one run with the configuration in cdk.json (and --config), from the price table; a batch of more than ${MAX_IMAGES_PER_RUN} images, the most one run takes, is priced as the runs it takes`)
    .requiredOption('--images <n>', '(required) images in the batch', parsePositiveInteger)
    .option('--imported', 'the labels are imported (no labeling cost)', false)
    .option('--config <json>', 'configuration deep-merged over cdk.json\'s, as with cdk -c segpipe=<json>')
    .option('--price-table <file>', 'price table to use (default: lambda/cost/price-table.json)')
    .addHelpText('after', `
Examples:
  # the motivating case: 300 images with the configuration in cdk.json
  npx segpipe estimate --images 300
  # the same with three Mechanical Turk workers per image
  npx segpipe estimate --images 300 --config '{"labelClasses":["turtle"],"workforce":{"type":"public","publicTaskPriceUsd":0.84,"attestNoPersonalData":true}}'`)
    .action((options: EstimateOptions) => {
      const root = repositoryRoot();
      const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8'));
      const config = resolveConfig(mergeContextConfig(cdkJson.context?.segpipe, options.config));
      const table = readPriceTable(options.priceTable ?? join(root, 'lambda', 'cost', 'price-table.json'));
      const runs = runsFor(options.images);
      const estimates = runs.map((run) => ({ ...run, estimate: estimateRunCost(config, { images: run.images, labelsImported: options.imported }, table) }));
      if (estimates.length === 1 && estimates[0].runs === 1) {
        process.stdout.write(`${formatEstimate(estimates[0].estimate, config.budgetUsd)}\n`);
        return;
      }
      const count = runs.reduce((sum, run) => sum + run.runs, 0);
      const out = [`${options.images} images take ${count} runs: a run takes at most ${MAX_IMAGES_PER_RUN} images (their URIs travel in the Step Functions execution state), and the rest of a batch waits for the next run. Each run is priced alone.`];
      let first = 1;
      for (const { runs: times, estimate } of estimates) {
        out.push('', times === 1 ? `Run ${first}:` : `Runs ${first} to ${first + times - 1}, each:`, formatEstimate(estimate, config.budgetUsd));
        first += times;
      }
      const total = estimates.reduce((sum, { runs: times, estimate }) => sum + times * estimate.totalUsd, 0);
      out.push('', `Total: $${total.toFixed(2)} for ${count} runs`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
