import {
  closeRound,
  correctionMarkersPrefix,
  correctionsExecutionName,
  finishCorrectionsTurn,
  isRoundClosed,
  queueCorrection,
  roundEnded,
  takeCorrectionsTurn,
} from '../../../lambda/labelstudio/corrections';
import { labelStudioFilesKey, readLabelStudioFiles } from '../../../lambda/labelstudio/run-files';
import { annotatedPrefix, countAndCloseRound } from '../../../lambda/labelstudio/workflow-tasks';
import { batchExecutionName } from '../../../lambda/workflow/batch';
import { importExecutionName } from '../../../lambda/workflow/import-turns';
import { useEmbeddedS3 } from '../../helpers/embedded-s3';

const ART = 'art';
const INBOX = 'inbox';

describe('Label Studio corrections: annotations saved after their round converted go to the batch next corrections run (embedded S3 server)', () => {
  const s3 = useEmbeddedS3([ART, INBOX]);
  const take = (batch: string, generation: number, runId = `${batch}-c${generation}`) =>
    takeCorrectionsTurn({ store: s3.store, artifactsBucket: ART, inboxBucket: INBOX, batch, generation, runId });
  const correction = (batch: string, name: string, round = '0') => ({
    batch,
    round,
    image: `s3://${INBOX}/images/${batch}/${name}.jpg`,
    annotationKey: `labelstudio/annotations/${name}`,
  });

  test('a round is open until its count lets the run go on; closing it twice is the same', async () => {
    const count = (annotated: number) =>
      countAndCloseRound({
        store: s3.store,
        artifactsBucket: ART,
        inboxBucket: INBOX,
        runId: 'open-g0',
        batch: 'open',
        round: '0',
        tasks: 2,
        since: new Date().toISOString(),
        deadlineHours: 1,
        minLabeledFraction: 1,
      }).then(async (progress) => ({ state: progress.state, closed: await isRoundClosed(s3.store, ART, 'open', '0'), annotated }));
    expect(await count(0)).toEqual({ state: 'waiting', closed: false, annotated: 0 });
    // One task annotated in two files counts once.
    for (const marker of ['a/7', 'b/8', 'b/9'])
      await s3.store.write(`s3://${ART}/${annotatedPrefix('open', '0')}${marker}`, Buffer.from('{}'), 'application/json');
    expect(await count(2)).toEqual({ state: 'complete', closed: true, annotated: 2 });
    await closeRound(s3.store, ART, 'open', '0');
    // The round is converting once, whatever the retries: its end lets corrections go on.
    expect(await take('open', 0)).toEqual({ turn: 'wait', files: 0 });
    await roundEnded(s3.store, ART, 'open', '0');
    expect(await take('open', 0)).toEqual({ turn: 'taken', files: 0 });
  });

  test("when the run goes on, its round's files are listed into its own list, each once; no file is read", async () => {
    const count = (batch: string) =>
      countAndCloseRound({
        store: s3.store,
        artifactsBucket: ART,
        inboxBucket: INBOX,
        runId: `${batch}-g0`,
        batch,
        round: '0',
        tasks: 2,
        since: new Date().toISOString(),
        deadlineHours: 1,
        minLabeledFraction: 1,
      });
    for (const marker of ['a/7', 'a/12.json', 'b/8'])
      await s3.store.write(`s3://${ART}/${annotatedPrefix('listed', '0')}${marker}`, Buffer.from('{}'), 'application/json');
    const progress = await count('listed');
    expect(progress).toMatchObject({ state: 'complete', labelStudioFiles: `s3://${ART}/${labelStudioFilesKey('listed-g0')}` });
    expect(await readLabelStudioFiles(s3.store, ART, 'listed-g0', progress.labelStudioFiles!)).toEqual(
      ['12.json', '7', '8'].map((n) => `s3://${INBOX}/labelstudio/annotations/${n}`),
    );
    // Still waiting: nothing listed.
    await s3.store.write(`s3://${ART}/${annotatedPrefix('waiting', '0')}a/7`, Buffer.from('{}'), 'application/json');
    expect(await count('waiting')).toEqual(expect.not.objectContaining({ labelStudioFiles: expect.anything() }));
    // A marker recorded before markers named their file: the conversion reads the whole target storage, as it did then.
    for (const marker of ['a', 'b/8'])
      await s3.store.write(`s3://${ART}/${annotatedPrefix('legacy', '0')}${marker}`, Buffer.from('{}'), 'application/json');
    expect(await count('legacy')).toMatchObject({ state: 'complete', labelStudioFiles: '' });
  });

  test('re-saving many annotations asks for one execution; the run takes every file kept for it, once each', async () => {
    await closeRound(s3.store, ART, 'turtles', '0');
    const generations = [];
    for (const name of ['7', '8', '7', '12.json', '8']) generations.push(await queueCorrection(s3.store, ART, correction('turtles', name)));
    expect(generations).toEqual([0, 0, 0, 0, 0]);
    // The round's run still converts: the corrections wait for it (their items must be the later lines of the index).
    expect(await take('turtles', 0)).toEqual({ turn: 'wait', files: 0 });
    await roundEnded(s3.store, ART, 'turtles', '0');
    const turn = await take('turtles', 0, 'turtles-run');
    expect(turn).toEqual({
      turn: 'taken',
      files: 3,
      export: `s3://${INBOX}/labelstudio/annotations/`,
      labelStudioFiles: `s3://${ART}/${labelStudioFilesKey('turtles-run')}`,
    });
    expect(await readLabelStudioFiles(s3.store, ART, 'turtles-run', turn.labelStudioFiles!)).toEqual(
      ['12.json', '7', '8'].map((n) => `s3://${INBOX}/labelstudio/annotations/${n}`),
    );
    // Saved while that run converts: the next generation, which waits for it.
    expect(await queueCorrection(s3.store, ART, correction('turtles', '7'))).toBe(1);
    expect(await take('turtles', 1)).toEqual({ turn: 'wait', files: 0 });
    expect(await take('turtles', 0)).toEqual({ turn: 'stale', files: 0 });
    await finishCorrectionsTurn(s3.store, ART, 'turtles', 0);
    expect(await take('turtles', 1)).toMatchObject({ turn: 'taken', files: 1 });
    // Another batch's corrections have turns of their own.
    expect(await queueCorrection(s3.store, ART, correction('crabs', '99'))).toBe(0);
    expect(await take('crabs', 0)).toMatchObject({ turn: 'taken', files: 1 });
  });

  test('an event that read a generation a run took meanwhile sends its file to the next generation', async () => {
    // The run of generation 0 takes its turn (and lists) between the event's first read and its write.
    const store = s3.store;
    let raced = false;
    const racing = {
      readStart: async (location: string, bytes: number) => {
        const start = await store.readStart(location, bytes);
        if (!raced && location.endsWith('turns.json')) {
          raced = true;
          expect(await take('race', 0)).toEqual({ turn: 'taken', files: 0 });
        }
        return start;
      },
      write: store.write.bind(store),
    };
    expect(await queueCorrection(racing, ART, correction('race', '5'))).toBe(1);
    const listed = await store.list(ART, correctionMarkersPrefix('race', 1));
    expect(listed.map((o) => o.key.slice(o.key.lastIndexOf('/') + 1))).toEqual(['5']);
    expect(await take('race', 1)).toMatchObject({ turn: 'taken', files: 1 });
  });

  test('queueing costs two small reads and one write, the same for the 60th file as for the first', async () => {
    await closeRound(s3.store, ART, 'many', '0');
    const costs: string[] = [];
    const counted = {
      readStart: async (location: string, bytes: number) => {
        const start = await s3.store.readStart(location, bytes);
        costs.push(`read ${start?.data.length ?? 0}`);
        return start;
      },
      write: async (location: string, body: Buffer, type: string) => {
        costs.push('write');
        return s3.store.write(location, body, type);
      },
    };
    const costOf = async (name: string) => {
      costs.length = 0;
      await queueCorrection(counted, ART, correction('many', name));
      return [...costs];
    };
    const first = await costOf('1');
    for (let i = 2; i < 60; i++) await queueCorrection(s3.store, ART, correction('many', String(i)));
    expect(await costOf('60')).toEqual(first);
    expect(first.filter((c) => c === 'write')).toHaveLength(1);
    expect(first.filter((c) => c.startsWith('read'))).toHaveLength(2);
  });

  test('a run reads only its own list of files', async () => {
    await expect(readLabelStudioFiles(s3.store, ART, 'mine', `s3://${ART}/${labelStudioFilesKey('theirs')}`)).rejects.toThrow(
      /reads its own list of Label Studio files/,
    );
  });

  test("a run's list gone says which list and who writes it, not S3's bare error", async () => {
    const list = `s3://${ART}/${labelStudioFilesKey('gone')}`;
    await expect(readLabelStudioFiles(s3.store, ART, 'gone', list)).rejects.toThrow(
      `${list}, the run's list of Label Studio files, is missing: the run wrote it when it took its annotations (Count annotations, or its corrections turn), so it was deleted since`,
    );
  });

  test('the end of one converting round leaves the other converting; a round never closed changes nothing', async () => {
    await closeRound(s3.store, ART, 'two', '0');
    await closeRound(s3.store, ART, 'two', '1');
    await roundEnded(s3.store, ART, 'two', '0');
    expect(await take('two', 0)).toEqual({ turn: 'wait', files: 0 });
    await roundEnded(s3.store, ART, 'two', '5');
    expect(await take('two', 0)).toEqual({ turn: 'wait', files: 0 });
    await roundEnded(s3.store, ART, 'two', '1');
    expect(await take('two', 0)).toEqual({ turn: 'taken', files: 0 });
  });

  test("a generation's list is its markers' file names, sorted; a nested name is no file", async () => {
    for (const name of ['b', 'a', 'sub/x'])
      await s3.store.write(`s3://${ART}/${correctionMarkersPrefix('stray', 0)}${name}`, Buffer.from('{}'), 'application/json');
    const turn = await take('stray', 0);
    expect(turn).toMatchObject({ turn: 'taken', files: 2 });
    expect(await readLabelStudioFiles(s3.store, ART, 'stray-c0', turn.labelStudioFiles!)).toEqual(
      ['a', 'b'].map((n) => `s3://${INBOX}/labelstudio/annotations/${n}`),
    );
    expect(correctionMarkersPrefix('stray', 12)).toBe(correctionMarkersPrefix('stray', 0).replace(/000000\/$/, '000012/'));
  });

  test('a list that is not one of file names is refused by name', async () => {
    const list = `s3://${ART}/${labelStudioFilesKey('odd')}`;
    for (const body of ['{}', '[1]', '["s3://inbox/labelstudio/annotations/1", 2]', '"s3://x"']) {
      await s3.store.write(list, Buffer.from(body), 'application/json');
      await expect(readLabelStudioFiles(s3.store, ART, 'odd', list)).rejects.toThrow(`${list} is not a list of files`);
    }
    await s3.store.write(list, Buffer.from('["s3://inbox/labelstudio/annotations/1"]'), 'application/json');
    expect(await readLabelStudioFiles(s3.store, ART, 'odd', list)).toEqual(['s3://inbox/labelstudio/annotations/1']);
  });

  test("execution names stay within Step Functions' 80 characters and never meet a batch's or an import's", () => {
    const name = correctionsExecutionName('b'.repeat(200), 123456);
    expect(name).toMatch(/^b{50}-[0-9a-f]{8}-c123456$/);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(correctionsExecutionName('x', 0)).not.toBe(batchExecutionName('x', 0));
    expect(correctionsExecutionName('x', 0)).not.toBe(importExecutionName('x', 'labeled/x/a.json', 0));
  });
});
