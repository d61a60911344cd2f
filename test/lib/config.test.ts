import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError,
  configReference,
  configReferenceMarkdown,
  deepMerge,
  mergeContextConfig,
  resolveConfig,
  trainingInstanceType,
} from '../../lib/config';
import {
  HOSTING_INSTANCE_TYPES,
  PYTORCH_TRAINING_INSTANCE_TYPES,
  SEGMENTATION_TRAINING_INSTANCE_TYPES,
  TRAINING_INSTANCE_TYPES,
} from '../../lib/sagemaker-instance-types';

function problemsOf(raw: unknown): readonly string[] {
  try {
    resolveConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig defaults', () => {
  const config = resolveConfig({});

  test('a fresh clone imports labels only and trains and hosts on the documented instances', () => {
    expect(config.workforce.type).toBe('none');
    expect(config.labelClasses).toEqual([]);
    expect(config.training).toEqual({
      trainer: 'builtin',
      instanceType: 'ml.p3.2xlarge',
      algorithm: 'fcn',
      backbone: 'resnet-50',
      epochs: 30,
      hyperparameters: {},
      spot: false,
      maxRuntimeSeconds: 3600,
      volumeSizeGb: 30,
      minSamples: 10,
      pytorch: {
        instanceType: 'ml.g5.xlarge',
        model: 'deeplabv3',
        backbone: 'mobilenet_v3_large',
        pretrained: true,
        batchSize: 8,
        learningRate: 0.001,
        imageSize: 512,
      },
    });
    expect(config.hosting).toEqual({ instanceType: 'ml.c5.xlarge', idleMinutes: 120, timeToLiveHours: 0 });
    expect(config.split).toEqual({ validationFraction: 0.2, seed: 'segpipe' });
    expect(config.minValidationMiou).toBe(0.5);
    expect(config.budgetUsd).toBeUndefined();
    expect(config.notificationEmail).toBeUndefined();
    expect(config.storage).toEqual({
      encryption: 's3-managed',
      kmsKeyArn: undefined,
      retainOnDelete: true,
      scratchExpirationDays: 14,
      noncurrentVersionExpirationDays: 30,
    });
  });

  test('workers per object default to 1 for a private team and 3 for the public crowd', () => {
    const privateTeam = resolveConfig({
      labelClasses: ['turtle'],
      workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
    });
    expect(privateTeam.workforce.workersPerObject).toBe(1);
    const publicCrowd = resolveConfig({
      labelClasses: ['turtle'],
      workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true },
    });
    expect(publicCrowd.workforce.workersPerObject).toBe(3);
    expect(publicCrowd.workforce.taskAvailabilityLifetimeSeconds).toBe(21600);
  });

  test('pass-through hyperparameters become strings, booleans spelled as the algorithm does', () => {
    const config = resolveConfig({
      training: { hyperparameters: { learning_rate: 0.01, use_pretrained_model: false, optimizer: 'adam' } },
    });
    expect(config.training.hyperparameters).toEqual({ learning_rate: '0.01', use_pretrained_model: 'False', optimizer: 'adam' });
  });
});

