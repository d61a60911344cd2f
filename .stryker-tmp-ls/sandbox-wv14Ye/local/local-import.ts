import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ZipFile } from 'yazl';
import { openExport } from '../lambda/convert/export-input';
import { FolderObjectStore } from '../lambda/convert/stores/folder-object-store';
import type { S3ObjectStore } from '../lambda/convert/stores/s3-object-store';
import { IMAGE_EXTENSIONS } from '../lambda/workflow/batch';
import { LABELED_PREFIX } from '../lambda/workflow/layout';

const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Most files a folder export may hold: a bound on what is zipped in memory on this machine. */
export const MAX_IMPORT_FILES = 50_000;

/** The export as it is dropped into the inbox: one object under `labeled/<batch>/`. */
export interface ImportUpload {
  /** The object's name under `labeled/<batch>/`. */
  readonly name: string;
  readonly body: Buffer;
  /** How it was made from what was given, for the log: the `aws s3 cp` a user would run. */
  readonly made: string;
}

/**
 * What `segpipe local --import` drops under `labeled/<batch>/`, as a user would on AWS: a zip as it
 * is; a folder (a CVAT or VOC layout, a COCO JSON with its images) zipped whole, since only a file
 * directly under `labeled/<batch>/` starts an import; a JSON or manifest file together with the
 * images found in its folder and below (where `segpipe convert` looks for them by default), zipped.
 */
export async function importUpload(path: string): Promise<ImportUpload> {
  const given = resolve(path);
  let info;
  try {
    info = statSync(given);
  } catch {
    throw new Error(`--import ${path}: no such file or folder`);
  }
  if (info.isDirectory()) {
    const files = filesUnder(given, path);
    return {
      name: `${basename(given)}.zip`,
      body: await zipFiles(given, files),
      made: `${path} zipped (${files.length} files), as \`(cd ${path} && zip -r ../${basename(given)}.zip .)\` would`,
    };
  }
  const head = readFileSync(given).subarray(0, 4);
  if (head.equals(ZIP_SIGNATURE)) {
    const name = /\.zip$/i.test(given) ? basename(given) : `${basename(given)}.zip`;
    return { name, body: readFileSync(given), made: path };
  }
  const folder = dirname(given);
  const images = filesUnder(folder, folder).filter((f) => IMAGE_EXTENSIONS.some((ext) => f.toLowerCase().endsWith(ext)));
  const stem = basename(given).replace(/\.[^.]*$/, '');
  return {
    name: `${stem}.zip`,
    body: await zipFiles(folder, [relative(folder, given), ...images]),
    made: `${path} and the ${images.length} images under ${folder} zipped together`,
  };
}

/** Files under `root`, relative, sorted; refuses a folder too large to zip in memory here. */
function filesUnder(root: string, shown: string): string[] {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
  if (files.length > MAX_IMPORT_FILES)
    throw new Error(
      `--import ${shown} holds ${files.length} files, more than the ${MAX_IMPORT_FILES} a local run zips: zip the export yourself and give the zip`,
    );
  if (files.length === 0) throw new Error(`--import ${shown} is an empty folder`);
  return files;
}

function zipFiles(root: string, files: readonly string[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const file of files) zip.addFile(join(root, file), file.split(sep).join('/'));
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((done, fail) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => done(Buffer.concat(chunks)));
    zip.outputStream.on('error', fail);
  });
}

/**
 * The labeled items of the export dropped at `location`, read as the workflow's conversion reads
 * them (their sources, on which the split is drawn), and its format. Throws the converter's one-line
 * reason when it is no export segpipe reads.
 */
export async function importedSources(store: S3ObjectStore, location: string): Promise<{ format: string; sources: string[] }> {
  const opened = await openExport({ input: location, local: new FolderObjectStore(), s3: store, sources: store });
  try {
    const sources: string[] = [];
    for await (const entry of opened.reader.items()) if ('mask' in entry) sources.push(entry.source);
    return { format: opened.reader.format, sources };
  } finally {
    opened.close();
  }
}

/** The inbox key of an import of `batch`. */
export function importKey(batch: string, name: string): string {
  return `${LABELED_PREFIX}${batch}/${name}`;
}
