import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CdkJsonError, jsonErrorPlace, readCdkJson } from '../../lib/cdk-json';

const work = mkdtempSync(join(tmpdir(), 'segpipe-cdk-json-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a cdk.json that is not JSON is one line naming the file, line and column', () => {
  test('a trailing comma, as a hand edit leaves it', () => {
    const path = join(work, 'cdk.json');
    writeFileSync(path, '{\n  "app": "npx tsx bin/app.ts",\n  "context": {\n    "segpipe": { "budgetUsd": 10, }\n  }\n}\n');
    expect(() => readCdkJson(path)).toThrow(CdkJsonError);
    expect(() => readCdkJson(path)).toThrow(new RegExp(`^${path}: line 4, column 35: not valid JSON \\(.+\\)$`));
  });

  test("both of Node's message shapes (20's position, 22's line and column) give the same place", () => {
    const text = '{\n "a": [1 2]\n}';
    expect(jsonErrorPlace(text, "Expected ',' or ']' after array element in JSON at position 11")).toBe(
      "line 2, column 10: not valid JSON (Expected ',' or ']' after array element)",
    );
    expect(jsonErrorPlace(text, "Expected ',' or ']' after array element in JSON at position 11 (line 2 column 10)")).toBe(
      "line 2, column 10: not valid JSON (Expected ',' or ']' after array element)",
    );
  });

  test("the repository's own cdk.json reads", () => {
    expect(readCdkJson(join(__dirname, '..', '..', 'cdk.json')).context).toHaveProperty('segpipe');
  });
});
