// @ts-check
'use strict';
/**
 * Jest's node environment for `npm run mutate` (stryker.config.mjs). Two things Stryker's Jest runner
 * lacks, without which a run over lambda/convert/ would take hours on two cores:
 *
 * 1. Code run by a `beforeAll` counts as covered by the tests of its describe block.
 *
 * Stryker's per-test coverage notes which test runs each mutant, but it only knows the running test
 * between `test_start` and `test_done`. Many tests here convert a fixture once in `beforeAll` and
 * check it in several tests; Stryker would call every mutant that conversion reaches "static" and
 * run the whole selected suite for each (about 50 s, thousands of mutants). Here the coverage a
 * `beforeAll` records is handed to every test under its describe block instead: running any of
 * them runs the hook, so that is exactly the set of tests that can kill the mutant.
 *
 * 2. Bail: once a test has failed with a mutant active, the mutant is killed; the remaining tests and
 *    describe blocks of that run are skipped (their `beforeAll` too) instead of converting every
 *    fixture again. Stryker's other runners do this (`disableBail: false`); its Jest runner cannot.
 *    The state lives on Stryker's shared context, so it spans the test files of one run.
 *
 * 3. The file of every test, for `stryker.jest-sequencer.cjs`. Stryker's Jest runner names a mutant's
 *    tests (`--testNamePattern`) but not their files, so Jest would load every test file of
 *    test/lambda/ (about 25 s) to run a handful of tests. In the initial run (the only one in which
 *    Stryker tracks the running test) each test's name and file are written to TEST_FILES_MAP, which
 *    the sequencer reads to run only the files that hold the mutant's tests.
 *
 * Stryker wraps this class (it reads `testEnvironment` and mixes in its own event handler, which
 * runs after this one).
 */
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

/** In the sandbox's root (each test process's working directory is the sandbox). */
const TEST_FILES_MAP = '.stryker-test-files.json';
/** test name -> file, for every test of the initial run (it runs in one process, test file by test file). */
const testFiles = {};

const IN_BEFORE_ALL = '__stryker_before_all__';
const KILLED = '__segpipeKilledMutant';

/** @param {Record<string, number>} into @param {Record<string, number>} from */
function addCounts(into, from) {
  for (const [id, count] of Object.entries(from)) into[id] = (into[id] ?? 0) + count;
}

class MutationRunEnvironment extends TestEnvironment {
  /** @type {Map<unknown, Record<string, number>>} describe block -> mutants its beforeAll hooks covered */
  #hookCoverage = new Map();
  #testPath;
  #rootDir;
  #recorded = false;

  /** @param {import('@jest/environment').JestEnvironmentConfig} config @param {import('@jest/environment').EnvironmentContext} context */
  constructor(config, context) {
    super(config, context);
    this.#testPath = context.testPath;
    this.#rootDir = config.projectConfig.rootDir;
  }

  async teardown() {
    if (this.#recorded) writeFileSync(join(this.#rootDir, TEST_FILES_MAP), JSON.stringify(testFiles));
    await super.teardown();
  }

  /** @returns {{ currentTestId?: string; activeMutant?: string; [KILLED]?: string; mutantCoverage?: { perTest: Record<string, Record<string, number>> } } | undefined} */
  #stryker() {
    const ns = this.global.__strykerGlobalNamespace__ ?? '__stryker__';
    return /** @type {any} */ (this.global)[/** @type {string} */ (ns)];
  }

  /** @param {import('@jest/types').Circus.Event} event */
  async handleTestEvent(event) {
    const stryker = this.#stryker();
    if (!stryker) return;
    const mutant = stryker.activeMutant;
    const killed = mutant !== undefined && stryker[KILLED] === String(mutant);
    switch (event.name) {
      case 'run_describe_start':
        if (killed) event.describeBlock.mode = 'skip';
        break;
      case 'test_start':
        if (killed) event.test.mode = 'skip';
        break;
      case 'hook_start':
        if (event.hook.type === 'beforeAll' && stryker.currentTestId === undefined) stryker.currentTestId = IN_BEFORE_ALL;
        break;
      case 'hook_success':
      case 'hook_failure':
        if (event.hook.type === 'beforeAll' && stryker.currentTestId === IN_BEFORE_ALL) {
          stryker.currentTestId = undefined;
          const covered = stryker.mutantCoverage?.perTest[IN_BEFORE_ALL];
          if (covered) {
            delete stryker.mutantCoverage?.perTest[IN_BEFORE_ALL];
            const block = event.hook.parent;
            addCounts(this.#hookCoverage.get(block) ?? this.#hookCoverage.set(block, {}).get(block) ?? {}, covered);
          }
        }
        break;
      case 'test_done': {
        if (mutant !== undefined && event.test.errors.length > 0) stryker[KILLED] = String(mutant);
        // Stryker's handler, which runs after this one, still holds the test's id here.
        const testId = stryker.currentTestId;
        const perTest = stryker.mutantCoverage?.perTest;
        if (!testId || testId === IN_BEFORE_ALL || !perTest) break;
        testFiles[testId] = this.#testPath;
        this.#recorded = true;
        for (let block = event.test.parent; block; block = block.parent) {
          const covered = this.#hookCoverage.get(block);
          if (covered) addCounts((perTest[testId] ??= {}), covered);
        }
        break;
      }
      default:
        break;
    }
  }
}

module.exports = MutationRunEnvironment;
module.exports.TEST_FILES_MAP = TEST_FILES_MAP;
