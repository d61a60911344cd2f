import { createHash } from 'node:crypto';
import { localCommand } from '../../bin/commands/local';
import { splitFor } from '../../lambda/convert/naming';
import * as localRun from '../../local/local-run';
import { LOCAL_SPLIT, localSplitSeed, MIN_LOCAL_IMAGES, nextLocalBatchName } from '../../local/local-run';

/** `segpipe local <args>` parsed in this process, the run itself replaced: what it would be asked to do, or the one-line refusal. */
async function parseLocal(...args: string[]): Promise<{ images?: number; error?: string }> {
  const runLocally = jest.spyOn(localRun, 'runLocally').mockResolvedValue({ status: 'SUCCEEDED' } as localRun.LocalRunResult);
  let error = '';
  const command = localCommand()
    .exitOverride()
    .configureOutput({
      writeErr: (text) => {
        error += text;
      },
      writeOut: () => undefined,
    });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { images: runLocally.mock.calls[0]?.[0]?.images };
  } catch {
    return { error: error.trim() };
  } finally {
    runLocally.mockRestore();
  }
}

describe('segpipe local --images', () => {
  test('refuses, before anything starts, a count too small for both channels, naming the limit and why', async () => {
    for (const images of ['1', '2', '3']) {
      const { error } = await parseLocal('--images', images);
      expect(error).toBe(
        `error: option '--images <n>' argument '${images}' is invalid. a local run needs at least 4 images: one is left unlabeled (a failed labeling item), and the rest must fill the validation channel (1) and the train channel (training.minSamples 2)`,
      );
    }
  });

  test('refuses more than one machine runs in minutes, saying what to do instead', async () => {
    const { error } = await parseLocal('--images', '5000');
    expect(error).toContain('a local run takes at most 2000 images');
    expect(error).toContain('use --images 2000 or fewer, and run again with the same --data-dir for another batch');
    expect((await parseLocal('--images', '2.5')).error).toContain('expected a positive whole number');
  });

  test('passes every count it accepts on to the run', async () => {
    expect(await parseLocal('--images', String(MIN_LOCAL_IMAGES))).toEqual({ images: MIN_LOCAL_IMAGES });
    expect(await parseLocal('--images', '2000')).toEqual({ images: 2000 });
    expect(await parseLocal()).toEqual({ images: 40 });
  });

  test('the run itself refuses too, at once, when called with a count that cannot complete', async () => {
    await expect(localRun.runLocally({ images: 2, log: () => undefined })).rejects.toThrow(
      /^--images 2: a local run needs at least 4 images/,
    );
  });
});

describe('a local run splits the same way every time', () => {
  test('batches are numbered within a data folder, never named by the clock', () => {
    expect(nextLocalBatchName([])).toBe('local-demo-1');
    expect(nextLocalBatchName(['local-demo-1', 'local-demo-3', 'turtles'])).toBe('local-demo-4');
    jest.useFakeTimers().setSystemTime(new Date('2031-01-01T00:00:00Z'));
    try {
      expect(nextLocalBatchName([])).toBe('local-demo-1');
    } finally {
      jest.useRealTimers();
    }
  });

  test('every accepted count gets a split seed that fills both channels, the same one on every call', () => {
    for (let images = MIN_LOCAL_IMAGES; images <= 120; images++) {
      const labeled = Array.from(
        { length: images - 1 },
        (_, i) => `s3://inbox/images/local-demo-1/photo-${String(i).padStart(3, '0')}.jpg`,
      );
      const seed = localSplitSeed(labeled);
      expect(localSplitSeed([...labeled])).toBe(seed);
      const validation = labeled.filter((source) => splitFor(source, seed, LOCAL_SPLIT.validationFraction) === 'validation').length;
      expect(validation).toBeGreaterThanOrEqual(1);
      expect(labeled.length - validation).toBeGreaterThanOrEqual(LOCAL_SPLIT.minTrainSamples);
    }
  });
});

describe('each local batch draws scenes of its own', () => {
  test('no image of a second batch is byte-identical to one of the first, and a batch drawn again is the same', async () => {
    const { renderSyntheticScene, sceneToJpeg } = await import('../../local/synthetic-scenes');
    const { localSceneSeed } = localRun;
    const hashes = async (batch: string) => {
      const jpegs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => sceneToJpeg(renderSyntheticScene(localSceneSeed(batch, i), 48, 36))),
      );
      return jpegs.map((jpeg) => createHash('sha256').update(jpeg).digest('hex'));
    };
    const first = await hashes('local-demo-1');
    const second = await hashes('local-demo-2');
    expect(new Set([...first, ...second]).size).toBe(40);
    expect(await hashes('local-demo-1')).toEqual(first);
  });
});

describe('segpipe local --labeling', () => {
  const labelingOf = async (...args: string[]) => {
    const runLocally = jest.spyOn(localRun, 'runLocally').mockResolvedValue({ status: 'SUCCEEDED' } as localRun.LocalRunResult);
    let error = '';
    try {
      await localCommand()
        .exitOverride()
        .configureOutput({
          writeErr: (text) => {
            error += text;
          },
          writeOut: () => undefined,
        })
        .parseAsync(args, { from: 'user' });
      return { labeling: runLocally.mock.calls[0]?.[0]?.labeling };
    } catch {
      return { error: error.trim() };
    } finally {
      runLocally.mockRestore();
    }
  };

  test('chooses who labels: the simulated Ground Truth workforce by default, or the Label Studio annotator', async () => {
    expect(await labelingOf()).toEqual({ labeling: 'groundtruth' });
    expect(await labelingOf('--labeling', 'labelstudio')).toEqual({ labeling: 'labelstudio' });
    expect((await labelingOf('--labeling', 'cvat')).error).toContain(
      "argument 'cvat' is invalid. Allowed choices are groundtruth, labelstudio.",
    );
  });

  test('an import skips labeling: --labeling labelstudio with --import is refused', async () => {
    expect((await labelingOf('--labeling', 'labelstudio', '--import', 'x.zip')).error).toBe(
      'error: --import skips labeling; --labeling labelstudio labels synthetic photos: give one of them',
    );
  });
});
