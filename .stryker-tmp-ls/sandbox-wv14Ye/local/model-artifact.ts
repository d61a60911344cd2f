import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import type { PixelModel } from './pixel-model';

const MODEL_FILE = 'model.json';

/** `model.tar.gz`, as SageMaker training jobs write their model artifacts, holding the local model. */
export async function packModelArtifact(model: PixelModel): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-model-'));
  try {
    writeFileSync(join(dir, MODEL_FILE), JSON.stringify(model));
    await tar.create({ gzip: true, cwd: dir, file: join(dir, 'model.tar.gz'), portable: true }, [MODEL_FILE]);
    return readFileSync(join(dir, 'model.tar.gz'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The model in a `model.tar.gz` written by {@link packModelArtifact}. */
export async function unpackModelArtifact(artifact: Buffer): Promise<PixelModel> {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-model-'));
  try {
    writeFileSync(join(dir, 'model.tar.gz'), artifact);
    await tar.extract({ file: join(dir, 'model.tar.gz'), cwd: dir, filter: (path) => path === MODEL_FILE });
    return JSON.parse(readFileSync(join(dir, MODEL_FILE), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
