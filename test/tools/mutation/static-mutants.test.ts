import { staticSurvivorPlaces } from '../../../tools/mutation/static-mutants';

describe('staticSurvivorPlaces', () => {
  const at = (line: number, from: number, to: number) => ({ start: { line, column: from }, end: { line, column: to } });

  test('only static mutants not killed, once a place, with columns from 0 as --mutate takes them', () => {
    const places = staticSurvivorPlaces({
      files: {
        'lambda/convert/image-finder.ts': {
          mutants: [
            { id: '1', static: true, status: 'Survived', location: at(4, 25, 42) },
            { id: '2', static: true, status: 'NoCoverage', location: at(4, 25, 42) },
            { id: '3', static: true, status: 'Killed', location: at(6, 1, 9) },
            { id: '4', static: false, status: 'Survived', location: at(9, 3, 7) },
            { id: '5', status: 'Survived', location: at(10, 3, 7) },
          ],
        },
        'lambda/convert/manifest.ts': { mutants: [{ id: '6', static: true, status: 'Survived', location: at(178, 20, 41) }] },
      },
    });
    expect(places).toEqual(['lambda/convert/image-finder.ts:4:24-4:41', 'lambda/convert/manifest.ts:178:19-178:40']);
  });

  test('none in a report whose static mutants are all killed', () => {
    expect(
      staticSurvivorPlaces({ files: { 'a.ts': { mutants: [{ id: '1', static: true, status: 'Timeout', location: at(1, 1, 2) }] } } }),
    ).toEqual([]);
  });
});
