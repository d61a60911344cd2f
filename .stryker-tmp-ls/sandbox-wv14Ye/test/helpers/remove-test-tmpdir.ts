import { rmSync } from 'node:fs';

/** Jest's global tear-down: removes the run's temporary folder (see build-cli.ts). */
export default function removeTestTmpdir(): void {
  const dir = process.env.SEGPIPE_TEST_TMPDIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
}
