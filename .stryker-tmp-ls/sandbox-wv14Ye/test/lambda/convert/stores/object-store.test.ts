import { ObjectNotFoundError, parseS3Uri, ReadRefusedError } from '../../../../lambda/convert/stores/object-store';

describe('object store addresses and errors', () => {
  test('an s3:// address splits into bucket and verbatim key; anything before s3:// is no S3 address', () => {
    expect(parseS3Uri('s3://inbox/images/a b%20c.jpg')).toEqual({ bucket: 'inbox', key: 'images/a b%20c.jpg' });
    expect(parseS3Uri('xs3://inbox/a.jpg')).toBeUndefined();
    expect(parseS3Uri('/data/s3://inbox/a.jpg')).toBeUndefined();
  });

  test('the errors name themselves, as logs and reports show them', () => {
    expect(new ReadRefusedError('s3://elsewhere/a.jpg is outside what this run may read').name).toBe('ReadRefusedError');
    expect(new ObjectNotFoundError('s3://inbox/gone.jpg')).toMatchObject({
      name: 'ObjectNotFoundError',
      message: 'not found: s3://inbox/gone.jpg',
    });
  });
});
