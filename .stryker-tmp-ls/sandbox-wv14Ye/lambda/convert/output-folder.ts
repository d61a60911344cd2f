// @ts-nocheck
import { CHANNELS } from './channels';
import { type ConversionReport, REPORT_FILE } from './conversion/report';
import { folderPrefix, type ObjectStore } from './stores/object-store';

const CHANNEL_FOLDERS = Object.values(CHANNELS).flatMap((c) => [c.images, c.masks]);

/**
 * Written first and removed last by a conversion into S3, where nothing renames: an output holding
 * it is segpipe's own, not whole until `report.json` is back.
 */
export const INCOMPLETE_MARKER = '_SEGPIPE_INCOMPLETE';

/**
 * Checks that `out` may be written: empty, or a previous segpipe output (its report, or the marker of
 * one stopped part way, and the four channel folders, nothing else; with `incompleteAllowed`, a
 * staging folder, which needs neither), whose files are returned so that the ones this run does not
 * write again can be removed after it. Anything else is refused: the channels must hold exactly what
 * the report says, and a stale file from another split would leak validation images into training.
 */
export async function checkOutputLocation(
  store: ObjectStore,
  out: string,
  options: { readonly incompleteAllowed?: boolean } = {},
): Promise<string[]> {
  const files = await store.listUnder(out);
  if (files.length === 0) return [];
  const report = store.join(out, REPORT_FILE);
  const marker = store.join(out, INCOMPLETE_MARKER);
  const channelPrefixes = CHANNEL_FOLDERS.map((folder) => folderPrefix(store, store.join(out, folder)));
  const inChannels = (f: string) => channelPrefixes.some((prefix) => f.startsWith(prefix));
  const foreign = files.filter((f) => f !== report && f !== marker && !inChannels(f));
  const owned = files.includes(report) || files.includes(marker) || options.incompleteAllowed;
  if (!owned || foreign.length > 0) {
    const named = foreign.length > 0 ? foreign : files;
    throw new Error(
      `--out ${out} is not empty and not a segpipe output (it holds ${named.slice(0, 3).join(', ')}${named.length > 3 ? ', ...' : ''}): give an empty or new folder`,
    );
  }
  return files;
}

/** Removes the files of a previous output that this conversion did not write. */
export async function removeStaleOutput(
  store: ObjectStore,
  out: string,
  previous: readonly string[],
  report: ConversionReport,
): Promise<number> {
  const written = new Set([store.join(out, REPORT_FILE)]);
  for (const item of report.items) {
    written.add(store.join(out, CHANNELS[item.split].images, `${item.name}.jpg`));
    written.add(store.join(out, CHANNELS[item.split].masks, `${item.name}.png`));
  }
  const stale = previous.filter((f) => !written.has(f));
  await store.remove(stale);
  return stale.length;
}
