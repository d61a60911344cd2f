import { Readable } from 'node:stream';
import { type JsonElement, JsonShapeError, streamJsonElements } from '../../../../lambda/convert/codecs/json-stream';

/** The document cut into chunks of `size` bytes, as a stream delivers it (also inside UTF-8 characters). */
function chunked(text: string, size: number): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function collect(
  text: string,
  arrays: 'top' | readonly string[],
  size: number,
  bounds?: { maxElementBytes?: number; maxDepth?: number },
): Promise<JsonElement[]> {
  const found = [];
  for await (const element of streamJsonElements(chunked(text, size), arrays, bounds)) found.push(element);
  return found;
}

describe('streamJsonElements', () => {
  const coco = JSON.stringify(
    {
      info: { tricky: [1, ']}"\\', { deeper: ['['] }] },
      // A string at the top level, between the arrays: its brackets, commas and quotes are text.
      description: 'v1 ]}, "x": [{ \\',
      images: [
        { id: 1, file_name: 'a "quoted" ]name}.jpg' },
        { id: 2, file_name: 'é ☃.jpg' },
      ],
      licenses: [{ name: '[not wanted]' }],
      categories: [{ id: 3, name: 'turtle' }],
      annotations: [],
    },
    null,
    1,
  );
  const wanted = ['images', 'categories', 'annotations'];
  const expected = wanted.flatMap((key) => (JSON.parse(coco)[key] as unknown[]).map((value) => ({ key, value })));

  test.each([1, 2, 3, 7, 64, 100_000])('the named arrays of an object, whatever the chunk size (%i bytes)', async (size) => {
    expect(await collect(coco, wanted, size)).toEqual(expected);
  });

  test.each([1, 5, 100_000])('the elements of a top-level array, objects and values alike (%i bytes)', async (size) => {
    const tasks = [{ a: '\\"]' }, [1, [2]], 'x"y', '],[{', 3, null, true, { b: { c: ['}'] } }];
    expect((await collect(JSON.stringify(tasks), 'top', size)).map((e) => e.value)).toEqual(tasks);
  });

  test.each([
    ['[{"a":1},', 'top', /ends before it is complete/],
    ['{"images":[{"a":}]}', ['images'], /^not valid JSON/],
    // The parser's message quotes the text: it reaches the run's report as printable ASCII.
    ['{"images":[{"a":é\u0007☃}]}', ['images'], /^not valid JSON: .*\?/],
    ['{"images":[]}', 'top', /expected a JSON array at the top level/],
    ['\u00ff\u00d8 not json', ['images'], /expected a JSON object at the top level/],
    ['', 'top', /expected a JSON array/],
  ] as const)('%j is one clear error', async (text, arrays, reason) => {
    const error = await collect(text, arrays, 3).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(JsonShapeError);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toMatch(/[^\x20-\x7e]/);
  });

  test('an empty object or array holds no element', async () => {
    expect(await collect('{}', ['images'], 1)).toEqual([]);
    expect(await collect(' [ ] ', 'top', 1)).toEqual([]);
    expect(await collect('{"images":[],"categories":[ ]}', ['images', 'categories'], 1)).toEqual([]);
  });

  test('whitespace of every kind before and between elements, and text chunks', async () => {
    expect((await collect('\r\n\t [\t1 ,\r\n2\n]\n', 'top', 2)).map((e) => e.value)).toEqual([1, 2]);
    const found = [];
    for await (const element of streamJsonElements(Readable.from(['{"images"', ':[{"id":', '1}]}']), ['images'])) found.push(element);
    expect(found).toEqual([{ key: 'images', value: { id: 1 } }]);
  });

  test("only the top-level object's keys name arrays; an escaped key is read as its text", async () => {
    const text = '{"info":{"images":[9],"x":{"images":[8]}},"ima\\u0067es":[1,{"images":[7]}],"categories":[[2]]}';
    expect(await collect(text, ['images', 'categories'], 4)).toEqual([
      { key: 'images', value: 1 },
      { key: 'images', value: { images: [7] } },
      { key: 'categories', value: [2] },
    ]);
  });

  test.each([
    ['[1] 2', 'not valid JSON: text after the end of the document'],
    ['[[1]]]', 'not valid JSON: text after the end of the document'],
    ['[', 'not valid JSON: the document ends before it is complete'],
    ['["abc', 'not valid JSON: the document ends before it is complete'],
    ['  \n', 'expected a JSON array at the top level'],
  ])('%j is refused: %s', async (text, reason) => {
    await expect(collect(text, 'top', 2)).rejects.toThrow(new JsonShapeError(reason));
  });

  test('a stream that fails is one clear error, and a stream left early is closed', async () => {
    async function* failing() {
      yield Buffer.from('[1,');
      throw new Error('socket hang up');
    }
    await expect(valuesOfTopArray(Readable.from(failing()))).rejects.toThrow(new JsonShapeError('cannot read the JSON: socket hang up'));
    const stream = Readable.from([Buffer.from('[1,2,'), Buffer.from('3]')]);
    for await (const element of streamJsonElements(stream, 'top')) {
      expect(element.value).toBe(1);
      break;
    }
    expect(stream.destroyed).toBe(true);
  });
});

async function valuesOfTopArray(stream: Readable): Promise<unknown[]> {
  const found = [];
  for await (const element of streamJsonElements(stream, 'top')) found.push(element.value);
  return found;
}

describe('streamJsonElements bounds: an element too large or nested too deep is refused, not read, and the elements after it are', () => {
  const big = { id: 2, rle: Array.from({ length: 400 }, (_, i) => i % 256) };
  const doc = JSON.stringify([{ id: 1 }, big, { id: 3 }]);

  test.each([7, 64, 100_000])('an element past maxElementBytes (chunks of %i bytes)', async (size) => {
    expect(await collect(doc, 'top', size, { maxElementBytes: 1000 })).toEqual([
      { key: null, value: { id: 1 } },
      { key: null, refused: 'is more than 1000 bytes of JSON, the most read whole' },
      { key: null, value: { id: 3 } },
    ]);
  });

  test('nesting 200,000 levels deep is refused without recursion (JSON.parse would overflow the stack)', async () => {
    const deep = `{"images":[{"id":1}],"annotations":[{"category_id":${'['.repeat(200_000)}1${']'.repeat(200_000)}},{"category_id":2}]}`;
    expect(await collect(deep, ['images', 'annotations'], 65_536)).toEqual([
      { key: 'images', value: { id: 1 } },
      { key: 'annotations', refused: 'nests deeper than 100 levels' },
      { key: 'annotations', value: { category_id: 2 } },
    ]);
  });

  test('the default bounds read a real element whole', async () => {
    expect(await collect(doc, 'top', 64)).toEqual(JSON.parse(doc).map((value: unknown) => ({ key: null, value })));
  });

  test('a key of the top-level object longer than 64 KiB ends the read with the reason', async () => {
    await expect(collect(`{"${'k'.repeat(70_000)}":1}`, ['images'], 4096)).rejects.toThrow(
      /key of the top-level object is longer than 65536 bytes/,
    );
  });
});
