import { type MutationReport, mergeMutationReports, parseMutationReport } from '../../../tools/mutation/merge-results';

/** A report of one mutated file whose mutants name tests by the report's own ids. */
function report(
  file: string,
  tests: Record<string, string[]>,
  mutants: { status: string; coveredBy: string[]; killedBy?: string[] }[],
  extra: Record<string, unknown> = {},
): MutationReport {
  return {
    schemaVersion: '1.0',
    ...extra,
    files: {
      [file]: {
        language: 'typescript',
        source: `// ${file}`,
        mutants: mutants.map((m, i) => ({
          id: String(i),
          mutatorName: 'EqualityOperator',
          location: { start: { line: 1, column: i }, end: { line: 1, column: i + 1 } },
          ...m,
        })),
      },
    },
    testFiles: Object.fromEntries(
      Object.entries(tests).map(([testFile, ids]) => [
        testFile,
        {
          tests: ids.map((id) => ({
            id: id.split('=')[0],
            name: id.split('=')[1],
            location: { start: { line: Number(id.split('=')[0]), column: 0 } },
          })),
        },
      ]),
    ),
  };
}

/** Each mutant's covering and killing tests, by test file and name. */
function testsByMutant(merged: MutationReport): Record<string, { coveredBy?: string[]; killedBy?: string[] }[]> {
  const nameOf = new Map(
    Object.entries(merged.testFiles!).flatMap(([file, { tests }]) => tests.map((t) => [t.id, `${file}: ${t.name}`] as const)),
  );
  return Object.fromEntries(
    Object.entries(merged.files).map(([file, { mutants }]) => [
      file,
      mutants.map((m) => ({
        coveredBy: m.coveredBy?.map((id) => nameOf.get(id)!),
        killedBy: m.killedBy?.map((id) => nameOf.get(id)!),
      })),
    ]),
  );
}

