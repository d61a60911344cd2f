import { Readable } from 'node:stream';
import { MAX_MANIFEST_LINE_CHARACTERS, ManifestLine, parseManifestLine, readManifestLines } from '../../../lambda/convert/manifest';
import { groundTruthManifestLine, labelingClasses } from '../../../bin/local/ground-truth-output';

async function linesOf(stream: Readable): Promise<ManifestLine[]> {
  const lines: ManifestLine[] = [];
  for await (const line of readManifestLines(stream)) lines.push(line);
  return lines;
}

describe('readManifestLines', () => {
  test('drops a BOM, CRLF and blank lines, and numbers lines as an editor does', async () => {
    const lines = await linesOf(Readable.from([Buffer.from('\ufeff{"a":1}\r\n\r\n  \n{"b":'), Buffer.from('2}\r\n{"c":3}')]));
    expect(lines).toEqual([
      { lineNumber: 1, text: '{"a":1}' },
      { lineNumber: 4, text: '{"b":2}' },
      { lineNumber: 5, text: '{"c":3}' },
    ]);
  });

  test('a line split inside a multi-byte character across chunks stays whole', async () => {
    const bytes = Buffer.from('{"k":"é"}\n');
    const lines = await linesOf(Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]));
    expect(lines).toEqual([{ lineNumber: 1, text: '{"k":"é"}' }]);
  });

  test('a line longer than 100,000 characters is rejected without buffering it whole, and reading goes on', async () => {
    let held = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    // 64 MiB of one line, then a good line: the reader must never hold more than the limit's bytes.
    async function* source() {
      yield Buffer.from('{"first":1}\n{"huge":"');
      for (let i = 0; i < 1024; i++) {
        held = Math.max(held, process.memoryUsage().arrayBuffers);
        yield chunk;
      }
      yield Buffer.from('"}\n{"last":1}\n');
    }
    const before = process.memoryUsage().arrayBuffers;
    const lines = await linesOf(Readable.from(source()));
    expect(lines).toEqual([
      { lineNumber: 1, text: '{"first":1}' },
      { lineNumber: 2, error: `line is longer than Ground Truth's maximum of ${MAX_MANIFEST_LINE_CHARACTERS} characters` },
      { lineNumber: 3, text: '{"last":1}' },
    ]);
    expect(held - before).toBeLessThan(16 * 1024 * 1024);
  });

  test('a line of more than 100,000 characters but fewer bytes than the byte guard is still rejected', async () => {
    const lines = await linesOf(Readable.from([Buffer.from(`{"p":"${'y'.repeat(100_001)}"}`)]));
    expect(lines).toEqual([{ lineNumber: 1, error: expect.stringMatching(/^line is 100009 characters, longer than/) }]);
  });
});

describe('parseManifestLine', () => {
  const classes = labelingClasses(['turtle']);
  const good = groundTruthManifestLine({ source: 's3://b/a.jpg', mask: 's3://o/m.png', attribute: 'turtles-ref', jobName: 'j', classes });
  const parse = (value: unknown, attribute?: string) => parseManifestLine({ lineNumber: 7, text: typeof value === 'string' ? value : JSON.stringify(value) }, attribute);

  test('finds the -ref attribute whose metadata type is semantic segmentation', () => {
    expect(parse(good)).toEqual({
      lineNumber: 7, source: 's3://b/a.jpg', labelAttribute: 'turtles-ref', mask: 's3://o/m.png',
      colourMap: [{ key: '0', className: 'BACKGROUND', rgb: 0xffffff, background: true }, { key: '1', className: 'turtle', rgb: 0x1f77b4, background: false }],
      dialect: 'groundtruth',
    });
  });

  test('ignores -ref attributes of other task types, and takes the newest of two segmentation labels', () => {
    const adjusted = groundTruthManifestLine({ source: 's3://b/a.jpg', mask: 's3://o/adjusted.png', attribute: 'turtles-adjusted-ref', jobName: 'adj', classes, creationDate: '2026-12-01T00:00:00' });
    const line = { ...good, ...adjusted, 'boxes-ref': 's3://o/x.json', 'boxes-ref-metadata': { type: 'groundtruth/object-detection' } };
    expect(parse(line)).toMatchObject({ labelAttribute: 'turtles-adjusted-ref', mask: 's3://o/adjusted.png' });
    expect(parse(line, 'turtles-ref')).toMatchObject({ labelAttribute: 'turtles-ref', mask: 's3://o/m.png' });
  });

  test.each([
    ['[1,2]', null, /^not a JSON object$/],
    ['{"x":', null, /^not valid JSON/],
    [{ 'turtles-ref': 's3://o/m.png' }, null, /^no "source-ref"$/],
    [{ 'source-ref': 's3://b/a.jpg' }, 's3://b/a.jpg', /^no semantic-segmentation label/],
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': { 'failure-reason': 'ClientError: timed out' } }, 's3://b/a.jpg', /^labeling failed: ClientError: timed out$/],
  ])('%j is skipped with its reason', (line, source, reason) => {
    const parsed = parse(line);
    expect(parsed).toEqual({ lineNumber: 7, source, reason: expect.stringMatching(reason) });
  });

  test.each([
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': { 'failure-reason': 'ClientError: no worker' } }, 'labeling failed: ClientError: no worker'],
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref': '', 'turtles-ref-metadata': { type: 'groundtruth/semantic-segmentation' } }, 'no label in "turtles-ref"'],
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': 'broken' }, 'no label in "turtles-ref"'],
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref': 's3://o/m.png' }, 'no "turtles-ref-metadata"'],
  ])('with the label attribute given, %j is skipped with its reason', (line, reason) => {
    expect(parse(line, 'turtles-ref')).toEqual({ lineNumber: 7, source: 's3://b/a.jpg', reason });
  });

  test.each([
    [{ '0': { 'class-name': 'BACKGROUND', 'hex-color': 'white' } }, /entry "0" \(BACKGROUND\) has hex-color "white", not #rrggbb/],
    [{ '0': { 'hex-color': '#ffffff' } }, /entry "0" has no class-name/],
    [{}, /is missing or empty/],
    [{ '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff' }, '1': { 'class-name': 'turtle', 'hex-color': '#FFFFFF' } }, /gives turtle and BACKGROUND the same colour #FFFFFF/],
  ])('an internal-color-map %j is refused', (colourMap, reason) => {
    const line = { ...good, 'turtles-ref-metadata': { ...(good['turtles-ref-metadata'] as object), 'internal-color-map': colourMap } };
    expect(parse(line)).toEqual({ lineNumber: 7, source: 's3://b/a.jpg', reason: expect.stringMatching(reason) });
  });
});
