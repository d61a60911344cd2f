// @ts-check
/**
 * Mutation testing (`npm run mutate`, StrykerJS 9.x: the 10.x line needs Node >= 22).
 *
 * Scope: the modules users' data flows through (conversion, the workflow's steps, the clean-ups,
 * the cost estimate). Each mutant runs only the tests that cover it (`perTest`), two at a time.
 * `incremental` keeps the previous results in reports/mutation/ (git-ignored) and re-tests only
 * the mutants whose code or covering tests changed; `npm run mutate -- --force` re-tests all.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  mutate: ['lambda/convert/**/*.ts', 'lambda/workflow/**/*.ts', 'lambda/cleanup/**/*.ts', 'lambda/cost/**/*.ts'],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // package.json's "jest" section, with these keys replaced (a shallow merge):
    config: {
      // The command-line tests run the esbuild bundle in a child process, which never sees the
      // active mutant; the global set-up only builds that bundle. The end-to-end suites (test/local/,
      // test/workflow/: whole workflows, 15-70 s a file) and the CDK synth tests (test/lib/) would
      // re-run for every mutant they cover and blow the 30-minute budget; they stay in `npm test`.
      globalSetup: null,
      // Jest's node environment, with the coverage of a beforeAll handed to the tests it serves.
      testEnvironment: './stryker.jest-environment.cjs',
      testPathIgnorePatterns: [
        '/node_modules/',
        '<rootDir>/test/local/',
        '<rootDir>/test/lib/',
        '<rootDir>/test/bin/[^/]+-cli\\.test\\.ts$',
        '<rootDir>/test/bin/node-support\\.test\\.ts$',
        '<rootDir>/test/workflow/',
      ],
    },
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  disableTypeChecks: 'lambda/**/*.ts',
  coverageAnalysis: 'perTest',
  concurrency: 2,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 10000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
