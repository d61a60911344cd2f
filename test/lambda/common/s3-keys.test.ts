import { decodeEventKey } from '../../../lambda/common/s3-keys';

test('a key as S3 event notifications encode it is decoded; what is not valid percent-encoding is kept as it is', () => {
  expect(decodeEventKey('images/b1/red+flower%C3%A9.jpg')).toBe('images/b1/red floweré.jpg');
  expect(decodeEventKey('images/b1/100%.jpg')).toBe('images/b1/100%.jpg');
  expect(decodeEventKey('images/b1/a+%E0%A4%A.jpg')).toBe('images/b1/a+%E0%A4%A.jpg');
});
