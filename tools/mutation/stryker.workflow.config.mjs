// @ts-check
import base from './stryker.config.mjs';

/**
 * Mutation testing of the state machine's definition (`npm run mutate:workflow`): the stage files of
 * lib/workflow/ and what composes them, against test/lib/workflow/definition-paths.test.ts alone.
 *
 * A second configuration rather than a wider `npm run mutate`: every mutant here is code that runs
 * while the definition is built, once per test file (in its `beforeAll`s), so its covering tests
 * are all that file's; and code run when a module loads (a constant) counts as covering every
 * test. In the main run that would be every test of test/lambda/ (about three minutes) for each such
 * mutant, and the main run's first test run would pay for this file as well. Here a mutant costs
 * one run of that file: it builds the workflow in a bare stack and resolves its definition without
 * synthesizing a template (a tenth of a second a configuration), then executes every path with mocked
 * Task states (milliseconds each). The whole-workflow suites (test/workflow/, a minute or more a
 * file) and the template assertions (test/lib/workflow/, seconds a synth) stay out.
 *
 * Not mutated: functions.ts, roles.ts, run-ended.ts, wildcards.ts and pytorch-trainer.ts, the
 * Lambdas' settings, IAM, the ended-run rule, cdk-nag's reasons and the PyTorch assets, which no
 * execution shows; the template assertions check them. docs/testing.md says more.
 *
 * Its results have a file of their own, so that neither run rewrites the other's.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  ...base,
  mutate: [
    'lib/workflow/index.ts',
    'lib/workflow/1-wait-for-batch.ts',
    'lib/workflow/2-prepare.ts',
    'lib/workflow/3-label.ts',
    'lib/workflow/4-convert.ts',
    'lib/workflow/5-train-and-gate.ts',
    'lib/workflow/6-deploy.ts',
    'lib/workflow/7-report.ts',
    'lib/workflow/endpoint-poll.ts',
    'lib/workflow/states.ts',
  ],
  jest: {
    ...base.jest,
    config: {
      ...base.jest?.config,
      testMatch: ['<rootDir>/test/lib/workflow/definition-paths.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      // Each of its tests takes under a second; an execution a mutant leaves looping is aborted after 10 s.
      testTimeout: 15000,
    },
  },
  ignorePatterns: (base.ignorePatterns ?? []).filter((pattern) => pattern !== '/test/lib/'),
  // The TypeScript checker's project is lambda/ (tsconfig.stryker.json); a mutant that does not compile fails its tests here.
  checkers: [],
  // Unlike the main run's, a static mutant here costs one run of that one file, like any other.
  ignoreStatic: false,
  disableTypeChecks: 'lib/workflow/**/*.ts',
  incrementalFile: 'tools/mutation/stryker-workflow-incremental.json',
  // No mutant here can hang a run (each execution is aborted after 10 s, each test after 15 s), while a
  // surviving mutant runs the whole file, which on two busy cores took longer than Stryker's own
  // time-out (1.5 times the first run's time, plus 10 s) and was then counted as detected: 39 of
  // index.ts's 112 mutants in a run on 2026-12-07. A time-out here would mean a broken run, not a kill.
  timeoutMS: 180000,
  htmlReporter: { fileName: 'reports/mutation-workflow/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation-workflow/mutation.json' },
};
