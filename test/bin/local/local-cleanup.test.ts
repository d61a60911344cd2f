// A run of its own (without --keep): the handlers read their settings and S3 endpoint once, when loaded, so a
// second run in the --keep run's process (local-run.test.ts) would need its modules loaded again; a file of
// its own costs the same and runs beside it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocally } from '../../../bin/local/local-run';

test('the local run\'s clean-up writes each deletion to notifications.log, as the event the deployed clean-up publishes', async () => {
  const lines: string[] = [];
  const result = await runLocally({ images: 16, imageWidth: 96, imageHeight: 72, epochs: 8, dataDir: mkdtempSync(join(tmpdir(), 'segpipe-local-cleanup-')), log: (l) => lines.push(l) });
  expect(result.status).toBe('SUCCEEDED');
  expect(result.cleanup!.deleted.map((d) => d.kind)).toContain('endpoint');
  const log = readFileSync(join(result.dataDir, 'notifications.log'), 'utf8');
  const deletions = [...log.matchAll(/^Segpipe Resource Deleted: (.*)$/gm)].map((m) => JSON.parse(m[1]));
  expect(deletions).toEqual(result.cleanup!.deleted.map((d) => ({ stack: expect.any(String), kind: d.kind, name: d.name, reason: d.reason })));
  for (const d of result.cleanup!.deleted) expect(lines).toContain(`  clean-up deleted ${d.kind} ${d.name}: ${d.reason}`);
}, 180_000);
