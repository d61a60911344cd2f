/**
 * A run's own list of the Label Studio target-storage files it converts: a round's run lists its
 * round's files when it closes the round, a corrections run the files kept for its generation. The
 * conversion then reads those files, not every file the target storage ever received (all batches',
 * all rounds'), and lists nothing.
 */
import { ObjectNotFoundError, type ObjectStore } from '../convert/stores/object-store';
import { runLayout, s3Uri } from '../workflow/layout';

/** Where a run's list of files is (artifacts bucket). */
export function labelStudioFilesKey(runId: string): string {
  return `${runLayout(runId).prefix}labelstudio/files.json`;
}

/** Writes a run's list; returns its location, which the run hands to its conversion. */
export async function writeLabelStudioFiles(
  store: Pick<ObjectStore, 'write'>,
  bucket: string,
  runId: string,
  files: readonly string[],
): Promise<string> {
  const list = s3Uri(bucket, labelStudioFilesKey(runId));
  await store.write(list, Buffer.from(`${JSON.stringify(files)}\n`), 'application/json');
  return list;
}

/** The files of a run's list, refused unless it is that run's own (a payload cannot point a run at another's). */
export async function readLabelStudioFiles(
  store: Pick<ObjectStore, 'read'>,
  bucket: string,
  runId: string,
  list: string,
): Promise<string[]> {
  const own = s3Uri(bucket, labelStudioFilesKey(runId));
  if (list !== own) throw new Error(`a run reads its own list of Label Studio files (${own}), not ${list}`);
  const body = await store.read(list).catch((error: unknown) => {
    throw error instanceof ObjectNotFoundError
      ? new Error(
          `${list}, the run's list of Label Studio files, is missing: the run wrote it when it took its annotations (Count annotations, or its corrections turn), so it was deleted since`,
        )
      : error;
  });
  const files: unknown = JSON.parse(body.toString('utf8'));
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) throw new Error(`${list} is not a list of files`);
  return files as string[];
}
