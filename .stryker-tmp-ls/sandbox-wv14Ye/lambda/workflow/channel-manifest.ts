// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';

/**
 * A SageMaker channel manifest (`S3DataType: ManifestFile`): a JSON array whose first element is
 * `{"prefix": "s3://bucket/prefix/"}` and whose other elements are keys relative to it. SageMaker
 * downloads each object into the channel's folder under its relative key, so a training job reads
 * the dataset's objects where they are, and no run copies them.
 * Format: SageMaker API reference, `S3DataSource.S3Uri`.
 */
export interface ChannelManifest {
  readonly prefix: string;
  readonly keys: readonly string[];
}

/** The manifest's bytes: one key a line, so that a large one stays readable and diffable. */
export function channelManifestJson(manifest: ChannelManifest): string {
  if (!/^s3:\/\/[^/]+\/.*\/$/.test(manifest.prefix))
    throw new Error(`a channel manifest's prefix is an s3:// URI ending in "/", received ${JSON.stringify(manifest.prefix)}`);
  return `[${[{ prefix: manifest.prefix }, ...manifest.keys].map((element) => JSON.stringify(element)).join(',\n')}]\n`;
}

/** Reads a channel manifest back (the local training stand-in, the local run, the tests). */
export async function readChannelManifest(store: Pick<ObjectStore, 'read'>, location: string): Promise<ChannelManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await store.read(location)).toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || typeof parsed[0]?.prefix !== 'string' || parsed.slice(1).some((key) => typeof key !== 'string')) {
    throw new Error(`${location} is not a channel manifest ([{"prefix": "s3://..."}, "key", ...])`);
  }
  return { prefix: parsed[0].prefix, keys: parsed.slice(1) };
}
