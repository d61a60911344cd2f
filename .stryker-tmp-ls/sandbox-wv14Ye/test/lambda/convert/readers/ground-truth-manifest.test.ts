import { Readable } from 'node:stream';
import {
  isLookoutForVisionLine,
  MAX_MANIFEST_LINE_CHARACTERS,
  type ManifestLine,
  parseManifestLine,
  readManifestLines,
} from '../../../../lambda/convert/readers/ground-truth-manifest';
import { groundTruthManifestLine, labelingClasses } from '../../../../local/ground-truth-output';

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

describe('readManifestLines at its edges', () => {
  const tooLong = `line is longer than Ground Truth's maximum of ${MAX_MANIFEST_LINE_CHARACTERS} characters`;

  test('whitespace after the last newline is no line', async () => {
    expect(await linesOf(Readable.from([Buffer.from('{"a":1}\n  \t')]))).toStrictEqual([{ lineNumber: 1, text: '{"a":1}' }]);
  });

  test('reads text chunks as well as bytes', async () => {
    expect(await linesOf(Readable.from(['{"a":', '1}\n{"b":2}']))).toEqual([
      { lineNumber: 1, text: '{"a":1}' },
      { lineNumber: 2, text: '{"b":2}' },
    ]);
  });

  test('a last line past the byte guard with no newline after it is still reported', async () => {
    expect(await linesOf(Readable.from([Buffer.from('{"a":1}\n'), Buffer.alloc(400_001, 'x')]))).toEqual([
      { lineNumber: 1, text: '{"a":1}' },
      { lineNumber: 2, error: tooLong },
    ]);
  });

  test('the byte guard drops a line only past 400,000 bytes (4 bytes a character): one of exactly that many is measured', async () => {
    expect(await linesOf(Readable.from([Buffer.alloc(200_000, 'x'), Buffer.alloc(200_000, 'y'), Buffer.from('\n{}\n')]))).toEqual([
      { lineNumber: 1, error: `line is 400000 characters, longer than Ground Truth's maximum of ${MAX_MANIFEST_LINE_CHARACTERS}` },
      { lineNumber: 2, text: '{}' },
    ]);
    expect(await linesOf(Readable.from([Buffer.alloc(200_000, 'x'), Buffer.alloc(200_001, 'y'), Buffer.from('\n{}\n')]))).toEqual([
      { lineNumber: 1, error: tooLong },
      { lineNumber: 2, text: '{}' },
    ]);
  });

  test('a line of exactly 100,000 characters is kept', async () => {
    const text = `"${'z'.repeat(MAX_MANIFEST_LINE_CHARACTERS - 2)}"`;
    expect(await linesOf(Readable.from([Buffer.from(`${text}\n`)]))).toEqual([{ lineNumber: 1, text }]);
  });
});

