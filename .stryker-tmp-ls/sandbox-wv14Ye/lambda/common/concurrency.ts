/** Runs `work` on every item, at most `concurrency` at a time. */
// @ts-nocheck

export async function forEachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/**
 * `work` on every item, at most `width` started ahead of the one consumed, the results yielded in the
 * items' order: reads of many small objects overlap their latency while memory stays bounded.
 */
export async function* mapAhead<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): AsyncGenerator<R> {
  const started: Promise<R>[] = [];
  let next = 0;
  const startNext = () => {
    const result = work(items[next++]);
    // Handled when it is consumed, in order; until then a rejection must not count as unhandled.
    result.catch(() => undefined);
    started.push(result);
  };
  while (next < items.length && started.length < width) startNext();
  while (started.length > 0) {
    const result = await (started.shift() as Promise<R>);
    if (next < items.length) startNext();
    yield result;
  }
}
