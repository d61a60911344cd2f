import { finishImportTurn, importExecutionName, nextImportGeneration, takeImportTurn } from '../../../lambda/workflow/import-turns';
import { useEmbeddedS3 } from '../../helpers/embedded-s3';

describe('import turns: one run at a time per export file, at most one waiting (embedded S3 server)', () => {
  const s3 = useEmbeddedS3(['a']);

  test('uploads ask for the generation no run has taken; a run waits for the one before it; a repeated generation is stale', async () => {
    const key = 'labeled/b/coco.json';
    expect(await nextImportGeneration(s3.store, 'a', 'b', key)).toBe(0);
    expect(await takeImportTurn(s3.store, 'a', 'b', key, 0)).toBe('taken');
    // Uploads while generation 0 runs ask for 1, which waits.
    expect(await nextImportGeneration(s3.store, 'a', 'b', key)).toBe(1);
    expect(await takeImportTurn(s3.store, 'a', 'b', key, 1)).toBe('wait');
    expect(await nextImportGeneration(s3.store, 'a', 'b', key)).toBe(1);
    expect(await takeImportTurn(s3.store, 'a', 'b', key, 0)).toBe('stale');
    await finishImportTurn(s3.store, 'a', 'b', key, 0);
    expect(await takeImportTurn(s3.store, 'a', 'b', key, 1)).toBe('taken');
    expect(await nextImportGeneration(s3.store, 'a', 'b', key)).toBe(2);
    // Another export of the batch has turns of its own.
    expect(await takeImportTurn(s3.store, 'a', 'b', 'labeled/b/other.json', 0)).toBe('taken');
    // A late second report of an earlier generation's end changes nothing.
    await finishImportTurn(s3.store, 'a', 'b', key, 1);
    await finishImportTurn(s3.store, 'a', 'b', key, 0);
    expect(await takeImportTurn(s3.store, 'a', 'b', key, 2)).toBe('taken');
  });

  test('a run that ended without taking its turn (it timed out waiting) still moves the export on: the next upload asks for the next generation', async () => {
    const key = 'labeled/b/waited.json';
    await finishImportTurn(s3.store, 'a', 'b', key, 0);
    expect(await nextImportGeneration(s3.store, 'a', 'b', key)).toBe(1);
    expect(await takeImportTurn(s3.store, 'a', 'b', key, 1)).toBe('taken');
  });

  test("execution names stay within Step Functions' 80 characters, whatever the batch", () => {
    const name = importExecutionName('b'.repeat(200), 'labeled/x/y.json', 123456);
    expect(name).toMatch(/^b{50}-[0-9a-f]{8}-m[0-9a-f]{8}-g123456$/);
    expect(name.length).toBeLessThanOrEqual(80);
  });
});
