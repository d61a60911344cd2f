import { labelingConfig } from '../../../lambda/labelstudio/labeling-config';
import { labelStudioCorsRule, labelStudioPolicy, labelStudioSetupText, parseOrigin } from '../../../lambda/labelstudio/setup';

const INPUT = {
  inboxBucket: 'segpipe-inbox-1',
  region: 'eu-west-1',
  classes: ['turtle', 'rock'],
  origin: 'https://ls.example.com/projects/1',
};
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/abc';

describe('the origin', () => {
  test.each([
    ['https://label-studio.example.com/projects/1?x=1', 'https://label-studio.example.com'],
    ['https://ls.example.com:8443/', 'https://ls.example.com:8443'],
    ['http://localhost:8080/projects', 'http://localhost:8080'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('%s is served from %s', (address, origin) => {
    expect(parseOrigin(address)).toBe(origin);
  });

  test('plain http elsewhere, and what is no URL, are refused with what to give instead', () => {
    for (const address of [
      'http://ls.example.com',
      'http://localhost.example.com',
      'http://evil-localhost',
      'http://127.0.0.10',
      'ftp://localhost',
    ])
      expect(() => parseOrigin(address)).toThrow(`--origin ${address}: Label Studio must be served over https (http only for localhost)`);
    expect(() => parseOrigin('not a url')).toThrow(
      '--origin "not a url" is not a URL: give the address browsers open Label Studio at, e.g. https://label-studio.example.com',
    );
  });
});

describe("the storages' policy", () => {
  const bucket = 'arn:aws:s3:::segpipe-inbox-1';
  const statements = [
    {
      Sid: 'ListTasksAndAnnotations',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucket,
      Condition: {
        StringLike: { 's3:prefix': ['labelstudio/tasks', 'labelstudio/tasks/*', 'labelstudio/annotations', 'labelstudio/annotations/*'] },
      },
    },
    {
      Sid: 'ReadImagesAndTasks',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: [`${bucket}/images/*`, `${bucket}/labelstudio/tasks/*`],
    },
    { Sid: 'WriteAnnotations', Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucket}/labelstudio/annotations/*` },
  ];

  test('lists its two prefixes, reads the images and the tasks, writes the annotations: nothing else', () => {
    expect(labelStudioPolicy(INPUT)).toStrictEqual({ Version: '2012-10-17', Statement: statements });
  });

  test("a KMS inbox adds its key, used only through S3 in the inbox's region", () => {
    expect(labelStudioPolicy({ ...INPUT, kmsKeyArn: KEY })).toStrictEqual({
      Version: '2012-10-17',
      Statement: [
        ...statements,
        {
          Sid: 'UseTheInboxKey',
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: KEY,
          Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
        },
      ],
    });
  });
});

test("the inbox's CORS rule lets the one origin GET and HEAD the pre-signed images", () => {
  expect(labelStudioCorsRule('https://ls.example.com')).toStrictEqual({
    AllowedMethods: ['GET', 'HEAD'],
    AllowedOrigins: ['https://ls.example.com'],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['x-amz-server-side-encryption', 'x-amz-request-id', 'x-amz-id-2'],
    MaxAgeSeconds: 3000,
  });
});

describe('the set-up text', () => {
  // Made in a hook, not while the file is collected: the mutation run credits a hook's coverage to its tests, not code run at collection.
  let text: string;
  let blocks: unknown[];
  beforeAll(() => {
    text = labelStudioSetupText(INPUT);
    blocks = [...text.matchAll(/^\{\n[\s\S]*?\n\}$/gm)].map((m) => JSON.parse(m[0]));
  });

  test('names the inbox and its region, and pastes the labeling configuration whole', () => {
    expect(
      text.startsWith(
        'Label Studio for the inbox s3://segpipe-inbox-1 (eu-west-1)\n\n1. Project > Settings > Labeling Interface > Code: paste\n\n',
      ),
    ).toBe(true);
    expect(text).toContain(`\n${labelingConfig(INPUT.classes)}\n2. Project > Settings > Cloud Storage > Add Source Storage\n`);
  });

  test('the source storage: the tasks prefix without its slash, JSON files only, recursive, pre-signed, in the region', () => {
    for (const line of [
      '   Bucket name:             segpipe-inbox-1\n   Bucket prefix:           labelstudio/tasks\n',
      '   File filter regex:       .*\\.json$\n',
      '   Recursive scan:          on (tasks go under labelstudio/tasks/<batch>/)\n   Region name:             eu-west-1\n',
      '   Use pre-signed URLs:     on',
      '   Expire pre-signed URLs:  15 (minutes)\n',
      'npx segpipe prelabel --images s3://segpipe-inbox-1/images/<batch>/ --out s3://segpipe-inbox-1/labelstudio/tasks/<batch>/ --endpoint <EndpointName> --classes turtle,rock\n',
    ])
      expect(text).toContain(line);
  });

  test('the target storage: the annotations prefix without its slash, nothing deleted', () => {
    expect(text).toContain(
      '   Bucket prefix:           labelstudio/annotations    (no trailing slash: Label Studio adds one)\n   Region name:             eu-west-1\n   Can delete objects:      off\n',
    );
  });

  test("the predictions' model version: the tasks' own unless one is given", () => {
    expect(text).toContain('"Model or predictions to use": the model_version of the tasks (segpipe prelabel --model-version');
    expect(labelStudioSetupText({ ...INPUT, modelVersion: 'segpipe-endpoint' })).toContain(
      '"Model or predictions to use": segpipe-endpoint\n',
    );
  });

  test("the policy and the CORS rule, as JSON blocks that parse, the rule for the address's origin alone", () => {
    expect(blocks).toStrictEqual([labelStudioPolicy(INPUT), labelStudioCorsRule('https://ls.example.com')]);
    expect(labelStudioSetupText({ ...INPUT, kmsKeyArn: KEY })).toContain('"kms:ViaService": "s3.eu-west-1.amazonaws.com"');
    expect(text).toContain("put-bucket-cors replaces a bucket's whole CORS configuration: keep any rule already there.\n");
  });

  test('an origin that is not one is refused before any text is made', () => {
    expect(() => labelStudioSetupText({ ...INPUT, origin: 'http://ls.example.com' })).toThrow(/must be served over https/);
  });
});
