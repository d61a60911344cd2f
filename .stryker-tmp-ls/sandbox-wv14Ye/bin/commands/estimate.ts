import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { estimateRunCost, formatEstimate, type PriceTable } from '../../lambda/cost/estimate';
import { readCdkJson } from '../../lib/cdk-json';
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
  const missing = (
    ['date', 'region', 'source', 'groundTruth', 'spot', 'evaluation', 'labelStudio', 'trainingUsdPerHour', 'hostingUsdPerHour'] as const
  ).filter((field) => table[field] === undefined);
  if (missing.length > 0) throw new Error(`price table ${file} lacks ${missing.join(', ')} (see lambda/cost/price-table.json)`);
  return table as PriceTable;
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
    .description(
      'print the expected cost of one run with the configuration in cdk.json (and --config), from the price table; a batch is one run whatever its size',
    )
    .requiredOption('--images <n>', '(required) images in the batch', parsePositiveInteger)
    .option('--imported', 'the labels are imported (no labeling cost)', false)
    .option('--config <json>', "configuration deep-merged over cdk.json's, as with cdk -c segpipe=<json>")
    .option('--price-table <file>', 'price table to use (default: lambda/cost/price-table.json)')
    .addHelpText(
      'after',
      `
Examples:
  # the motivating case: 300 images with the configuration in cdk.json
  npx segpipe estimate --images 300
  # the same with three Mechanical Turk workers per image
  npx segpipe estimate --images 300 --config '{"labelClasses":["turtle"],"workforce":{"type":"public","publicTaskPriceUsd":0.84,"attestNoPersonalData":true}}'`,
    )
    .action((options: EstimateOptions) => {
      const root = repositoryRoot();
      const cdkJson = readCdkJson(join(root, 'cdk.json'));
      const config = resolveConfig(mergeContextConfig(cdkJson.context?.segpipe, options.config));
      const table = readPriceTable(options.priceTable ?? join(root, 'lambda', 'cost', 'price-table.json'));
      process.stdout.write(
        `${formatEstimate(estimateRunCost(config, { images: options.images, labelsImported: options.imported }, table), config.budgetUsd)}\n`,
      );
    });
}
