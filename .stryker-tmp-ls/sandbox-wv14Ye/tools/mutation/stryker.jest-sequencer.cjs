// @ts-check
'use strict';
/**
 * Jest's test order for `npm run mutate` (stryker.config.mjs), keeping only the test files that hold
 * the mutant's tests. Stryker's Jest runner passes a mutant's tests as `--testNamePattern` alone, so
 * Jest would load every test file and skip all but a few tests: about 25 s a mutant on two cores
 * against well under a second for the file that holds them. The test environment
 * (`stryker.jest-environment.cjs`) wrote each test's file in the initial run; when a name is not in
 * that map, or there is no pattern (the initial run), every file runs, as without this sequencer.
 */
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const { TEST_FILES_MAP } = require('./stryker.jest-environment.cjs');

class MutantTestFilesSequencer extends Sequencer {
  /** @type {string | undefined} */
  #testNamePattern;
  #rootDir;

  /** @param {{ globalConfig: import('@jest/types').Config.GlobalConfig; contexts: ReadonlyArray<{ config: { rootDir: string } }> }} options */
  constructor(options) {
    super(options);
    this.#testNamePattern = options.globalConfig.testNamePattern;
    this.#rootDir = options.globalConfig.rootDir;
  }

  /** @param {Array<import('@jest/test-result').Test>} tests */
  sort(tests) {
    const files = this.#filesOfTests();
    return super.sort(files ? tests.filter((test) => files.has(test.path)) : tests);
  }

  /** The files holding the tests the pattern names, or `undefined` to run them all. */
  #filesOfTests() {
    const mapFile = join(this.#rootDir, TEST_FILES_MAP);
    if (!this.#testNamePattern || !existsSync(mapFile)) return undefined;
    /** @type {Record<string, string>} */
    const testFiles = JSON.parse(readFileSync(mapFile, 'utf8'));
    const names = Object.keys(testFiles);
    const files = new Set();
    // Stryker joins the escaped names as `(a)|(b)`; an escaped name holds no bare `)|(`. Jest matches
    // each against a test's full name, unanchored and ignoring case.
    for (const alternative of this.#testNamePattern.replace(/^\(|\)$/g, '').split(')|(')) {
      const pattern = new RegExp(alternative, 'i');
      const matching = names.filter((name) => pattern.test(name));
      // A test the initial run did not map: run every file rather than miss the one that holds it.
      if (matching.length === 0) return undefined;
      for (const name of matching) files.add(testFiles[name]);
    }
    return files;
  }
}

module.exports = MutantTestFilesSequencer;
