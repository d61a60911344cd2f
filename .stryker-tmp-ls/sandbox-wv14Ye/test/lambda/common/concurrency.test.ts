import { spawnSync } from 'node:child_process';
import { forEachLimited, mapAhead } from '../../../lambda/common/concurrency';

/** A promise settled by hand, to hold work back while the test looks at what has started. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapAhead', () => {
  test('yields in the items’ order whatever order the work ends in, with at most `width` started ahead', async () => {
    const pending = Array.from({ length: 6 }, () => deferred<string>());
    const started: number[] = [];
    const results = mapAhead([0, 1, 2, 3, 4, 5], 3, (i) => {
      started.push(i);
      return pending[i].promise;
    });
    const first = results.next();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    // The third ends first: nothing is yielded before the first, and nothing more starts.
    pending[2].resolve('c');
    pending[1].resolve('b');
    await tick();
    expect(started).toEqual([0, 1, 2]);
    pending[0].resolve('a');
    expect(await first).toEqual({ value: 'a', done: false });
    expect(started).toEqual([0, 1, 2, 3]);
    for (const [i, value] of ['d', 'e', 'f'].entries()) pending[i + 3].resolve(value);
    const rest: string[] = [];
    for await (const value of results) rest.push(value);
    expect(rest).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a failure surfaces at its turn, after the results before it', async () => {
    const pending = [deferred<number>(), deferred<number>()];
    const results = mapAhead([0, 1], 2, (i) => pending[i].promise);
    const first = results.next();
    pending[1].reject(new Error('second failed'));
    await tick();
    pending[0].resolve(1);
    expect(await first).toEqual({ value: 1, done: false });
    await expect(results.next()).rejects.toThrow('second failed');
  });

  test('a failure ahead of its turn is no unhandled rejection (which ends a Node process)', () => {
    // In a process of its own: Jest keeps unhandled rejections from the test's process.
    const script = `
      const { mapAhead } = require(${JSON.stringify(require.resolve('../../../lambda/common/concurrency'))});
      (async () => {
        const results = mapAhead([0, 1], 2, (i) => i === 0 ? new Promise((r) => setTimeout(() => r(0), 50)) : Promise.reject(new Error('ahead')));
        await results.next();
        await results.next().catch((e) => console.log('caught', e.message));
      })();`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout.trim() }).toEqual({ status: 0, stdout: 'caught ahead' });
  });

  test('no items, no work', async () => {
    const work = jest.fn();
    for await (const _ of mapAhead([], 4, work)) throw new Error('yielded');
    expect(work).not.toHaveBeenCalled();
  });
});

describe('forEachLimited', () => {
  test('runs every item once, at most `concurrency` at a time', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      seen.push(i);
      running -= 1;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });
});
