// @ts-check
/**
 * Mutation testing (`npm run mutate`, StrykerJS 9.x: the 10.x line needs Node >= 22).
 *
 * Run from the repository's root (`stryker run tools/mutation/stryker.config.mjs`, which the npm
 * scripts do): Stryker resolves every path here, globs included, against the working directory.
 *
 * Scope: the modules users' data flows through (conversion, the workflow's steps, the clean-ups,
 * the cost estimate, the evaluation, Label Studio's tasks and annotations, and the settings, keys
 * and calls they share in common/) and the Lambda handlers over them (test/lambda/handlers/ loads
 * each with its settings). Not lib/workflow/, the state machine's definition: it has a configuration of its
 * own, stryker.workflow.config.mjs (`npm run mutate:workflow`), against one fast test file; docs/testing.md says why.
 * Each mutant runs only the tests that cover it (`perTest`); two processes, the TypeScript checker and
 * one test runner.
 * `incremental` reads the previous results from stryker-incremental.json (beside this file) and
 * re-tests only the mutants whose code or covering tests changed, then rewrites it. The file is
 * committed: on two cores a run from nothing takes hours, so every clone starts from the last
 * results, and a change commits the file its run rewrote. `npm run mutate -- --force` re-tests
 * all. A run narrowed with `--mutate` on a copy of the results is merged back with
 * `npm run mutate:merge -- --only <its files>`, and so are parts run at once in separate worktrees
 * (docs/testing.md, Mutation testing).
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  mutate: [
    'lambda/convert/**/*.ts',
    'lambda/workflow/**/*.ts',
    'lambda/cleanup/**/*.ts',
    'lambda/cost/**/*.ts',
    'lambda/evaluation/**/*.ts',
    'lambda/handlers/**/*.ts',
    'lambda/labelstudio/**/*.ts',
    'lambda/common/**/*.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // Jest's --findRelatedTests follows imports only between files under its `roots` (test/), so a
    // module reached through another lambda/ module would look untested: every test runs in the
    // initial run, and per-test coverage then picks the tests each mutant needs.
    enableFindRelatedTests: false,
    // package.json's "jest" section, with these keys replaced (a shallow merge):
    config: {
      // Only the tests of lambda/ (test/lambda/). The command-line tests (test/bin/) run the esbuild
      // bundle in a child process, which never sees the active mutant, and the global set-up only
      // builds that bundle. The end-to-end suites (test/local/, test/workflow/: whole
      // workflows, 15-70 s a file) and the CDK synth tests (test/lib/) would re-run for every mutant
      // they reach and blow the 30-minute budget; they stay in `npm test`.
      globalSetup: null,
      // A test or hook a mutant leaves waiting fails after 15 s (killed) instead of waiting for
      // Stryker's time-out (1.5 times the time of every test covering the mutant, then a new
      // process): a conversion mutant's covering tests take 20 s. Every test here but one (which sets
      // its own) takes under 5 s.
      testTimeout: 15000,
      // Jest's node environment, with the coverage of a beforeAll handed to the tests it serves.
      testEnvironment: './tools/mutation/stryker.jest-environment.cjs',
      // Only the test files that hold the mutant's tests, from the map the environment wrote.
      testSequencer: './tools/mutation/stryker.jest-sequencer.cjs',
      // This replaces package.json's list, so its slow suites are left out here again (the Label Studio
      // frontend's runs Chromium and the command-line bundle, which the sandbox does not build).
      // test/setup/ is left out too: its test runs npm test's prerequisite check, which installs Debian
      // packages when they are missing, and on a new machine that raced the tests reading masks with PIL.
      testPathIgnorePatterns: ['/node_modules/', '\\.slow\\.test\\.ts$', '<rootDir>/test/(bin|lib|local|pytorch|setup|tools|workflow)/'],
    },
  },
  // Not copied into the sandbox: what the mutation run never loads.
  ignorePatterns: [
    '/test/bin/',
    '/test/lib/',
    '/test/local/',
    '/test/pytorch/',
    '/test/setup/',
    '/test/tools/',
    '/test/workflow/',
    '/tools/bench/',
    '/tools/docs/',
    '/docs/',
    '/cdk.out/',
    '/coverage/',
    '/.segpipe-local/',
    '/tools/mutation/stryker-incremental.json',
    '/tools/mutation/stryker-incremental.inputs.json',
    '/tools/mutation/stryker-workflow-incremental.json',
    '/tools/mutation/stryker-workflow-incremental.inputs.json',
    '/README.md',
    '/CONTRIBUTING.md',
    '/reports/',
  ],
  checkers: ['typescript'],
  // lambda/ only: a mutant's type errors are in lambda/, and the tests, stack and CLI need not be re-checked.
  tsconfigFile: 'tools/mutation/tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  disableTypeChecks: 'lambda/**/*.ts',
  coverageAnalysis: 'perTest',
  // A static mutant (code run when its module loads) that no test is credited with would run every test
  // of test/lambda/, about three minutes each: it is counted as ignored, not scored. One that tests are
  // credited with (the environment credits a hook's coverage to its tests) still runs those tests: in the
  // first run of lambda/common/ (2026-12-08) every static mutant was such, and none came out ignored.
  ignoreStatic: true,
  concurrency: 2,
  incremental: true,
  incrementalFile: 'tools/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 10000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
