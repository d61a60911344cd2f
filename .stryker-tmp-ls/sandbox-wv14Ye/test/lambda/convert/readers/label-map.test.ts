import { parseLabelMap } from '../../../../lambda/convert/readers/label-map';

describe('CVAT label map', () => {
  test('comments, blank lines and spaces around numbers are fine', () => {
    expect(parseLabelMap('# label:color_rgb:parts:actions\n\nbackground:0,0,0::\nturtle: 250 , 50 ,83::\r\n')).toEqual([
      { name: 'background', rgb: 0, background: true },
      { name: 'turtle', rgb: (250 << 16) | (50 << 8) | 83, background: false },
    ]);
  });

  test('every bad line is named at once, with its number', () => {
    expect(() => parseLabelMap('turtle:250,50,83::\n:1,2,3::\nrock:256,0,0::\nkelp:1,2::\nweed:250,50,83::')).toThrow(
      'labelmap.txt: line 2 ":1,2,3::" is not name:r,g,b:parts:actions; line 3 "rock:256,0,0::" is not name:r,g,b:parts:actions; ' +
        'line 4 "kelp:1,2::" is not name:r,g,b:parts:actions; line 5 gives weed the colour of turtle (250,50,83)',
    );
  });
});

describe('CVAT label map: what is refused', () => {
  test('a colour with anything before or after its three numbers is refused, and a long bad line is quoted cut at 80 characters', () => {
    const long = `${'x'.repeat(100)}:1,2`;
    expect(() => parseLabelMap(`rock:x1,2,3::\nkelp:1,2,3x::\n${long}`)).toThrow(
      `labelmap.txt: line 1 "rock:x1,2,3::" is not name:r,g,b:parts:actions; line 2 "kelp:1,2,3x::" is not name:r,g,b:parts:actions; line 3 "${'x'.repeat(80)}" is not name:r,g,b:parts:actions`,
    );
  });
});
