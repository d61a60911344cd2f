import { Readable } from 'node:stream';
import { JsonShapeError, streamJsonElements } from '../../../lambda/convert/json-stream';

/** The document cut into chunks of `size` bytes, as a stream delivers it (also inside UTF-8 characters). */
function chunked(text: string, size: number): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function collect(text: string, arrays: 'top' | readonly string[], size: number): Promise<{ key: string | null; value: unknown }[]> {
  const found = [];
  for await (const element of streamJsonElements(chunked(text, size), arrays)) found.push(element);
  return found;
}

describe('streamJsonElements', () => {
  const coco = JSON.stringify({
    info: { tricky: [1, ']}"\\', { deeper: ['['] }] },
    images: [{ id: 1, file_name: 'a "quoted" ]name}.jpg' }, { id: 2, file_name: 'é ☃.jpg' }],
    licenses: [{ name: '[not wanted]' }],
    categories: [{ id: 3, name: 'turtle' }],
    annotations: [],
  }, null, 1);
  const wanted = ['images', 'categories', 'annotations'];
  const expected = wanted.flatMap((key) => (JSON.parse(coco)[key] as unknown[]).map((value) => ({ key, value })));

  test.each([1, 2, 3, 7, 64, 100_000])('the named arrays of an object, whatever the chunk size (%i bytes)', async (size) => {
    expect(await collect(coco, wanted, size)).toEqual(expected);
  });

  test.each([1, 5, 100_000])('the elements of a top-level array, objects and values alike (%i bytes)', async (size) => {
    const tasks = [{ a: '\\"]' }, [1, [2]], 'x"y', 3, null, true, { b: { c: ['}'] } }];
    expect((await collect(JSON.stringify(tasks), 'top', size)).map((e) => e.value)).toEqual(tasks);
  });

  test.each([
    ['[{"a":1},', 'top', /ends before it is complete/],
    ['{"images":[{"a":}]}', ['images'], /^not valid JSON/],
    ['{"images":[]}', 'top', /expected a JSON array at the top level/],
    ['\u00ff\u00d8 not json', ['images'], /expected a JSON object at the top level/],
    ['', 'top', /expected a JSON array/],
  ] as const)('%j is one clear error', async (text, arrays, reason) => {
    const error = await collect(text, arrays, 3).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(JsonShapeError);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toMatch(/[^\x20-\x7e]/);
  });
});