describe('mergeMutationReports', () => {
  const cost = report('lambda/cost/estimate.ts', { 'test/a.test.ts': ['0=adds', '1=rounds'] }, [
    { status: 'Killed', coveredBy: ['0', '1'], killedBy: ['1'] },
    { status: 'Survived', coveredBy: ['0'] },
  ]);
  // The same ids mean other tests in another run.
  const mask = report(
    'lambda/convert/mask.ts',
    { 'test/b.test.ts': ['0=maps'], 'test/a.test.ts': ['1=adds'] },
    [{ status: 'Killed', coveredBy: ['0', '1'], killedBy: ['0'] }],
    { projectRoot: '/later' },
  );

  test('keeps every file, and each mutant names the same tests after the merge as before', () => {
    const merged = mergeMutationReports([cost, mask]);
    expect(testsByMutant(merged)).toEqual({
      'lambda/cost/estimate.ts': [
        { coveredBy: ['test/a.test.ts: adds', 'test/a.test.ts: rounds'], killedBy: ['test/a.test.ts: rounds'] },
        { coveredBy: ['test/a.test.ts: adds'] },
      ],
      'lambda/convert/mask.ts': [{ coveredBy: ['test/b.test.ts: maps', 'test/a.test.ts: adds'], killedBy: ['test/b.test.ts: maps'] }],
    });
  });

  test('lists a test once however many reports name it, and gives tests and mutants unique ids', () => {
    const merged = mergeMutationReports([cost, mask]);
    expect(merged.testFiles!['test/a.test.ts'].tests.map((t) => t.name)).toEqual(['adds', 'rounds']);
    const testIds = Object.values(merged.testFiles!).flatMap((f) => f.tests.map((t) => t.id));
    expect(new Set(testIds).size).toBe(3);
    const mutantIds = Object.values(merged.files).flatMap((f) => f.mutants.map((m) => m.id));
    expect(mutantIds).toEqual(['0', '1', '2']);
  });

  test('a later report wins for the files it holds, and its other fields are kept', () => {
    const again = report(
      'lambda/cost/estimate.ts',
      { 'test/a.test.ts': ['7=adds'] },
      [{ status: 'Killed', coveredBy: ['7'], killedBy: ['7'] }],
      { projectRoot: '/latest' },
    );
    const merged = mergeMutationReports([cost, mask, again]);
    expect(merged.files['lambda/cost/estimate.ts'].mutants.map((m) => m.status)).toEqual(['Killed']);
    expect(Object.keys(merged.files)).toEqual(['lambda/cost/estimate.ts', 'lambda/convert/mask.ts']);
    expect(merged.projectRoot).toBe('/latest');
    expect(merged.testFiles!['test/a.test.ts'].tests.find((t) => t.name === 'adds')).toMatchObject({
      name: 'adds',
      location: { start: { line: 7 } },
    });
    expect(merged.files['lambda/convert/mask.ts'].source).toBe('// lambda/convert/mask.ts');
  });

  test('parts run at once each hold every file: a part wins only for the files whose results it changed', () => {
    const base = {
      ...cost,
      files: { ...cost.files, ...mask.files },
      testFiles: { 'test/a.test.ts': cost.testFiles!['test/a.test.ts'], 'test/b.test.ts': { tests: [{ id: '9', name: 'maps' }] } },
    };
    const maskOf = (status: string) => ({
      ...mask.files['lambda/convert/mask.ts'],
      mutants: [{ ...mask.files['lambda/convert/mask.ts'].mutants[0], status, coveredBy: ['9'], killedBy: [] }],
    });
    const withMask = { ...base, files: { ...base.files, 'lambda/convert/mask.ts': maskOf('Survived') } };
    // The cost part re-tested estimate.ts and holds mask.ts as it was; the mask part the other way round.
    const costPart = {
      ...withMask,
      files: {
        ...withMask.files,
        'lambda/cost/estimate.ts': report('lambda/cost/estimate.ts', { 'test/a.test.ts': ['0=adds'] }, [
          { status: 'Killed', coveredBy: ['0'], killedBy: ['0'] },
          { status: 'Killed', coveredBy: ['0'], killedBy: ['0'] },
        ]).files['lambda/cost/estimate.ts'],
      },
    };
    const maskPart = { ...withMask, files: { ...withMask.files, 'lambda/convert/mask.ts': maskOf('Killed') } };
    for (const order of [
      [costPart, maskPart],
      [maskPart, costPart],
    ]) {
      const merged = mergeMutationReports([withMask, ...order]);
      expect(merged.files['lambda/cost/estimate.ts'].mutants.map((m) => m.status)).toEqual(['Killed', 'Killed']);
      expect(merged.files['lambda/convert/mask.ts'].mutants.map((m) => m.status)).toEqual(['Killed']);
    }
  });

  test('with only, a part wins for the files under the prefixes given, never for another file it wrote back short', () => {
    const base = { ...cost, files: { ...cost.files, ...mask.files }, testFiles: { ...cost.testFiles, ...mask.testFiles } };
    // The part re-tested mask.ts and wrote estimate.ts back with one of its two mutants.
    const part = {
      ...base,
      files: {
        'lambda/convert/mask.ts': {
          ...mask.files['lambda/convert/mask.ts'],
          mutants: [{ ...mask.files['lambda/convert/mask.ts'].mutants[0], status: 'Survived', killedBy: [] }],
        },
        'lambda/cost/estimate.ts': {
          ...cost.files['lambda/cost/estimate.ts'],
          mutants: cost.files['lambda/cost/estimate.ts'].mutants.slice(0, 1),
        },
      },
    };
    const merged = mergeMutationReports([base, part], ['lambda/convert/']);
    expect(merged.files['lambda/convert/mask.ts'].mutants.map((m) => m.status)).toEqual(['Survived']);
    expect(merged.files['lambda/cost/estimate.ts'].mutants.map((m) => m.status)).toEqual(['Killed', 'Survived']);
    expect(mergeMutationReports([base, part]).files['lambda/cost/estimate.ts'].mutants).toHaveLength(1);
  });

  test('refuses a mutant naming a test its report does not list, and an empty list', () => {
    const broken = report('lambda/x.ts', { 'test/a.test.ts': ['0=adds'] }, [{ status: 'Killed', coveredBy: ['5'] }]);
    expect(() => mergeMutationReports([broken])).toThrow('a mutant names test 5, which its report does not list');
    expect(() => mergeMutationReports([])).toThrow('no mutation report to merge');
  });

  test('a file that is no JSON or no mutation report is named, with what it should be', () => {
    expect(() => parseMutationReport('{"files":', 'reports/a.json')).toThrow(/^reports\/a\.json: not JSON \(/);
    for (const text of ['{"a":1}', '[]', '{"files":[]}']) {
      expect(() => parseMutationReport(text, 'b.json')).toThrow(
        'b.json: not a Stryker mutation report (no "files" object); give the file a run wrote with --incrementalFile',
      );
    }
    expect(parseMutationReport('{"files":{}}', 'c.json')).toEqual({ files: {} });
    expect(() => parseMutationReport('{"files":{"a.ts":{}},"testFiles":{"a.test.ts":{"tests":{}}}}', 'd.json')).toThrow(
      'd.json: not a Stryker mutation report (files["a.ts"] has no "mutants" list; testFiles["a.test.ts"] has no "tests" list)',
    );
  });
});
