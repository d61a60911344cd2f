import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { cvatLabels, writeCvatExport } from '../../local/export-fixtures';

const repo = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'segpipe-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The command outside the clone, as the README installs it: `npm install -g .` (a link to the clone,
 * like `npm link`), here into a prefix of its own, then `segpipe` run from another folder.
 */
describe('segpipe installed with npm install -g . runs from anywhere', () => {
  const prefix = join(work, 'prefix');
  const elsewhere = mkdtempSync(join(work, 'elsewhere-'));
  const segpipe = (...args: string[]) => spawnSync(join(prefix, 'bin', 'segpipe'), args, { cwd: elsewhere, encoding: 'utf8' });

  beforeAll(() => {
    const install = spawnSync('npm', ['install', '-g', repo, '--prefix', prefix, '--no-audit', '--no-fund', '--offline'], {
      cwd: elsewhere,
      encoding: 'utf8',
    });
    expect({ status: install.status, stderr: install.stderr.replace(/npm warn .*\n/g, '') }).toEqual({ status: 0, stderr: '' });
  });

  test('--version and a conversion, from a folder outside the clone', async () => {
    expect(segpipe('--version').stdout).toBe(`${JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version}\n`);
    const mask = await sharp(Buffer.alloc(8 * 6 * 3), { raw: { width: 8, height: 6, channels: 3 } })
      .png()
      .toBuffer();
    const image = await sharp(Buffer.alloc(8 * 6 * 3, 128), { raw: { width: 8, height: 6, channels: 3 } })
      .jpeg()
      .toBuffer();
    writeCvatExport(
      join(elsewhere, 'export'),
      ['a', 'b', 'c'].map((stem) => ({ stem, image, mask })),
      cvatLabels(['turtle']),
    );
    const run = segpipe('convert', '--input', 'export', '--out', 'channels');
    expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status: 0 });
    expect(run.stdout).toMatch(/^segpipe convert: 3 converted/);
  });

  test('the bundle it runs loads no development-only package', () => {
    const { devDependencies } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    const bundle = readFileSync(join(repo, 'dist', 'segpipe.js'), 'utf8');
    const loaded = new Set(
      [...bundle.matchAll(/(?:require|import)\("([^"]+)"\)/g)].map((m) =>
        m[1]
          .split('/')
          .slice(0, m[1].startsWith('@') ? 2 : 1)
          .join('/'),
      ),
    );
    expect(Object.keys(devDependencies).filter((name) => loaded.has(name))).toEqual([]);
    expect(loaded.size).toBeGreaterThan(5);
  });
});