describe('parseManifestLine', () => {
  const classes = labelingClasses(['turtle']);
  const good = groundTruthManifestLine({ source: 's3://b/a.jpg', mask: 's3://o/m.png', attribute: 'turtles-ref', jobName: 'j', classes });
  const parse = (value: unknown, attribute?: string) =>
    parseManifestLine({ lineNumber: 7, text: typeof value === 'string' ? value : JSON.stringify(value) }, attribute);

  test('finds the -ref attribute whose metadata type is semantic segmentation', () => {
    expect(parse(good)).toEqual({
      lineNumber: 7,
      source: 's3://b/a.jpg',
      labelAttribute: 'turtles-ref',
      mask: 's3://o/m.png',
      colourMap: [
        { key: '0', className: 'BACKGROUND', rgb: 0xffffff, background: true },
        { key: '1', className: 'turtle', rgb: 0x1f77b4, background: false },
      ],
      dialect: 'groundtruth',
    });
  });

  test('ignores -ref attributes of other task types, and takes the newest of two segmentation labels', () => {
    const adjusted = groundTruthManifestLine({
      source: 's3://b/a.jpg',
      mask: 's3://o/adjusted.png',
      attribute: 'turtles-adjusted-ref',
      jobName: 'adj',
      classes,
      creationDate: '2026-12-01T00:00:00',
    });
    const line = { ...good, ...adjusted, 'boxes-ref': 's3://o/x.json', 'boxes-ref-metadata': { type: 'groundtruth/object-detection' } };
    expect(parse(line)).toMatchObject({ labelAttribute: 'turtles-adjusted-ref', mask: 's3://o/adjusted.png' });
    expect(parse(line, 'turtles-ref')).toMatchObject({ labelAttribute: 'turtles-ref', mask: 's3://o/m.png' });
  });

  test.each([
    ['[1,2]', null, /^not a JSON object$/],
    ['{"x":', null, /^not valid JSON/],
    [{ 'turtles-ref': 's3://o/m.png' }, null, /^no "source-ref"$/],
    [{ 'source-ref': 's3://b/a.jpg' }, 's3://b/a.jpg', /^no semantic-segmentation label/],
    [
      { 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': { 'failure-reason': 'ClientError: timed out' } },
      's3://b/a.jpg',
      /^labeling failed: ClientError: timed out$/,
    ],
  ])('%j is skipped with its reason', (line, source, reason) => {
    const parsed = parse(line);
    expect(parsed).toEqual({ lineNumber: 7, source, reason: expect.stringMatching(reason) });
  });

  test.each([
    [
      { 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': { 'failure-reason': 'ClientError: no worker' } },
      'labeling failed: ClientError: no worker',
    ],
    [
      { 'source-ref': 's3://b/a.jpg', 'turtles-ref': '', 'turtles-ref-metadata': { type: 'groundtruth/semantic-segmentation' } },
      'no label in "turtles-ref"',
    ],
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': 'broken' }, 'no label in "turtles-ref"'],
    [{ 'source-ref': 's3://b/a.jpg', 'turtles-ref': 's3://o/m.png' }, 'no "turtles-ref-metadata"'],
  ])('with the label attribute given, %j is skipped with its reason', (line, reason) => {
    expect(parse(line, 'turtles-ref')).toEqual({ lineNumber: 7, source: 's3://b/a.jpg', reason });
  });

  test.each([
    [{ '0': { 'class-name': 'BACKGROUND', 'hex-color': 'white' } }, /entry "0" \(BACKGROUND\) has hex-color "white", not #rrggbb/],
    [{ '0': { 'hex-color': '#ffffff' } }, /entry "0" has no class-name/],
    [{}, /is missing or empty/],
    [
      { '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff' }, '1': { 'class-name': 'turtle', 'hex-color': '#FFFFFF' } },
      /gives turtle and BACKGROUND the same colour #FFFFFF/,
    ],
  ])('an internal-color-map %j is refused', (colourMap, reason) => {
    const line = { ...good, 'turtles-ref-metadata': { ...(good['turtles-ref-metadata'] as object), 'internal-color-map': colourMap } };
    expect(parse(line)).toEqual({ lineNumber: 7, source: 's3://b/a.jpg', reason: expect.stringMatching(reason) });
  });

  test('an empty source-ref is no source; a source-ref with segmentation metadata is never the label', () => {
    expect(parse({ ...good, 'source-ref': '' })).toEqual({ lineNumber: 7, source: null, reason: 'no "source-ref"' });
    const { 'turtles-ref': _mask, 'turtles-ref-metadata': metadata, ...rest } = good as Record<string, unknown>;
    expect(parse({ ...rest, 'source-ref-metadata': metadata })).toMatchObject({
      source: 's3://b/a.jpg',
      reason: expect.stringMatching(/^no semantic-segmentation label/),
    });
  });

  test('of two segmentation labels with the same date, or none, the later one wins', () => {
    const metadata = (good as Record<string, Record<string, unknown>>)['turtles-ref-metadata'];
    const undated = { ...metadata, 'creation-date': undefined };
    const line = {
      'source-ref': 's3://b/a.jpg',
      'a-ref': 's3://o/a.png',
      'a-ref-metadata': undated,
      'b-ref': 's3://o/b.png',
      'b-ref-metadata': undated,
    };
    expect(parse(line)).toMatchObject({ labelAttribute: 'b-ref', mask: 's3://o/b.png' });
    const dated = {
      ...line,
      'a-ref-metadata': { ...metadata, 'creation-date': '2026-01-02T00:00:00' },
      'b-ref-metadata': { ...metadata, 'creation-date': '2026-01-01T00:00:00' },
    };
    expect(parse(dated)).toMatchObject({ labelAttribute: 'a-ref' });
    // A label without a date is older than any dated one, before it or after it.
    expect(parse({ ...line, 'a-ref-metadata': { ...metadata, 'creation-date': '2026-01-01T00:00:00' } })).toMatchObject({
      labelAttribute: 'a-ref',
    });
  });

  test('a failure reason is read only from a -metadata object, and only as text', () => {
    expect(
      parse({ 'source-ref': 's3://b/a.jpg', 'turtles-ref': { 'failure-reason': 'x' }, 'other-metadata': { 'failure-reason': 3 } }),
    ).toMatchObject({ reason: expect.stringMatching(/^no semantic-segmentation label/) });
    expect(parse({ 'source-ref': 's3://b/a.jpg', 'turtles-ref-metadata': { 'failure-reason': 7 } }, 'turtles-ref')).toMatchObject({
      reason: 'no label in "turtles-ref"',
    });
  });

  test('colour entries: padded hex accepted, any case of BACKGROUND is background, key "0" only for Ground Truth', () => {
    const map = { '0': { 'class-name': 'rust', 'hex-color': ' #ff0000 ' }, '1': { 'class-name': 'Background', 'hex-color': '#000000' } };
    const line = { ...good, 'turtles-ref-metadata': { ...(good['turtles-ref-metadata'] as object), 'internal-color-map': map } };
    const text = JSON.stringify(line);
    expect(parseManifestLine({ lineNumber: 1, text }, undefined, 'groundtruth')).toMatchObject({
      colourMap: [
        { key: '0', className: 'rust', rgb: 0xff0000, background: true },
        { key: '1', className: 'Background', rgb: 0, background: true },
      ],
    });
    expect(parseManifestLine({ lineNumber: 1, text }, undefined, 'lookoutvision')).toMatchObject({
      colourMap: [
        { key: '0', background: false },
        { key: '1', background: true },
      ],
      dialect: 'lookoutvision',
    });
  });

  test.each([
    [{ '0': 'white' }, 'entry "0" is not an object'],
    [{ '0': { 'class-name': '', 'hex-color': '#ffffff' } }, 'entry "0" has no class-name'],
    [{ '0': { 'class-name': 'a', 'hex-color': '#fffffff' } }, 'entry "0" (a) has hex-color "#fffffff", not #rrggbb'],
    [{ '0': { 'class-name': 'a', 'hex-color': 'x#ffffff' } }, 'entry "0" (a) has hex-color "x#ffffff", not #rrggbb'],
    [{ '0': { 'class-name': 'a', 'hex-color': '#gggggg' } }, 'entry "0" (a) has hex-color "#gggggg", not #rrggbb'],
    [{ '0': { 'class-name': 'a', 'hex-color': 16777215 } }, 'entry "0" (a) has hex-color 16777215, not #rrggbb'],
    [[{ 'class-name': 'a', 'hex-color': '#ffffff' }], 'is missing or empty'],
  ])('an internal-color-map %j is refused with its exact reason', (colourMap, reason) => {
    const line = { ...good, 'turtles-ref-metadata': { ...(good['turtles-ref-metadata'] as object), 'internal-color-map': colourMap } };
    expect(parse(line)).toEqual({ lineNumber: 7, source: 's3://b/a.jpg', reason: `"turtles-ref-metadata".internal-color-map ${reason}` });
  });
});

describe('isLookoutForVisionLine', () => {
  const segmentation = (map: unknown) => ({ type: 'groundtruth/semantic-segmentation', 'internal-color-map': map });
  test.each([
    [null, false],
    [[], false],
    [{ 'source-ref': 's3://b/a.jpg', 'anomaly-label-metadata': { type: 'groundtruth/image-classification' } }, true],
    [{ 'anomaly-label': { type: 'groundtruth/image-classification' } }, false],
    [{ 'm-ref-metadata': segmentation({ '0': { 'class-name': 'background', 'hex-color': '#ffffff' } }) }, false],
    [{ 'm-ref-metadata': segmentation({ '0': { 'class-name': 'scratch', 'hex-color': '#ff0000' } }) }, true],
    [{ 'm-ref-metadata': segmentation({ '0': { 'class-name': 7 }, '1': 'BACKGROUND' }) }, true],
    [{ 'm-ref-metadata': { ...segmentation({ '0': { 'class-name': 'scratch' } }), type: 'groundtruth/object-detection' } }, false],
    [{ 'm-ref-metadata': segmentation('none') }, false],
    [{ 'm-ref-metadata': 'x', 'n-ref-metadata': segmentation({ '0': { 'class-name': 'BACKGROUND' } }) }, false],
  ])('%j is %s', (line, expected) => {
    expect(isLookoutForVisionLine(line)).toBe(expected);
  });
});
