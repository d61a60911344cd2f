import {
  batchExecutionName,
  batchReadiness,
  classifyInboxKey,
  keyCandidates,
  newImages,
  uploadedBeforeSnapshot,
} from '../../../lambda/workflow/batch';
import { importExecutionName } from '../../../lambda/workflow/import-turns';

describe('inbox keys', () => {
  test.each([
    ['images/turtles/a.jpg', { kind: 'image', batch: 'turtles' }],
    ['images/turtles/sub/dir/B.PNG', { kind: 'image', batch: 'turtles' }],
    ['images/my turtles/photo 1.jpeg', { kind: 'image', batch: 'my turtles' }],
    ['images/turtles/_START', { kind: 'start-marker', batch: 'turtles' }],
    ['labeled/turtles/output.manifest', { kind: 'export', batch: 'turtles' }],
    ['labeled/turtles/cvat-export.ZIP', { kind: 'export', batch: 'turtles' }],
    ['labeled/turtles/result.json', { kind: 'export', batch: 'turtles' }],
    ['images/turtles/notes.txt', { kind: 'ignored', reason: expect.stringContaining('not an image') }],
    ['labeled/turtles/masks/1.png', { kind: 'ignored' }],
    ['elsewhere/a.jpg', { kind: 'ignored' }],
  ])('%s', (key, expected) => {
    expect(classifyInboxKey(key)).toMatchObject(expected);
  });

  test('an event key is tried raw, then URL-decoded', () => {
    expect(keyCandidates('images/t/photo+1.jpg')).toEqual(['images/t/photo+1.jpg', 'images/t/photo 1.jpg']);
    expect(keyCandidates('images/t/tortue-%C3%A9.jpg')).toEqual(['images/t/tortue-%C3%A9.jpg', 'images/t/tortue-é.jpg']);
    expect(keyCandidates('images/t/100%.jpg')).toEqual(['images/t/100%.jpg']);
  });

  test('execution names are valid, stable per batch and generation, and distinct otherwise', () => {
    const name = batchExecutionName('My Turtles / 2026', 0);
    expect(name).toMatch(/^[a-z0-9-]{1,80}$/);
    expect(batchExecutionName('My Turtles / 2026', 0)).toBe(name);
    expect(batchExecutionName('My Turtles / 2026', 1)).not.toBe(name);
    expect(batchExecutionName('my-turtles-2026', 0)).not.toBe(name);
    expect(importExecutionName('t', 'labeled/t/a.manifest', 0)).not.toBe(importExecutionName('t', 'labeled/t/b.manifest', 0));
    // Each generation of an export's uploads is a run of its own; the uploads of one generation ask for one.
    expect(importExecutionName('t', 'labeled/t/a.manifest', 0)).not.toBe(importExecutionName('t', 'labeled/t/a.manifest', 1));
    expect(importExecutionName('t', 'labeled/t/a.manifest', 3)).toBe(importExecutionName('t', 'labeled/t/a.manifest', 3));
    expect(batchExecutionName('x'.repeat(300), 12345).length).toBeLessThanOrEqual(80);
  });
});

describe('batch readiness and snapshots', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 29, 12, 0, seconds));
  const objects = [
    { key: 'images/t/a.jpg', lastModified: at(0) },
    { key: 'images/t/b.jpg', lastModified: at(30) },
    { key: 'images/t/notes.txt', lastModified: at(31) },
  ];

  test('a batch waits for its quiet window, or starts at once on a fresh _START', () => {
    const state = { generation: 0 };
    expect(batchReadiness(objects, state, 120, at(100))).toMatchObject({ ready: false, images: 2 });
    expect(batchReadiness(objects, state, 120, at(152))).toMatchObject({ ready: true });
    expect(batchReadiness([...objects, { key: 'images/t/_START', lastModified: at(40) }], state, 120, at(41))).toMatchObject({
      ready: true,
      reason: '_START is present',
    });
    const spent = { generation: 1, snapshotAt: at(50).toISOString() };
    expect(batchReadiness([...objects, { key: 'images/t/_START', lastModified: at(40) }], spent, 120, at(60))).toMatchObject({
      ready: false,
    });
  });

  test('a snapshot takes the images no run took, and reports what is not an image', () => {
    const snapshot = newImages(objects, 'inbox', new Set(['s3://inbox/images/t/a.jpg']));
    expect(snapshot).toEqual({
      images: ['s3://inbox/images/t/b.jpg'],
      ignored: [{ key: 'images/t/notes.txt', reason: expect.stringContaining('not an image') }],
    });
  });

  test('an image uploaded before the last snapshot began (by more than the margin) was in its listing', () => {
    const state = { generation: 1, snapshotAt: '2026-12-01T10:00:10.000Z' };
    expect(uploadedBeforeSnapshot('images/t/a.jpg', '2026-12-01T10:00:04Z', state)).toBe(true);
    // Within the margin (event times are cut to the second, clocks differ): possibly new, unless the snapshot named it.
    expect(uploadedBeforeSnapshot('images/t/a.jpg', '2026-12-01T10:00:05Z', state)).toBe(false);
    expect(uploadedBeforeSnapshot('images/t/a.jpg', '2026-12-01T10:00:05Z', { ...state, recent: ['images/t/a.jpg'] })).toBe(true);
    expect(uploadedBeforeSnapshot('images/t/a.jpg', '2026-12-01T10:00:11Z', state)).toBe(false);
    expect(uploadedBeforeSnapshot('images/t/a.jpg', undefined, state)).toBe(false);
    expect(uploadedBeforeSnapshot('images/t/a.jpg', 'not a time', state)).toBe(false);
    expect(uploadedBeforeSnapshot('images/t/a.jpg', '2026-12-01T10:00:04Z', { generation: 0 })).toBe(false);
  });
});
