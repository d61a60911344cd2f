import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { acquireDeployLock, DEPLOY_LOCK_KEY, releaseDeployLock } from '../../../lambda/workflow/deploy-lock';
import { useEmbeddedS3 } from '../../helpers/embedded-s3';

describe("the deploy lock (embedded S3 server, with S3's conditional writes)", () => {
  const BUCKETS = ['l0', 'l1', 'l2', 'l3', 'l4'];
  const s3 = useEmbeddedS3(BUCKETS);
  const T0 = new Date('2026-12-01T10:00:00Z');
  const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

  test('one run holds it; another is told who and until when; asking again while holding it is a yes; releasing frees it', async () => {
    const b = 'l0';
    expect(await acquireDeployLock(s3.store, b, 'run-a', 3600, T0)).toEqual({ acquired: true });
    expect(await acquireDeployLock(s3.store, b, 'run-b', 3600, later(60))).toEqual({
      acquired: false,
      holder: 'run-a',
      until: '2026-12-01T11:00:00.000Z',
    });
    expect(await acquireDeployLock(s3.store, b, 'run-a', 3600, later(120))).toEqual({ acquired: true });
    expect(await releaseDeployLock(s3.store, b, 'run-b')).toBe(false);
    expect((await s3.store.read(`s3://${b}/${DEPLOY_LOCK_KEY}`)).toString()).toContain('"owner":"run-a"');
    expect(await releaseDeployLock(s3.store, b, 'run-a')).toBe(true);
    expect(await s3.store.readStart(`s3://${b}/${DEPLOY_LOCK_KEY}`, 1)).toBeUndefined();
    expect(await acquireDeployLock(s3.store, b, 'run-b', 3600, later(180))).toEqual({ acquired: true });
  });

  test('of many runs asking at once, exactly one gets it', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireDeployLock(s3.store, 'l1', `run-${i}`, 3600, T0)));
    expect(answers.filter((a) => a.acquired)).toHaveLength(1);
    const holder = JSON.parse((await s3.store.read(`s3://l1/${DEPLOY_LOCK_KEY}`)).toString()).owner;
    expect(answers.filter((a) => !a.acquired).every((a) => !a.acquired && a.holder === holder)).toBe(true);
  });

  test('a lock past its expiry (a run whose end was never handled) is taken over; one just before it is not', async () => {
    await acquireDeployLock(s3.store, 'l2', 'lost-run', 3600, T0);
    expect(await acquireDeployLock(s3.store, 'l2', 'next-run', 3600, later(3599))).toMatchObject({ acquired: false, holder: 'lost-run' });
    expect(await acquireDeployLock(s3.store, 'l2', 'next-run', 3600, later(3600))).toEqual({ acquired: true });
    expect(JSON.parse((await s3.store.read(`s3://l2/${DEPLOY_LOCK_KEY}`)).toString())).toEqual({
      owner: 'next-run',
      acquiredAt: '2026-12-01T11:00:00.000Z',
      expiresAt: '2026-12-01T12:00:00.000Z',
    });
  });

  test.each([
    ['not JSON', 'not json'],
    ['no owner', JSON.stringify({ expiresAt: '2099-01-01T00:00:00Z' })],
    ['an owner that is no string', JSON.stringify({ owner: 7, expiresAt: '2099-01-01T00:00:00Z' })],
    ['no expiry', JSON.stringify({ owner: 'someone' })],
    ['an expiry that is no date', JSON.stringify({ owner: 'someone', expiresAt: 'never' })],
  ])('a lock object that is no lock (%s) is replaced rather than blocking every deploy', async (_what, body) => {
    await s3.store.write(`s3://l3/${DEPLOY_LOCK_KEY}`, Buffer.from(body), 'application/json');
    expect(await acquireDeployLock(s3.store, 'l3', 'run-a', 60, T0)).toEqual({ acquired: true });
    expect(JSON.parse((await s3.store.read(`s3://l3/${DEPLOY_LOCK_KEY}`)).toString()).owner).toBe('run-a');
    expect((await s3.store.client.send(new HeadObjectCommand({ Bucket: 'l3', Key: DEPLOY_LOCK_KEY }))).ContentType).toBe(
      'application/json',
    );
    expect(await releaseDeployLock(s3.store, 'l4', 'run-a')).toBe(false);
  });
});