describe('the labeling tool', () => {
  test('a default deploy (no Ground Truth workforce) labels with Label Studio; a workforce labels with Ground Truth', () => {
    expect(resolveConfig({}).labeling).toEqual({
      tool: 'labelstudio',
      labelStudio: { origin: undefined, deadlineHours: 168, minLabeledFraction: 0.8, pollMinutes: 5 },
    });
    expect(
      resolveConfig({ workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true }, labelClasses: ['a'] }).labeling
        .tool,
    ).toBe('groundtruth');
    expect(
      resolveConfig({
        workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:eu-west-1:123456789012:workteam/private-crowd/t' },
        labelClasses: ['a'],
        labeling: { tool: 'labelstudio' },
      }).labeling.tool,
    ).toBe('labelstudio');
    expect(resolveConfig({ labeling: { tool: 'none' } }).labeling.tool).toBe('none');
  });

  test.each([
    ['http://ls.example.com', 'https://<host>[:<port>]'],
    ['https://ls.example.com/projects', 'with no path'],
    ['https://*.example.com', 'with no path'],
  ])('origin %s is refused', (origin, allowed) => {
    expect(() => resolveConfig({ labeling: { labelStudio: { origin } } })).toThrow(allowed);
  });

  test('origins that CORS matches pass: https with a port, http only for localhost', () => {
    for (const origin of ['https://ls.example.com', 'https://ls.example.com:8443', 'http://localhost:8080']) {
      expect(resolveConfig({ labeling: { labelStudio: { origin } } }).labeling.labelStudio.origin).toBe(origin);
    }
  });

  test('Ground Truth without a workforce, a fraction of 0 and a zero deadline are each reported', () => {
    let message = '';
    try {
      resolveConfig({ labeling: { tool: 'groundtruth', labelStudio: { minLabeledFraction: 0, deadlineHours: 0 } } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('labeling.tool: received "groundtruth"; allowed: labelstudio or none while workforce.type is "none"');
    expect(message).toContain('labeling.labelStudio.minLabeledFraction: received 0');
    expect(message).toContain('labeling.labelStudio.deadlineHours: received 0');
  });
});

describe('resolveConfig validation', () => {
  test('three mistakes give one error naming all three, with value received and what is allowed', () => {
    const problems = problemsOf({ training: { epochs: -1, algorithm: 'unet' }, hosting: { idleMinutes: 'soon' } });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^training\.algorithm: received "unet"; allowed: fcn, psp, deeplab/);
    expect(problems[1]).toMatch(/^training\.epochs: received -1; allowed: an integer from 1 to 1000/);
    expect(problems[2]).toMatch(/^hosting\.idleMinutes: received "soon"; allowed: an integer/);
  });

  test('a misspelt workforce type is one problem: its value is not repeated by the rules that depend on it', () => {
    expect(problemsOf({ workforce: { type: 'privat' } })).toEqual([
      'workforce.type: received "privat"; allowed: none, private, vendor, public',
    ]);
  });

  test.each([
    [{ workforce: { type: 'crowd' } }, /workforce\.type: received "crowd"; allowed: none, private, vendor, public/],
    [
      { labelClasses: ['turtle'], workforce: { type: 'private' } },
      /workforce\.workteamArn: received nothing; allowed: the ARN of your private workteam/,
    ],
    [
      { labelClasses: ['turtle'], workforce: { type: 'vendor', workteamArn: 'team' } },
      /workforce\.workteamArn: received "team"; allowed: a workteam ARN/,
    ],
    [
      { workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t' } },
      /labelClasses: received nothing; allowed: at least one class name/,
    ],
    [
      { labelClasses: ['turtle'], workforce: { type: 'public', publicTaskPriceUsd: 0.84 } },
      /workforce\.attestNoPersonalData: received nothing; allowed: true, and only if/,
    ],
    [
      { labelClasses: ['turtle'], workforce: { type: 'public', publicTaskPriceUsd: 0.5, attestNoPersonalData: true } },
      /workforce\.publicTaskPriceUsd: received 0\.5; allowed: one of 0\.84, 0\.96, 1\.08, 1\.2/,
    ],
    [
      { labelClasses: ['turtle'], workforce: { type: 'public', attestNoPersonalData: true } },
      /workforce\.publicTaskPriceUsd: received nothing; allowed: .*required when workforce\.type is "public"/,
    ],
    [
      {
        labelClasses: ['turtle'],
        workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true, taskAvailabilityLifetimeSeconds: 86400 },
      },
      /taskAvailabilityLifetimeSeconds: received 86400; allowed: an integer from 60 to 43200/,
    ],
    [{ workforce: { workersPerObject: 10 } }, /workforce\.workersPerObject: received 10; allowed: an integer from 1 to 9/],
    [{ workforce: { taskTimeLimitSeconds: 10 } }, /workforce\.taskTimeLimitSeconds: received 10; allowed: an integer from 30 to 28800/],
    [
      { labelClasses: ['turtle', 'turtle'] },
      /labelClasses\.1: received "turtle"; allowed: a class name not listed before \(it is also at index 0\)/,
    ],
    [{ labelClasses: ['Background'] }, /labelClasses\.0: received "Background"; allowed: a class name other than BACKGROUND/],
    [{ labelClasses: ['turtle', ''] }, /labelClasses\.1: received ""; allowed: a non-empty class name/],
    [{ labelClasses: 'turtle' }, /labelClasses: received "turtle"; allowed: an array/],
    [
      { labelClasses: Array.from({ length: 30 }, (_, i) => `${'x'.repeat(100)}${i}`) },
      /labelClasses: received .*; allowed: class names of at most 3072 characters as JSON in all \(they travel in a Lambda's environment, which holds 4 KB\)/,
    ],
    [
      { labelClasses: Array.from({ length: 254 }, (_, i) => `c${i}`) },
      /labelClasses: received .*; allowed: at most 253 class names \(the algorithm's num_classes, background included, is at most 254\)/,
    ],
    [{ split: { validationFraction: 1 } }, /split\.validationFraction: received 1; allowed: a number greater than 0 and less than 1/],
    [{ split: { seed: '' } }, /split\.seed: received ""; allowed: a non-empty string/],
    [
      { training: { instanceType: 'ml.c5.xlarge' } },
      /training\.instanceType: received "ml\.c5\.xlarge"; allowed: a GPU type the algorithm trains on that CreateTrainingJob accepts: ml\.g4dn: xlarge/,
    ],
    [{ training: { backbone: 'resnet-152' } }, /training\.backbone: received "resnet-152"; allowed: resnet-50, resnet-101/],
    [
      { training: { hyperparameters: { num_classes: 3 } } },
      /training\.hyperparameters\.num_classes: received 3; allowed: a name other than num_classes, .*segpipe sets those/,
    ],
    [
      { training: { hyperparameters: { crop_size: [240] } } },
      /training\.hyperparameters\.crop_size: received \[240\]; allowed: a string, number or boolean/,
    ],
    [
      { training: { hyperparameters: Object.fromEntries(Array.from({ length: 96 }, (_, i) => [`h${i}`, i])) } },
      /training\.hyperparameters: received .*; allowed: at most 95 hyperparameters \(CreateTrainingJob takes 100, segpipe sets 5\)/,
    ],
    [{ training: { spot: 'yes' } }, /training\.spot: received "yes"; allowed: `true` or `false`/],
    [{ training: { maxRuntimeSeconds: 10 } }, /training\.maxRuntimeSeconds: received 10; allowed: an integer from 60/],
    [
      { training: { maxRuntimeSeconds: 2_419_201 } },
      /training\.maxRuntimeSeconds: received 2419201; allowed: an integer from 60 to 2419200/,
    ],
    [
      { training: { spot: true, maxRuntimeSeconds: 1_209_601 } },
      /training\.maxRuntimeSeconds: received 1209601; allowed: an integer from 60 to 1209600 with training\.spot \(.*MaxWaitTimeInSeconds.*28-day/,
    ],
    [{ training: { volumeSizeGb: 0 } }, /training\.volumeSizeGb: received 0/],
    [
      { hosting: { instanceType: 'c5.xlarge' } },
      /hosting\.instanceType: received "c5\.xlarge"; allowed: an x86 CPU or NVIDIA GPU type that CreateEndpointConfig accepts, of the families ml\.c4, .*ml\.t2/,
    ],
    [{ hosting: { timeToLiveHours: -1 } }, /hosting\.timeToLiveHours: received -1/],
    [{ minValidationMiou: 1.5 }, /minValidationMiou: received 1\.5; allowed: a number from 0 to 1/],
    [{ notificationEmail: 'me' }, /notificationEmail: received "me"; allowed: an e-mail address/],
    [{ budgetUsd: 0 }, /budgetUsd: received 0; allowed: a positive number/],
    [{ storage: { encryption: 'aes' } }, /storage\.encryption: received "aes"; allowed: s3-managed, kms/],
    [
      { storage: { kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' } },
      /storage\.kmsKeyArn: .*allowed: nothing unless storage\.encryption is "kms"/,
    ],
    [{ storage: { scratchExpirationDays: 0 } }, /storage\.scratchExpirationDays: received 0/],
    [{ storage: { retainOnDelete: 'no' } }, /storage\.retainOnDelete: received "no"/],
    [{ batch: { quietSeconds: 1 } }, /batch\.quietSeconds: received 1; allowed: an integer from 10 to 86400/],
    [
      { import: { readBuckets: ['ok-bucket', 'Not_A_Bucket'] } },
      /import\.readBuckets\.1: received "Not_A_Bucket"; allowed: an S3 bucket name, optionally followed by \/ and a key prefix/,
    ],
    [{ import: { readBuckets: 'bucket' } }, /import\.readBuckets: received "bucket"; allowed: an array of an S3 bucket name/],
    [
      { import: { readBuckets: ['ok-bucket/exports/*'] } },
      /import\.readBuckets\.0: received "ok-bucket\/exports\/\*"; allowed: .*without \*, \?/,
    ],
    [
      { import: { readBuckets: ['ok-bucket/exports'] } },
      /import\.readBuckets\.0: received "ok-bucket\/exports"; allowed: .*a key prefix that ends with \//,
    ],
    [
      { import: { readBuckets: ['ok-bucket/exports/../secrets/'] } },
      /import\.readBuckets\.0: received "ok-bucket\/exports\/\.\.\/secrets\/"; allowed: .*\.\. segments/,
    ],
    [
      { import: { readBuckets: ['ok-bucket'], readBucketOwners: { 'ok-bucket': '1234' } } },
      /import\.readBucketOwners\.ok-bucket: received "1234"; allowed: a 12-digit AWS account id/,
    ],
    [
      { import: { readBuckets: ['ok-bucket'], readBucketOwners: { 'other-bucket': '123456789012' } } },
      /import\.readBucketOwners\.other-bucket: received "123456789012"; allowed: a bucket that import\.readBuckets lists \(it lists ok-bucket\)/,
    ],
    [
      { workforce: { type: 'none', workers: 3 } },
      /workforce\.workers: unknown field \(received 3\); known fields here: type, workteamArn, .*taskAvailabilityLifetimeSeconds/,
    ],
    ['{}', /segpipe: received "\{\}"; allowed: an object/],
    [{ trainig: {} }, /trainig: unknown field \(received \{\}\); known fields here: labelClasses, workforce/],
    [{ training: 'fast' }, /training: received "fast"; allowed: an object/],
  ])('%j is refused with its reason', (raw, message) => {
    const problems = problemsOf(raw);
    expect(problems.some((p) => message.test(p))).toBe(true);
  });

  test('problems in different groups and across fields are all reported at once', () => {
    const problems = problemsOf({
      labelClasses: ['turtle'],
      workforce: { type: 'public', workersPerObject: 0 },
      training: { spot: true, maxRuntimeSeconds: 2_000_000, epochs: 0 },
      storage: { kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' },
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'workforce.workersPerObject',
      'training.epochs',
      'workforce.publicTaskPriceUsd',
      'workforce.attestNoPersonalData',
      'training.maxRuntimeSeconds',
      'storage.kmsKeyArn',
    ]);
  });

  test('null stands for the default, so a -c override can unset a cdk.json value', () => {
    const config = resolveConfig(
      mergeContextConfig(
        { notificationEmail: 'a@b.co', training: { epochs: 5 } },
        '{"notificationEmail": null, "training": {"epochs": null}}',
      ),
    );
    expect(config.notificationEmail).toBeUndefined();
    expect(config.training.epochs).toBe(30);
  });

  test("the evaluation's batch share and minimum: defaults, ranges, and a minimum no larger than the images", () => {
    expect(resolveConfig({}).evaluation).toMatchObject({ maxImages: 100, maxBatchShare: 0.25, minImages: 5 });
    expect(problemsOf({ evaluation: { maxBatchShare: 0, minImages: 0 } })).toEqual([
      'evaluation.maxBatchShare: received 0; allowed: a number above 0, at most 1',
      'evaluation.minImages: received 0; allowed: an integer from 1 to 1000',
    ]);
    expect(problemsOf({ evaluation: { maxImages: 10, minImages: 20 } })).toEqual([
      'evaluation.minImages: received 20; allowed: an integer from 1 to evaluation.maxImages (10)',
    ]);
  });

  test('the error message lists each problem on its own line', () => {
    expect(() => resolveConfig({ budgetUsd: -1, minValidationMiou: 2 })).toThrow(
      /2 problems\):\n {2}- minValidationMiou.*\n {2}- budgetUsd/,
    );
  });
});

describe('instance types: what the SageMaker API accepts, and the algorithm runs on', () => {
  test.each([
    ['ml.p3.xlarge', 'ml.p3: 2xlarge, 8xlarge, 16xlarge'],
    ['ml.g5.large', 'ml.g5: xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 48xlarge'],
    ['ml.g4dn.24xlarge', 'ml.g4dn: xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge'],
  ])("training on %s, which CreateTrainingJob refuses, is refused with the family's sizes", (type, sizes) => {
    expect(problemsOf({ training: { instanceType: type } })).toEqual([
      `training.instanceType: received "${type}"; allowed: a GPU type the algorithm trains on that CreateTrainingJob accepts; ${sizes}`,
    ]);
    expect(TRAINING_INSTANCE_TYPES).not.toContain(type);
  });

  test('training on a CPU type the API accepts is refused with every type the algorithm trains on', () => {
    expect(problemsOf({ training: { instanceType: 'ml.c5.xlarge' } })).toEqual([
      'training.instanceType: received "ml.c5.xlarge"; allowed: a GPU type the algorithm trains on that CreateTrainingJob accepts: ' +
        'ml.g4dn: xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge; ml.g5: xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 48xlarge; ' +
        'ml.p2: xlarge, 8xlarge, 16xlarge; ml.p3: 2xlarge, 8xlarge, 16xlarge; ml.p3dn: 24xlarge',
    ]);
  });

  test("every training type allowed is a GPU type of the API's list", () => {
    expect(
      SEGMENTATION_TRAINING_INSTANCE_TYPES.every(
        (type) => TRAINING_INSTANCE_TYPES.includes(type) && /^ml\.(p2|p3|p3dn|g4dn|g5)\./.test(type),
      ),
    ).toBe(true);
    for (const type of ['ml.g4dn.16xlarge', 'ml.g5.48xlarge', 'ml.p3dn.24xlarge', 'ml.p2.xlarge']) {
      expect(resolveConfig({ training: { instanceType: type } }).training.instanceType).toBe(type);
    }
  });

  test.each(['ml.t2.medium', 'ml.m5d.large', 'ml.g6.xlarge', 'ml.c7i.large'])(
    'hosting on %s, which the old pattern or list refused, passes',
    (type) => {
      expect(HOSTING_INSTANCE_TYPES).toContain(type);
      expect(resolveConfig({ hosting: { instanceType: type } }).hosting.instanceType).toBe(type);
    },
  );

  test.each([
    ['ml.c5.medium', /ml\.c5: large, xlarge, 2xlarge, 4xlarge, 9xlarge, 18xlarge$/],
    ['ml.t2.micro', /ml\.t2: medium, large, xlarge, 2xlarge$/],
    ['ml.c7g.large', /of the families ml\.c4, ml\.c5, .*ml\.t2$/],
    ['ml.inf2.xlarge', /of the families ml\.c4, ml\.c5, .*ml\.t2$/],
  ])('hosting on %s is refused naming what is allowed', (type, allowed) => {
    const [problem] = problemsOf({ hosting: { instanceType: type } });
    expect(problem).toMatch(
      new RegExp(
        `^hosting\\.instanceType: received "${type.replace(/\./g, '\\.')}"; allowed: an x86 CPU or NVIDIA GPU type that CreateEndpointConfig accepts`,
      ),
    );
    expect(problem).toMatch(allowed);
  });
});

describe('context merging', () => {
  test('a -c segpipe=<json> string deep-merges over the cdk.json object', () => {
    const merged = mergeContextConfig(
      { labelClasses: ['a'], training: { epochs: 30, spot: false } },
      JSON.stringify({ training: { spot: true } }),
    );
    expect(merged).toEqual({ labelClasses: ['a'], training: { epochs: 30, spot: true } });
  });

  test('arrays are replaced, not concatenated', () => {
    expect(deepMerge({ labelClasses: ['a', 'b'] }, { labelClasses: ['c'] })).toEqual({ labelClasses: ['c'] });
  });

  test('a context string that is not JSON is a config error', () => {
    expect(() => mergeContextConfig({}, '{training:')).toThrow(ConfigError);
  });
});

describe('configuration reference', () => {
  test('every field of the resolved config is documented, and nothing else', () => {
    const leaves = (obj: object, prefix = ''): string[] =>
      Object.entries(obj).flatMap(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        const isGroup =
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          path !== 'training.hyperparameters' &&
          path !== 'import.readBucketOwners';
        return isGroup ? leaves(value, path) : [path];
      });
    const resolved = resolveConfig({
      notificationEmail: 'a@b.co',
      budgetUsd: 10,
      batch: { startConcurrency: 10 },
      labeling: { labelStudio: { origin: 'https://ls.example.com', role: { externalId: 'ls-ext-1' } } },
      workforce: { publicTaskPriceUsd: 0.84, workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t' },
      storage: { encryption: 'kms', kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' },
    });
    expect(
      configReference()
        .map((f) => f.path)
        .sort(),
    ).toEqual(leaves(resolved).sort());
    expect(configReference().every((f) => f.allowed !== '' && f.description !== '')).toBe(true);
  });

  test('docs/configuration.md carries the generated table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    // Out of date? Run `npm run docs:config`.
    expect(readme).toContain(`(generated by npm run docs:config) -->\n${configReferenceMarkdown()}\n<!-- config-reference:end -->`);
  });
});

describe('the PyTorch trainer (training.trainer "pytorch")', () => {
  test("trains on its own instance type, which the run's quota, estimate and training job use", () => {
    const config = resolveConfig({ training: { trainer: 'pytorch', pytorch: { instanceType: 'ml.g6.xlarge' } } });
    expect(trainingInstanceType(config)).toBe('ml.g6.xlarge');
    expect(trainingInstanceType(resolveConfig({ training: { pytorch: { instanceType: 'ml.g6.xlarge' } } }))).toBe('ml.p3.2xlarge');
  });

  test('takes one-GPU and CPU types the API accepts, which the built-in algorithm refuses', () => {
    for (const type of ['ml.g6.xlarge', 'ml.g6e.2xlarge', 'ml.c5.xlarge', 'ml.m5.large', 'ml.p3.2xlarge']) {
      expect(PYTORCH_TRAINING_INSTANCE_TYPES).toContain(type);
      expect(resolveConfig({ training: { trainer: 'pytorch', pytorch: { instanceType: type } } }).training.pytorch.instanceType).toBe(type);
    }
    expect(SEGMENTATION_TRAINING_INSTANCE_TYPES).not.toContain('ml.g6.xlarge');
  });

  test.each([
    [
      { instanceType: 'ml.g5.12xlarge' },
      /^training\.pytorch\.instanceType: received "ml\.g5\.12xlarge"; allowed: a type that CreateTrainingJob accepts with one NVIDIA GPU or an x86 CPU; ml\.g5: xlarge, 2xlarge, 4xlarge, 8xlarge, 16xlarge$/,
    ],
    [
      { instanceType: 'ml.p4d.24xlarge' },
      /^training\.pytorch\.instanceType: received "ml\.p4d\.24xlarge"; allowed: a type that CreateTrainingJob accepts with one NVIDIA GPU or an x86 CPU/,
    ],
    [{ model: 'unet' }, /^training\.pytorch\.model: received "unet"; allowed: deeplabv3, lraspp, fcn$/],
    [
      { model: 'lraspp', backbone: 'resnet50' },
      /^training\.pytorch\.backbone: received "resnet50"; allowed: one of mobilenet_v3_large with training\.pytorch\.model "lraspp"$/,
    ],
    [
      { model: 'fcn' },
      /^training\.pytorch\.backbone: received nothing; allowed: one of resnet50, resnet101 with training\.pytorch\.model "fcn"$/,
    ],
    [{ batchSize: 1 }, /^training\.pytorch\.batchSize: received 1; allowed: an integer from 2 to 256$/],
    [{ learningRate: 0 }, /^training\.pytorch\.learningRate: received 0; allowed: a number greater than 0 and at most 1$/],
    [{ imageSize: 16 }, /^training\.pytorch\.imageSize: received 16; allowed: an integer from 32 to 2048$/],
    [{ pretrained: 'yes' }, /^training\.pytorch\.pretrained: received "yes"; allowed: `true` or `false`$/],
  ])('refuses %j at synth', (pytorch, message) => {
    expect(problemsOf({ training: { trainer: 'pytorch', pytorch } })).toEqual([expect.stringMatching(message)]);
  });

  test("refuses the built-in algorithm's pass-through hyperparameters, which it would not read", () => {
    expect(problemsOf({ training: { trainer: 'pytorch', hyperparameters: { mini_batch_size: 4 } } })).toEqual([
      'training.hyperparameters: received {"mini_batch_size":4}; allowed: nothing when training.trainer is "pytorch" (these pass to the built-in algorithm; the PyTorch trainer\'s settings are training.pytorch.*)',
    ]);
    expect(problemsOf({ training: { trainer: 'tensorflow' } })).toEqual([
      'training.trainer: received "tensorflow"; allowed: builtin, pytorch',
    ]);
  });
});
