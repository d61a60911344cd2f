import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Python with PIL and numpy (`.ci/run` installs python3-pil and python3-numpy). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface PilMaskReading {
  readonly file: string;
  readonly mode: string;
  readonly width: number;
  readonly height: number;
  readonly values: number[];
  /** sha256 of the pixel array as the algorithm's loaders get it (np.array(Image.open(f))). */
  readonly sha256: string;
}

const READ_MASKS = `
import hashlib, json, sys
import numpy as np
from PIL import Image
out = []
for f in sys.argv[1:]:
    im = Image.open(f)
    a = np.array(im)
    out.append({"file": f, "mode": im.mode, "width": im.size[0], "height": im.size[1],
                "values": sorted(int(v) for v in np.unique(a)), "sha256": hashlib.sha256(a.astype(np.uint8).tobytes()).hexdigest()})
print(json.dumps(out))
`;

/** Reads masks with PIL, independently of sharp, the way the algorithm's Python loaders read them. */
export function readMasksWithPil(files: readonly string[]): PilMaskReading[] {
  if (!existsSync(SYSTEM_PYTHON)) throw new Error(`${SYSTEM_PYTHON} is missing: install python3-pil and python3-numpy (see .ci/run)`);
  return JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', READ_MASKS, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}
