import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCommand } from '../../bin/commands/convert';
import { cvatFixture, lookoutForVisionTemplateFixture, zipFolder } from '../helpers/format-fixtures';
import { buildGroundTruthFixture, type GroundTruthFixture, GT_BUCKET } from '../helpers/ground-truth-fixture';

/** The command as users run it: the compiled bundle (`npm test` builds it first). */
function segpipe(...args: string[]) {
  return spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'segpipe.js'), ...args], { encoding: 'utf8' });
}

describe('segpipe convert', () => {
  let work: string;
  let fixture: GroundTruthFixture;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'segpipe-cli-'));
    fixture = await buildGroundTruthFixture(join(work, 'buckets'));
  });

  test('converts a downloaded labeling job with --local-root and prints a one-line summary', () => {
    const out = join(work, 'channels');
    const manifest = join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest');
    const run = segpipe(
      'convert',
      '--manifest',
      manifest,
      '--local-root',
      fixture.root,
      '--out',
      out,
      '--classes',
      'turtle,rock',
      '--seed',
      's1',
      '--validation-fraction',
      '0.5',
      '--concurrency',
      '2',
    );
    expect(run.stderr).toBe(
      `segpipe convert: ${manifest} read as groundtruth (Ground Truth output manifest (JSON Lines with source-ref))\n`,
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^segpipe convert: ${fixture.expected.length} converted \\(\\d+ train, \\d+ validation\\), ${fixture.skips.length} skipped, 3 classes \\(BACKGROUND, turtle, rock\\), 10 ignored pixels; .* report: ${out}/report.json\\n$`,
      ),
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ seed: 's1', validationFraction: 0.5, classes: ['BACKGROUND', 'turtle', 'rock'] });
  });

  test('exits non-zero with the reasons when nothing converts', () => {
    const manifest = join(work, 'bad.manifest');
    writeFileSync(manifest, '{"source-ref":"s3://inbox/none.jpg"}\nnot json\n');
    const run = segpipe('convert', '--manifest', manifest, '--local-root', fixture.root, '--out', join(work, 'none'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /nothing converted \(2 skipped\); first reasons:\n {2}line 1: s3:\/\/inbox\/none\.jpg: no semantic-segmentation label.*\n {2}line 2: \(no source\): not valid JSON/,
    );
  });

  test('exits non-zero with a clear message when the manifest cannot be read', () => {
    const run = segpipe('convert', '--manifest', join(work, 'missing.manifest'), '--local-root', fixture.root, '--out', join(work, 'x'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^segpipe: \S*missing\.manifest not found, or an empty folder\n$/);
  });

  test('refuses bad options with what is allowed', () => {
    const run = segpipe('convert', '--manifest', 'm', '--out', 'o', '--validation-fraction', '1.5');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--validation-fraction.*expected a number greater than 0 and less than 1/);
  });

  describe('a reused --out', () => {
    const manifest = () => join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest');
    const channelFiles = (out: string, folder: string) => readdirSync(join(out, folder)).sort();

    test('is replaced, so the channels hold exactly what the report says and no image is in both splits', () => {
      const out = join(work, 'reused');
      expect(segpipe('convert', '--input', manifest(), '--local-root', fixture.root, '--out', out).status).toBe(0);
      const second = segpipe('convert', '--input', manifest(), '--local-root', fixture.root, '--out', out, '--validation-fraction', '0.5');
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(/files? of the previous output removed/);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      for (const split of ['train', 'validation']) {
        const names = report.items
          .filter((i: { split: string }) => i.split === split)
          .map((i: { name: string }) => i.name)
          .sort();
        expect(channelFiles(out, split)).toEqual(names.map((n: string) => `${n}.jpg`));
        expect(channelFiles(out, `${split}_annotation`)).toEqual(names.map((n: string) => `${n}.png`));
      }
      const train = new Set(channelFiles(out, 'train'));
      expect(channelFiles(out, 'validation').filter((f) => train.has(f))).toEqual([]);
    });

    test('that is not a segpipe output is refused, and nothing in it is touched', () => {
      const out = join(work, 'foreign');
      mkdirSync(out);
      writeFileSync(join(out, 'thesis.tex'), 'mine');
      const run = segpipe('convert', '--input', manifest(), '--local-root', fixture.root, '--out', out);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(
        /^segpipe: --out \S+foreign is not empty and not a segpipe output \(it holds \S+thesis\.tex\): give an empty or new folder\n$/,
      );
      expect(readdirSync(out)).toEqual(['thesis.tex']);
    });
  });

  describe('inputs that are not what was meant: one clear line each', () => {
    test('an empty manifest', () => {
      const empty = join(work, 'empty.manifest');
      writeFileSync(empty, '');
      const run = segpipe('convert', '--manifest', empty, '--out', join(work, 'empty-out'));
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`segpipe: ${empty} is empty\n`);
    });

    test('a JPEG given as the manifest: no bytes of it on the terminal', () => {
      const photo = join(work, 'photo.jpg');
      writeFileSync(photo, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('\n{\u0000\u0001\n\u00ff', 'latin1')]));
      const run = segpipe('convert', '--manifest', photo, '--out', join(work, 'photo-out'));
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^segpipe: \S+photo\.jpg is not an export segpipe recognises: it reads groundtruth .* labelstudio .*\n$/);
      expect(run.stderr).not.toMatch(/[^\x20-\x7e\n]/);
    });

    test('an --images folder that is not there is named, once', () => {
      const run = segpipe(
        'convert',
        '--input',
        join(work, 'anything.json'),
        '--images',
        join(work, 'no-photos'),
        '--out',
        join(work, 'no-photos-out'),
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`segpipe: --images ${join(work, 'no-photos')}: no such folder\n`);
    });

    test('--out naming a file is said as such', () => {
      writeFileSync(join(work, 'a-file'), 'x');
      const run = segpipe(
        'convert',
        '--input',
        join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest'),
        '--local-root',
        fixture.root,
        '--out',
        join(work, 'a-file'),
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(`segpipe: --out ${join(work, 'a-file')} is a file: give a folder \\(new, empty, or a previous segpipe output\\)\\n$`),
      );
    });

    test('a folder that holds no export', () => {
      const folder = join(work, 'just-photos');
      mkdirSync(folder);
      writeFileSync(join(folder, 'a.jpg'), 'x');
      const run = segpipe('convert', '--manifest', folder, '--out', join(work, 'folder-out'));
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^segpipe: \S+just-photos holds no export: it reads groundtruth .*\n$/);
    });

    test('s3:// sources without --local-root or a region name both fixes', () => {
      const run = spawnSync(
        process.execPath,
        [
          join(__dirname, '..', '..', 'bin', 'segpipe.js'),
          'convert',
          '--input',
          join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest'),
          '--out',
          join(work, 'no-region'),
        ],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: work },
        },
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(
        'segpipe: no AWS region: pass --region (e.g. --region eu-west-1) or set AWS_REGION; or, for files on this machine, pass --local-root DIR (a synced Ground Truth job) or --images DIR\n',
      );
    });

    test("a manifest of relative references (Lookout for Vision's sample template.manifest) converts with no AWS region, credentials or --images", async () => {
      const l4v = await lookoutForVisionTemplateFixture(join(work, 'l4v-template'));
      const run = spawnSync(
        process.execPath,
        [join(__dirname, '..', '..', 'bin', 'segpipe.js'), 'convert', '--input', l4v.input, '--out', join(work, 'l4v-template-out')],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: work, AWS_EC2_METADATA_DISABLED: 'true' },
        },
      );
      expect(run.stderr).toMatch(/read as lookoutvision/);
      expect(run.stdout).toMatch(/^segpipe convert: 2 converted \(\d train, \d validation\), 1 skipped, 2 classes \(BACKGROUND, cracked\)/);
      expect(run.status).toBe(0);
    });

    test("an S3-compatible endpoint without credentials says how the local run's S3 takes any keys", () => {
      const run = spawnSync(
        process.execPath,
        [
          join(__dirname, '..', '..', 'bin', 'segpipe.js'),
          'convert',
          '--input',
          's3://inbox/x.manifest',
          '--endpoint-url',
          'http://127.0.0.1:9',
          '--out',
          join(work, 'no-keys'),
        ],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, HOME: work },
        },
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(
        /^segpipe: no credentials for http:\/\/127\.0\.0\.1:9: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .*the local run's S3 server takes any.*\n$/,
      );
    });
  });

  test('a CVAT zip is recognised, said so, and converted; a one-class or empty split is worded right', async () => {
    const cvat = await cvatFixture(join(work, 'cvat'));
    const zip = join(work, 'cvat.zip');
    zipFolder(cvat.input, zip, 'task');
    const run = segpipe('convert', '--input', zip, '--out', join(work, 'cvat-out'), '--validation-fraction', '0.01');
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^segpipe convert: \S+cvat\.zip read as cvat \(CVAT "Segmentation mask 1\.1"/);
    expect(run.stderr).toMatch(
      /warning: the validation channel is empty \(2 items at --validation-fraction 0\.01\); the algorithm needs both/,
    );
    expect(run.stdout).toMatch(
      /^segpipe convert: 2 converted \(2 train, 0 validation\), 1 skipped, 3 classes \(Background, turtle, rock\), 1 ignored pixel;/,
    );
  });

  test('a CVAT folder without labelmap.txt is refused naming --labelmap; with a label map that misses most colours and --classes naming a class the export lacks, it converts with loud warnings', async () => {
    const cvat = await cvatFixture(join(work, 'cvat-no-labelmap'));
    renameSync(join(cvat.input, 'labelmap.txt'), join(work, 'partial-labelmap.txt'));
    const refused = segpipe('convert', '--input', cvat.input, '--out', join(work, 'cvat-no-labelmap-out'));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^segpipe: \S+ has no labelmap\.txt, and its mask SegmentationClass\/frame_000\.png holds the colour 250,50,83, which is none of Pascal VOC's classes: .*--labelmap FILE/m,
    );
    writeFileSync(join(work, 'partial-labelmap.txt'), 'Background:10,10,10::\nrock:61,61,245::\n');
    const run = segpipe(
      'convert',
      '--input',
      cvat.input,
      '--labelmap',
      join(work, 'partial-labelmap.txt'),
      '--classes',
      'rock,turtel',
      '--out',
      join(work, 'cvat-partial-out'),
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(
      /\nsegpipe convert: WARNING: \d+\.\d % of the labelled pixels \(\d+ of \d+, in 1 of 2 items\) have a colour no class of the export has, and are ignored \(255\)/,
    );
    expect(run.stderr).toContain(
      '\nsegpipe convert: WARNING: --classes names "turtel", which the export never has (no declared class, no labelled pixel): its index stays empty; check the spelling against the export\'s classes (rock)\n',
    );
  });

  test('--help marks the required options, lists the formats and shows examples (in-process)', () => {
    let help = '';
    const command = convertCommand()
      .configureOutput({ writeOut: (text) => (help += text) })
      .exitOverride();
    expect(() => command.parse(['--help'], { from: 'user' })).toThrow();
    expect(help).toMatch(/--input <file\|dir\|zip\|s3-uri>\s+\(required\)/);
    expect(help).toMatch(/--out <dir\|s3-uri>\s+\(required\)/);
    for (const format of ['groundtruth', 'lookoutvision', 'cvat', 'voc', 'coco', 'labelstudio']) expect(help).toContain(`  ${format}`);
    expect(help).toMatch(/Examples:\n\s+# a CVAT/);
  });
});
