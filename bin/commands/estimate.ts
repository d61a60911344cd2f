import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { PriceTable, estimateRunCost, formatEstimate } from '../../lambda/cost/estimate';
import { mergeContextConfig, resolveConfig } from '../../lib/config';
import { parsePositiveInteger } from './convert';

/** The repository's root: the nearest folder up from here holding cdk.json (from bin/commands or from dist). */
export function repositoryRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'cdk.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no cdk.json above ${from}: run segpipe from its repository`);
  }
}

interface EstimateOptions {
  images: number;
  imported: boolean;
  config?: string;
  priceTable?: string;
}

/** `segpipe estimate`: what one run costs with the current configuration, before it is spent. */
export function estimateCommand(): Command {
  return new Command('estimate')
    .description('print the expected cost of one run with the configuration in cdk.json (and --config), from the price table')
    .requiredOption('--images <n>', '(required) images in the batch', parsePositiveInteger)
    .option('--imported', 'the labels are imported (no labeling cost)', false)
    .option('--config <json>', 'configuration deep-merged over cdk.json\'s, as with cdk -c segpipe=<json>')
    .option('--price-table <file>', 'price table to use (default: lambda/cost/price-table.json)')
    .action((options: EstimateOptions) => {
      const root = repositoryRoot();
      const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8'));
      const config = resolveConfig(mergeContextConfig(cdkJson.context?.segpipe, options.config));
      const table: PriceTable = JSON.parse(readFileSync(options.priceTable ?? join(root, 'lambda', 'cost', 'price-table.json'), 'utf8'));
      const estimate = estimateRunCost(config, { images: options.images, labelsImported: options.imported }, table);
      process.stdout.write(`${formatEstimate(estimate, config.budgetUsd)}\n`);
    });
}
