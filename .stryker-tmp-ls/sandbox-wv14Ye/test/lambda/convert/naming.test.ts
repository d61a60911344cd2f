import { ClassIndex } from '../../../lambda/convert/classes';
import { outputNameFor, splitFor } from '../../../lambda/convert/naming';

describe('outputNameFor', () => {
  test.each([
    ['s3://b/images/turtle 1.jpg', /^turtle_1-[0-9a-f]{8}$/],
    ['s3://b/images/tortue-é+1.JPEG', /^tortue-e_1-[0-9a-f]{8}$/],
    ['s3://b/images/海龟.png', /^[0-9a-f]{8}$/],
    ['s3://b/images/..hidden.jpg', /^hidden-[0-9a-f]{8}$/],
    [`s3://b/a/${'x'.repeat(300)}.jpg`, /^x{80}-[0-9a-f]{8}$/],
  ])('%s becomes a safe name', (source, name) => {
    expect(outputNameFor(source)).toMatch(name);
    expect(outputNameFor(source)).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  });

  test('is stable, and differs for the same base name in different folders', () => {
    expect(outputNameFor('s3://b/x/a.jpg')).toBe(outputNameFor('s3://b/x/a.jpg'));
    expect(outputNameFor('s3://b/x/a.jpg')).not.toBe(outputNameFor('s3://b/y/a.jpg'));
  });
});

describe('splitFor', () => {
  const sources = Array.from({ length: 2000 }, (_, i) => `s3://b/images/${i}.jpg`);

  test('is deterministic and near the fraction', () => {
    const splits = sources.map((s) => splitFor(s, 'segpipe', 0.2));
    expect(sources.map((s) => splitFor(s, 'segpipe', 0.2))).toEqual(splits);
    const validation = splits.filter((s) => s === 'validation').length / sources.length;
    expect(validation).toBeGreaterThan(0.17);
    expect(validation).toBeLessThan(0.23);
  });

  test('adding items never moves an existing one; another seed gives another split', () => {
    const before = sources.slice(0, 1000).map((s) => splitFor(s, 'segpipe', 0.2));
    const after = sources.map((s) => splitFor(s, 'segpipe', 0.2)).slice(0, 1000);
    expect(after).toEqual(before);
    expect(sources.map((s) => splitFor(s, 'other', 0.2))).not.toEqual(sources.map((s) => splitFor(s, 'segpipe', 0.2)));
  });

  // Written out once: a change to what the split hashes (a date, a counter, a new hash) moves items
  // between train and validation, and the dataset then validates on what it trained on.
  const PINNED: [string, 'train' | 'validation'][] = [
    ['s3://inbox/images/turtles/0001.jpg', 'train'],
    ['s3://inbox/images/turtles/0002.jpg', 'train'],
    ['s3://inbox/images/turtles/0003.jpg', 'train'],
    ['s3://inbox/images/turtles/0004.jpg', 'validation'],
    ['s3://inbox/images/turtles/0005.jpg', 'train'],
    ['s3://inbox/images/turtles/0006.jpg', 'train'],
    ['s3://inbox/images/turtles/0007.jpg', 'train'],
    ['s3://inbox/images/turtles/0008.jpg', 'validation'],
    ['s3://inbox/images/turtles/0009.jpg', 'validation'],
    ['s3://inbox/images/turtles/0010.jpg', 'validation'],
    ['s3://inbox/images/turtles/0011.jpg', 'train'],
    ['s3://inbox/images/turtles/0012.jpg', 'train'],
    ['s3://inbox/images/turtles/photo 1+é.jpg', 'validation'],
    ['s3://inbox/images/rocks/IMG_2041.JPG', 'train'],
    ['s3://other-bucket/a/b/c.png', 'validation'],
    ['s3://other-bucket/a/b/d.png', 'train'],
  ];

  describe('is the same on any day', () => {
    afterEach(() => jest.useRealTimers());
    test.each(['2026-11-29T12:00:00Z', '2031-02-28T23:59:59Z'])('system date %s', (date) => {
      jest.useFakeTimers({ now: new Date(date) });
      expect(PINNED.map(([source]) => [source, splitFor(source, 'segpipe', 0.5)])).toEqual(PINNED);
    });
  });
});

describe('ClassIndex', () => {
  const entry = (key: string, className: string, rgb: number) => ({ key, className, rgb, background: key === '0' });

  test('background is 0, others in first-seen order, identified by name across colour maps', () => {
    const index = new ClassIndex();
    expect(index.indicesOf([entry('0', 'BACKGROUND', 0xffffff), entry('1', 'turtle', 1), entry('2', 'rock', 2)])).toEqual([
      { rgb: 0xffffff, index: 0 },
      { rgb: 1, index: 1 },
      { rgb: 2, index: 2 },
    ]);
    expect(
      index.indicesOf([entry('1', 'rock', 9), entry('0', 'BACKGROUND', 0xffffff), entry('2', 'turtle', 8), entry('3', 'kelp', 7)]),
    ).toEqual([
      { rgb: 9, index: 2 },
      { rgb: 0xffffff, index: 0 },
      { rgb: 8, index: 1 },
      { rgb: 7, index: 3 },
    ]);
    expect(index.classes).toEqual(['BACKGROUND', 'turtle', 'rock', 'kelp']);
  });

  test('configured classes come first in their order; the background keeps the manifest spelling', () => {
    const index = new ClassIndex(['rock', 'turtle']);
    index.indicesOf([entry('0', 'Background', 0xffffff), entry('1', 'turtle', 1), entry('2', 'kelp', 2)]);
    expect(index.classes).toEqual(['Background', 'rock', 'turtle', 'kelp']);
  });

  test('refuses a 255th class, which the algorithm cannot take', () => {
    const index = new ClassIndex(Array.from({ length: 253 }, (_, i) => `c${i}`));
    expect(index.indicesOf([entry('1', 'one-too-many', 1)])).toMatch(/class number 255; the algorithm takes at most 254/);
  });
});

describe("output names in a namespace (the workflow's batches)", () => {
  test('two batches never name the same source alike; the name says its batch, and without a namespace nothing changes', () => {
    const a = outputNameFor('turtle.jpg', { namespace: 'beach' });
    const b = outputNameFor('turtle.jpg', { namespace: 'reef' });
    expect(a).toMatch(/^beach--turtle-[0-9a-f]{8}$/);
    expect(b).toMatch(/^reef--turtle-[0-9a-f]{8}$/);
    expect(a.slice(-8)).not.toBe(b.slice(-8));
    expect(outputNameFor('turtle.jpg', {})).toBe(outputNameFor('turtle.jpg'));
  });

  test('a namespace made unsafe or long is cut and made safe; a suffix ends the name', () => {
    expect(outputNameFor('s3://in/a.jpg', { namespace: `../${'x'.repeat(60)}`, suffix: 'r1' })).toMatch(
      new RegExp(`^${'x'.repeat(40)}--a-[0-9a-f]{8}-r1$`),
    );
    // The namespace is hashed with the source: a batch named like another's prefix gets other hashes.
    expect(outputNameFor('b/c.jpg', { namespace: 'a' }).slice(-8)).not.toBe(outputNameFor('c.jpg', { namespace: 'a/b' }).slice(-8));
  });
});
