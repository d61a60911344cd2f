import { fingerprint, sandboxInputs } from '../../../tools/mutation/fingerprint';

test('the inputs are every file but those a rooted ignore pattern names, as a folder or a file', () => {
  const files = [
    'docs/a.md',
    'docs-extra/b.ts',
    'lambda/x.ts',
    'tools/mutation/results.json',
    'tools/mutation/results.json.bak',
    'README.md',
  ];
  expect(sandboxInputs(files, ['/docs/', '/tools/mutation/results.json', '/README.md'])).toEqual([
    'docs-extra/b.ts',
    'lambda/x.ts',
    'tools/mutation/results.json.bak',
  ]);
});

test('a pattern that is not a plain path from the root is not applied: the set only grows', () => {
  expect(sandboxInputs(['a/x.ts', 'b/y.md'], ['*.md', 'a/', '/b/*.md', '/a/**'])).toEqual(['a/x.ts', 'b/y.md']);
});

test('the hash changes with a file content, a name or a file more, never with the order given', () => {
  const contents: Record<string, string> = { 'a.ts': 'one', 'b.ts': 'two', 'c.ts': '' };
  const read = (file: string) => Buffer.from(contents[file]);
  const base = fingerprint(['a.ts', 'b.ts'], read);
  expect(fingerprint(['b.ts', 'a.ts'], read)).toBe(base);
  expect(fingerprint(['a.ts', 'b.ts', 'c.ts'], read)).not.toBe(base);
  expect(fingerprint(['a.ts', 'b.ts'], (file) => Buffer.from(file === 'b.ts' ? 'tw0' : contents[file]))).not.toBe(base);
  // Path and content are delimited: moving bytes between them is a change.
  expect(fingerprint(['ab'], () => Buffer.from('c'))).not.toBe(fingerprint(['a'], () => Buffer.from('bc')));
  expect(base).toMatch(/^[0-9a-f]{64}$/);
});
