import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-sagemaker';
import {
  type CleanupDecision,
  type CleanupPolicy,
  type CleanupResult,
  cleanUpStackResources,
  failedEndpointNotification,
  invocationsSince,
} from '../../../lambda/cleanup/endpoint-cleanup';
import { SageMakerWorld } from '../../helpers/sagemaker-world';

const NOW = new Date('2026-11-29T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000);
const OURS = { 'segpipe:stack': 'Segpipe', 'segpipe:run': 'r' };
const POLICY: CleanupPolicy = {
  stackName: 'Segpipe',
  resourcePrefix: 'segpipe',
  idleMinutes: 120,
  timeToLiveHours: 0,
  keepModels: 1,
  dryRun: false,
  graceMinutes: 60,
};

let world: SageMakerWorld;
beforeEach(() => {
  world = new SageMakerWorld();
});
afterEach(() => world.restore());

/** An endpoint serving `config`, which serves `model`, all three tagged as `tags` say. */
function deployment(
  endpoint: string | undefined,
  config: string,
  model: string,
  opts: {
    tags?: Record<string, string>;
    ageHours?: number;
    status?: string;
    invocations?: number;
    failureReason?: string;
    modifiedHoursAgo?: number;
  } = {},
) {
  const tags = opts.tags ?? OURS;
  const createdAt = hoursAgo(opts.ageHours ?? 5);
  world.models.set(model, { name: model, tags, createdAt });
  world.configs.set(config, { name: config, tags, createdAt, models: [model] });
  if (endpoint) {
    world.endpoints.set(endpoint, {
      name: endpoint,
      tags,
      createdAt,
      config,
      status: opts.status ?? 'InService',
      invocations: opts.invocations,
      failureReason: opts.failureReason,
      lastModifiedAt: hoursAgo(opts.modifiedHoursAgo ?? opts.ageHours ?? 5),
    });
  }
}

const sweep = (policy: Partial<CleanupPolicy> = {}) => cleanUpStackResources(world.clients(), { ...POLICY, ...policy }, { now: NOW });

describe('cleanUpStackResources', () => {
  test('an idle endpoint goes; its config and model stay, ready for a one-call redeploy', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    const result = await sweep();
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);
    expect(result.deleted[0].reason).toBe('idle: no invocations in the last 120 minutes');
    expect([...world.configs.keys(), ...world.models.keys()]).toEqual(['segpipe-config-a', 'segpipe-model-a']);
    expect(world.metricQueries).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocations',
        Statistics: ['Sum'],
        Period: 7200,
        Dimensions: [
          { Name: 'EndpointName', Value: 'segpipe-endpoint' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        StartTime: new Date(NOW.getTime() - 7200_000),
        EndTime: NOW,
      }),
    ]);
  });

  test('idle is judged per endpoint: invocations of a zero-weight challenger never keep it', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-trial', 'segpipe-model-a');
    world.endpoints.get('segpipe-endpoint')!.variants = [
      { name: 'champion', weight: 1 },
      { name: 'challenger', weight: 0, invocations: 100 },
    ];
    const result = await sweep();
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);
    expect(result.deleted[0].reason).toBe('idle: no invocations in the last 120 minutes');
    expect(world.metricQueries.map((q) => q.Dimensions?.[1].Value)).toEqual(['champion']);
  });

  test('invocations of any variant with weight count toward the endpoint', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-trial', 'segpipe-model-a');
    world.endpoints.get('segpipe-endpoint')!.variants = [
      { name: 'champion', weight: 0 },
      { name: 'challenger', weight: 1, invocations: 2 },
    ];
    const result = await sweep();
    expect(world.deleted).toEqual([]);
    expect(result.kept).toContainEqual({ kind: 'endpoint', name: 'segpipe-endpoint', reason: '2 invocations in the last 120 minutes' });
  });

  test("while a challenger is evaluated, the champion's own config stays: the run returns the endpoint to it", async () => {
    deployment('segpipe-endpoint', 'segpipe-config-trial', 'segpipe-model-new', { invocations: 5, ageHours: 3 });
    deployment(undefined, 'segpipe-config-old', 'segpipe-model-old', { ageHours: 48 });
    world.configs.get('segpipe-config-trial')!.models = ['segpipe-model-old', 'segpipe-model-new'];
    const result = await sweep({ keepModels: 0 });
    expect(world.deleted).toEqual([]);
    expect(result.kept).toContainEqual({
      kind: 'endpoint-config',
      name: 'segpipe-config-old',
      reason: 'its model serves on an endpoint, which a run may return to this config',
    });
  });

  test("a config only partly served by the endpoint's models is not one a run returns to: it goes", async () => {
    deployment('segpipe-endpoint', 'segpipe-config-live', 'segpipe-model-a', { invocations: 5, ageHours: 30 });
    deployment(undefined, 'segpipe-config-mixed', 'segpipe-model-b', { ageHours: 40 });
    world.configs.get('segpipe-config-mixed')!.models = ['segpipe-model-a', 'segpipe-model-b'];
    await sweep({ keepModels: 0 });
    expect(world.deleted).toEqual(['endpoint-config segpipe-config-mixed', 'model segpipe-model-b']);
  });

  test('a described variant without a name is not asked about in CloudWatch', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    world.sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'segpipe-endpoint',
      EndpointStatus: 'InService',
      EndpointConfigName: 'segpipe-config-a',
      ProductionVariants: [{ VariantName: 'AllTraffic' }, { VariantName: undefined as never, CurrentWeight: 1 }],
    });
    await sweep();
    expect(world.metricQueries.map((q) => q.Dimensions)).toEqual([
      [
        { Name: 'EndpointName', Value: 'segpipe-endpoint' },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ],
    ]);
  });

  test('a busy endpoint stays, with its config and model', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { invocations: 3 });
    const result = await sweep();
    expect(world.deleted).toEqual([]);
    expect(result.kept).toContainEqual({ kind: 'endpoint', name: 'segpipe-endpoint', reason: '3 invocations in the last 120 minutes' });
  });

  test('an endpoint deployed less than the idle time ago stays without asking CloudWatch', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { ageHours: 30, modifiedHoursAgo: 1 });
    await sweep();
    expect(world.deleted).toEqual([]);
    expect(world.metricQueries).toEqual([]);
  });

  test('an endpoint deployed less than the idle time ago says so; one deployed exactly the idle time ago is judged by CloudWatch', async () => {
    deployment('segpipe-endpoint-new', 'segpipe-config-a', 'segpipe-model-a', { ageHours: 30, modifiedHoursAgo: 1.5 });
    deployment('segpipe-endpoint-old', 'segpipe-config-b', 'segpipe-model-b', { ageHours: 30, modifiedHoursAgo: 2 });
    const result = await sweep();
    expect(result.kept).toContainEqual({
      kind: 'endpoint',
      name: 'segpipe-endpoint-new',
      reason: 'deployed 90 minutes ago, less than the idle time of 120',
    });
    expect(result.deleted.filter((d) => d.kind === 'endpoint')).toEqual([
      { kind: 'endpoint', name: 'segpipe-endpoint-old', reason: 'idle: no invocations in the last 120 minutes' },
    ]);
  });

  test('an endpoint deployed exactly its time-to-live ago goes', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { ageHours: 24, invocations: 100 });
    const result = await sweep({ timeToLiveHours: 24 });
    expect(result.deleted).toEqual([
      {
        kind: 'endpoint',
        name: 'segpipe-endpoint',
        reason: 'older than its time-to-live: deployed 2026-11-28T12:00:00.000Z, 24.0 h ago, time-to-live 24 h',
      },
    ]);
  });

  test('an endpoint deployed longer ago than its time-to-live goes even when busy; a redeploy starts it anew', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { ageHours: 25, invocations: 100 });
    deployment('segpipe-endpoint-2', 'segpipe-config-b', 'segpipe-model-b', { ageHours: 200, modifiedHoursAgo: 3, invocations: 100 });
    const result = await sweep({ timeToLiveHours: 24 });
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint']);
    expect(result.deleted[0].reason).toMatch(/^older than its time-to-live: deployed .*, 25\.0 h ago, time-to-live 24 h$/);
  });

  test("untagged and other stacks' resources are never touched, whatever their name", async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { tags: {} });
    deployment('segpipe-other', 'segpipe-config-b', 'segpipe-model-b', { tags: { 'segpipe:stack': 'SegpipeProd' } });
    world.models.set('segpipe-model-c', { name: 'segpipe-model-c', tags: { 'segpipe:stack': 'segpipe' }, createdAt: hoursAgo(50) });
    // The stack's name under another key is not the stack's tag.
    world.models.set('segpipe-model-d', { name: 'segpipe-model-d', tags: { owner: 'Segpipe' }, createdAt: hoursAgo(50) });
    const result = await sweep({ keepModels: 0 });
    expect(world.deleted).toEqual([]);
    expect(result.kept).toEqual([]);
  });

  test('an endpoint listed InService but Updating by the time it is described is left alone', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    world.sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'segpipe-endpoint',
      EndpointStatus: 'Updating',
      EndpointConfigName: 'segpipe-config-a',
      ProductionVariants: [{ VariantName: 'AllTraffic' }],
    });
    const result = await sweep();
    expect(world.deleted).toEqual([]);
    expect(result.kept).toEqual([{ kind: 'endpoint', name: 'segpipe-endpoint', reason: 'Updating: left alone until SageMaker is done' }]);
  });

  test('a config an untagged endpoint under the prefix uses (a redeploy made by hand) stays, with its model', async () => {
    deployment(undefined, 'segpipe-config-a', 'segpipe-model-a', { ageHours: 30 });
    deployment(undefined, 'segpipe-config-b', 'segpipe-model-b', { ageHours: 20 });
    world.endpoints.set('segpipe-by-hand', {
      name: 'segpipe-by-hand',
      tags: {},
      createdAt: hoursAgo(10),
      status: 'InService',
      config: 'segpipe-config-a',
      invocations: 50,
    });
    await sweep({ keepModels: 0 });
    expect(world.deleted.sort()).toEqual(['endpoint-config segpipe-config-b', 'model segpipe-model-b']);
  });

  test("names that only contain the prefix are not the stack's; tags the role may not read are not the stack's", async () => {
    deployment('old-segpipe-test', 'old-segpipe-config', 'old-segpipe-model', { tags: OURS });
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    world.sagemaker.on(ListTagsCommand).callsFake((input) => {
      if (!input.ResourceArn?.includes('/segpipe-')) throw new Error('ListTags outside the prefix');
      throw Object.assign(new Error('not authorized to perform: sagemaker:ListTags'), { name: 'AccessDeniedException' });
    });
    const result = await sweep({ keepModels: 0 });
    expect(world.deleted).toEqual([]);
    expect(result.errors).toEqual([]);
  });

  test.each(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting'])(
    'an endpoint that is %s is left alone, and so are its config and model and all others',
    async (status) => {
      deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { status });
      deployment(undefined, 'segpipe-config-old', 'segpipe-model-old', { ageHours: 48 });
      const result = await sweep({ keepModels: 0 });
      expect(world.deleted).toEqual([]);
      expect(result).toMatchObject({
        kept: [{ kind: 'endpoint', name: 'segpipe-endpoint', reason: `${status}: left alone until SageMaker is done` }],
        errors: [],
      });
      // The listing's status is enough to wait: no DescribeEndpoint is spent on it.
      expect(world.sagemaker.commandCalls(DescribeEndpointCommand)).toEqual([]);
      expect([...world.endpoints.keys(), ...world.configs.keys(), ...world.models.keys()].sort()).toEqual([
        'segpipe-config-a',
        'segpipe-config-old',
        'segpipe-endpoint',
        'segpipe-model-a',
        'segpipe-model-old',
      ]);
    },
  );

  test('an endpoint listed InService but Failed by the time it is described goes as failed, busy or not', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { invocations: 9 });
    world.sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'segpipe-endpoint',
      EndpointStatus: 'Failed',
      EndpointConfigName: 'segpipe-config-a',
      ProductionVariants: [{ VariantName: 'AllTraffic' }],
    });
    const result = await sweep();
    expect(result.deleted).toEqual([{ kind: 'endpoint', name: 'segpipe-endpoint', reason: 'Failed: no reason given' }]);
    expect(world.metricQueries).toEqual([]);
  });

  test('an endpoint whose delete SageMaker refuses keeps its config and model: they still serve it', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { ageHours: 48 });
    world.sagemaker
      .on(DeleteEndpointCommand)
      .rejects(Object.assign(new Error('User is not authorized to perform: sagemaker:DeleteEndpoint'), { name: 'AccessDeniedException' }));
    const result = await sweep({ keepModels: 0 });
    expect(result.errors).toEqual([
      {
        kind: 'endpoint',
        name: 'segpipe-endpoint',
        reason: 'idle: no invocations in the last 120 minutes',
        error: 'User is not authorized to perform: sagemaker:DeleteEndpoint',
      },
    ]);
    expect(result.kept).toEqual([
      { kind: 'endpoint-config', name: 'segpipe-config-a', reason: 'an endpoint uses it' },
      { kind: 'model', name: 'segpipe-model-a', reason: 'an endpoint config uses it' },
    ]);
    expect(world.deleted).toEqual([]);
  });

  test('a config deleted by someone else before the sweep deletes it is noted, and its model, used by nothing now, goes', async () => {
    deployment(undefined, 'segpipe-config-a', 'segpipe-model-a', { ageHours: 48 });
    world.sagemaker.on(DeleteEndpointConfigCommand).callsFake((input) => {
      world.configs.delete(input.EndpointConfigName!);
      throw Object.assign(new Error(`Could not find endpoint configuration "${input.EndpointConfigName}".`), {
        name: 'ValidationException',
      });
    });
    const result = await sweep({ keepModels: 0 });
    expect(result.vanished).toEqual([{ kind: 'endpoint-config', name: 'segpipe-config-a', reason: 'no endpoint uses it' }]);
    expect(result.errors).toEqual([]);
    expect(result.deleted).toEqual([{ kind: 'model', name: 'segpipe-model-a', reason: 'no endpoint config uses it' }]);
  });

  test('a config deleted by someone else between the listing and its description is noted, not an error', async () => {
    deployment(undefined, 'segpipe-config-a', 'segpipe-model-a', { ageHours: 48 });
    world.sagemaker
      .on(DescribeEndpointConfigCommand)
      .rejects(Object.assign(new Error('Could not find endpoint configuration "segpipe-config-a".'), { name: 'ValidationException' }));
    const result = await sweep({ keepModels: 0 });
    expect(result.vanished).toEqual([
      { kind: 'endpoint-config', name: 'segpipe-config-a', reason: 'deleted by someone else during the sweep' },
    ]);
    expect(result.errors).toEqual([]);
  });

  test.each([DescribeEndpointCommand, DescribeEndpointConfigCommand])(
    'a %p that fails otherwise than "not found" fails the sweep rather than taking the resource for gone',
    async (command) => {
      deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', { ageHours: 48 });
      world.sagemaker
        .on(command as typeof DescribeEndpointCommand)
        .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      await expect(sweep({ keepModels: 0 })).rejects.toThrow('Rate exceeded');
    },
  );

  test('a Failed endpoint goes with its reason, then, with keepModels 0, its config and model', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a', {
      status: 'Failed',
      failureReason: 'Image not found',
      modifiedHoursAgo: 0.1,
      invocations: 9,
    });
    const result = await sweep({ keepModels: 0 });
    expect(world.deleted).toEqual(['endpoint segpipe-endpoint', 'endpoint-config segpipe-config-a', 'model segpipe-model-a']);
    expect(result.deleted[0].reason).toBe('Failed: Image not found');
  });

  test('unused configs and models go; the newest model and the config that served it stay; recent ones wait', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-3', 'segpipe-model-3', { ageHours: 3, invocations: 1 });
    deployment(undefined, 'segpipe-config-2', 'segpipe-model-2', { ageHours: 20 });
    deployment(undefined, 'segpipe-config-1', 'segpipe-model-1', { ageHours: 40 });
    deployment(undefined, 'segpipe-config-new', 'segpipe-model-new', { ageHours: 0.2 });
    world.models.set('segpipe-model-orphan', { name: 'segpipe-model-orphan', tags: OURS, createdAt: hoursAgo(30) });
    await sweep({ keepModels: 2 });
    // Newest two models: -new (recent) and -3 (in use); -2 is the third newest.
    expect(world.deleted.sort()).toEqual([
      'endpoint-config segpipe-config-1',
      'endpoint-config segpipe-config-2',
      'model segpipe-model-1',
      'model segpipe-model-2',
      'model segpipe-model-orphan',
    ]);
  });

  test('configs and models created less than the grace time ago wait, whatever else would keep them; at the grace time they go', async () => {
    deployment(undefined, 'segpipe-config-fresh', 'segpipe-model-fresh', { ageHours: 0.5 });
    deployment(undefined, 'segpipe-config-hour', 'segpipe-model-hour', { ageHours: 1 });
    const result = await sweep({ keepModels: 0 });
    expect(result.kept).toEqual([
      { kind: 'endpoint-config', name: 'segpipe-config-fresh', reason: 'created less than 60 minutes ago: a run may be deploying it' },
      { kind: 'model', name: 'segpipe-model-fresh', reason: 'an endpoint config uses it' },
    ]);
    expect(result.deleted).toEqual([
      { kind: 'endpoint-config', name: 'segpipe-config-hour', reason: 'no endpoint uses it' },
      { kind: 'model', name: 'segpipe-model-hour', reason: 'no endpoint config uses it' },
    ]);
  });

  test('a model created less than the grace time ago waits even without a config (a run between the two)', async () => {
    world.models.set('segpipe-model-fresh', { name: 'segpipe-model-fresh', tags: OURS, createdAt: hoursAgo(0.5) });
    const result = await sweep({ keepModels: 0 });
    expect(result.kept).toEqual([
      { kind: 'model', name: 'segpipe-model-fresh', reason: 'created less than 60 minutes ago: a run may be deploying it' },
    ]);
    expect(world.deleted).toEqual([]);
  });

  test('the newest model stays under keepModels even when no config serves it any more', async () => {
    world.models.set('segpipe-model-2', { name: 'segpipe-model-2', tags: OURS, createdAt: hoursAgo(20) });
    world.models.set('segpipe-model-1', { name: 'segpipe-model-1', tags: OURS, createdAt: hoursAgo(40) });
    const result = await sweep({ keepModels: 1 });
    expect(result.kept).toEqual([{ kind: 'model', name: 'segpipe-model-2', reason: 'one of the newest 1 model(s)' }]);
    expect(world.deleted).toEqual(['model segpipe-model-1']);
  });

  test('of two unused configs serving the newest model, only the newer stays for the redeploy', async () => {
    // Listed oldest first, so that the sweep's own ordering is what picks the newer.
    deployment(undefined, 'segpipe-config-older', 'segpipe-model-new', { ageHours: 30 });
    deployment(undefined, 'segpipe-config-newer', 'segpipe-model-new', { ageHours: 20 });
    world.models.get('segpipe-model-new')!.createdAt = hoursAgo(30);
    await sweep({ keepModels: 1 });
    expect(world.deleted).toEqual(['endpoint-config segpipe-config-older']);
    expect([...world.configs.keys()]).toEqual(['segpipe-config-newer']);
  });

  test("a newer trial config serving the newest model beside an older one does not take the newest model's place: the champion-only config stays", async () => {
    deployment(undefined, 'segpipe-config-solo', 'segpipe-model-new', { ageHours: 30 });
    deployment(undefined, 'segpipe-config-trial', 'segpipe-model-old', { ageHours: 20 });
    world.configs.get('segpipe-config-trial')!.models = ['segpipe-model-new', 'segpipe-model-old'];
    world.models.get('segpipe-model-new')!.createdAt = hoursAgo(10);
    world.models.get('segpipe-model-old')!.createdAt = hoursAgo(40);
    await sweep({ keepModels: 1 });
    expect(world.deleted).toEqual(['endpoint-config segpipe-config-trial', 'model segpipe-model-old']);
  });

  test('an unused config that names no model is deleted, not kept as serving the newest', async () => {
    deployment(undefined, 'segpipe-config-empty', 'segpipe-model-a', { ageHours: 30 });
    world.configs.get('segpipe-config-empty')!.models = [];
    const result = await sweep({ keepModels: 1 });
    expect(result.deleted).toEqual([{ kind: 'endpoint-config', name: 'segpipe-config-empty', reason: 'no endpoint uses it' }]);
    expect(result.kept).toEqual([{ kind: 'model', name: 'segpipe-model-a', reason: 'one of the newest 1 model(s)' }]);
  });

  test('a variant that names no model does not count against a config serving the newest model', async () => {
    deployment(undefined, 'segpipe-config-a', 'segpipe-model-a', { ageHours: 30 });
    world.sagemaker.on(DescribeEndpointConfigCommand).resolves({
      EndpointConfigName: 'segpipe-config-a',
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'segpipe-model-a' }, { VariantName: 'components' }],
    });
    await sweep({ keepModels: 1 });
    expect(world.deleted).toEqual([]);
  });

  test('keepModels keeps the newest unused model and its config ready for a one-call redeploy', async () => {
    deployment(undefined, 'segpipe-config-2', 'segpipe-model-2', { ageHours: 20 });
    deployment(undefined, 'segpipe-config-1', 'segpipe-model-1', { ageHours: 40 });
    const result = await sweep();
    expect(world.deleted.sort()).toEqual(['endpoint-config segpipe-config-1', 'model segpipe-model-1']);
    expect(result.kept.find((k) => k.name === 'segpipe-config-2')?.reason).toContain(
      'create-endpoint --endpoint-name segpipe-endpoint --endpoint-config-name segpipe-config-2 --tags Key=segpipe:stack,Value=Segpipe',
    );
  });

  test('pages through many endpoints, configs and models', async () => {
    world.pageSize = 3;
    for (let i = 0; i < 10; i++)
      deployment(`segpipe-endpoint-${i}`, `segpipe-config-${i}`, `segpipe-model-${i}`, { ageHours: 10 + i, invocations: i % 2 });
    await sweep({ keepModels: 0 });
    const idle = [0, 2, 4, 6, 8];
    expect(world.deleted.sort()).toEqual(
      [
        ...idle.map((i) => `endpoint segpipe-endpoint-${i}`),
        ...idle.map((i) => `endpoint-config segpipe-config-${i}`),
        ...idle.map((i) => `model segpipe-model-${i}`),
      ].sort(),
    );
    expect(world.sagemaker.commandCalls(ListEndpointsCommand)).toHaveLength(4);
  });

  test("the stack's tag is found on any page of a resource's tags", async () => {
    world.models.set('segpipe-model-a', { name: 'segpipe-model-a', tags: OURS, createdAt: hoursAgo(50) });
    world.sagemaker
      .on(ListTagsCommand)
      .callsFake((input) =>
        input.NextToken === 'page-2'
          ? { Tags: [{ Key: 'segpipe:stack', Value: 'Segpipe' }] }
          : { Tags: [{ Key: 'team', Value: 'vision' }], NextToken: 'page-2' },
      );
    await sweep({ keepModels: 0 });
    expect(world.deleted).toEqual(['model segpipe-model-a']);
  });

  test('throttling that does not stop fails the sweep rather than guessing', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    world.sagemaker.on(ListTagsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(sweep()).rejects.toThrow('Rate exceeded');
    expect(world.deleted).toEqual([]);
  });

  test('an endpoint deleted by someone else during the sweep is noted, not an error', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    deployment('segpipe-endpoint-2', 'segpipe-config-b', 'segpipe-model-b', { invocations: 5 });
    // Listed, then gone before DescribeEndpoint.
    world.sagemaker.on(ListTagsCommand).callsFake((input) => {
      if (input.ResourceArn?.endsWith('endpoint/segpipe-endpoint')) world.endpoints.delete('segpipe-endpoint');
      return { Tags: Object.entries(OURS).map(([Key, Value]) => ({ Key, Value })) };
    });
    const result = await sweep({ keepModels: 0 });
    expect(result.vanished).toEqual([{ kind: 'endpoint', name: 'segpipe-endpoint', reason: 'deleted by someone else during the sweep' }]);
    expect(result.errors).toEqual([]);
    expect(world.deleted).toEqual(['endpoint-config segpipe-config-a', 'model segpipe-model-a']);
  });

  test('an untagged endpoint deleted by someone else between listing and description holds no config; the sweep goes on', async () => {
    deployment(undefined, 'segpipe-config-a', 'segpipe-model-a', { ageHours: 30 });
    world.endpoints.set('segpipe-by-hand', {
      name: 'segpipe-by-hand',
      tags: {},
      createdAt: hoursAgo(10),
      status: 'InService',
      config: 'segpipe-config-a',
      invocations: 50,
    });
    world.sagemaker.on(ListTagsCommand).callsFake((input) => {
      if (!input.ResourceArn?.endsWith('endpoint/segpipe-by-hand'))
        return { Tags: Object.entries(OURS).map(([Key, Value]) => ({ Key, Value })) };
      world.endpoints.delete('segpipe-by-hand');
      return { Tags: [] };
    });
    const result = await sweep({ keepModels: 0 });
    expect(result.errors).toEqual([]);
    expect(world.deleted.sort()).toEqual(['endpoint-config segpipe-config-a', 'model segpipe-model-a']);
  });

  test('a dry run decides the same and deletes nothing', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    deployment(undefined, 'segpipe-config-old', 'segpipe-model-old', { ageHours: 48 });
    const planned: string[] = [];
    const result = await cleanUpStackResources(
      world.clients(),
      { ...POLICY, dryRun: true },
      {
        now: NOW,
        onDeleted: (d) => {
          planned.push(`${d.kind} ${d.name}`);
        },
      },
    );
    expect(world.deleted).toEqual([]);
    expect(result.dryRun).toBe(true);
    expect(planned.sort()).toEqual(['endpoint segpipe-endpoint', 'endpoint-config segpipe-config-old', 'model segpipe-model-old']);
  });

  test('a delete SageMaker refuses is reported and the sweep goes on', async () => {
    deployment(undefined, 'segpipe-config-1', 'segpipe-model-1', { ageHours: 40 });
    deployment(undefined, 'segpipe-config-2', 'segpipe-model-2', { ageHours: 41 });
    world.sagemaker.on(ListTagsCommand).callsFake(() => ({ Tags: [{ Key: 'segpipe:stack', Value: 'Segpipe' }] }));
    world.sagemaker
      .on(DeleteEndpointConfigCommand, { EndpointConfigName: 'segpipe-config-1' })
      .rejects(
        Object.assign(new Error('User is not authorized to perform: sagemaker:DeleteEndpointConfig'), { name: 'AccessDeniedException' }),
      );
    const result = await sweep({ keepModels: 0 });
    expect(result.errors).toEqual([
      expect.objectContaining({ name: 'segpipe-config-1', error: expect.stringContaining('not authorized') }),
    ]);
    // Its model is still used by the config that stayed.
    expect(world.deleted.sort()).toEqual(['endpoint-config segpipe-config-2', 'model segpipe-model-2']);
  });
});

describe('invocationsSince', () => {
  const periodFor = async (windowMinutes: number) => {
    const { cloudwatch } = world.clients();
    await invocationsSince(cloudwatch, 'segpipe-endpoint', ['AllTraffic'], windowMinutes, NOW);
    return world.metricQueries.pop()?.Period;
  };

  test('asks for one period over the window: in minutes up to 15 days, in 5-minute steps beyond (CloudWatch keeps no finer data)', async () => {
    expect(await periodFor(61)).toBe(61 * 60);
    expect(await periodFor(20 * 24 * 60 + 1)).toBe(Math.ceil((20 * 24 * 60 + 1) / 5) * 300);
  });

  test('sums the datapoints of every variant asked for', async () => {
    deployment('segpipe-endpoint', 'segpipe-config-a', 'segpipe-model-a');
    world.endpoints.get('segpipe-endpoint')!.variants = [
      { name: 'champion', weight: 1, invocations: 2 },
      { name: 'challenger', weight: 1, invocations: 3 },
    ];
    const { cloudwatch } = world.clients();
    expect(await invocationsSince(cloudwatch, 'segpipe-endpoint', ['champion', 'challenger'], 120, NOW)).toBe(5);
  });
});

describe('failedEndpointNotification', () => {
  const decision = (kind: CleanupDecision['kind'], name: string, reason: string): CleanupDecision => ({ kind, name, reason });
  const result = (over: Partial<CleanupResult>): CleanupResult => ({
    deleted: [],
    kept: [],
    vanished: [],
    errors: [],
    dryRun: false,
    ...over,
  });

  test('tells what was deleted and what could not be', () => {
    const { subject, message } = failedEndpointNotification(
      'segpipe-endpoint',
      result({
        deleted: [
          decision('endpoint', 'segpipe-endpoint', 'Failed: Image not found'),
          decision('model', 'segpipe-model-1', 'no endpoint config uses it'),
        ],
        errors: [{ ...decision('endpoint-config', 'segpipe-config-1', 'no endpoint uses it'), error: 'not authorized' }],
      }),
    );
    expect(subject).toBe('segpipe: endpoint segpipe-endpoint failed');
    expect(message).toBe(
      [
        'The SageMaker endpoint segpipe-endpoint entered FAILED.',
        'It was deleted, so the next run creates it anew.',
        '',
        'Deleted:',
        '- endpoint segpipe-endpoint: Failed: Image not found',
        '- model segpipe-model-1: no endpoint config uses it',
        '',
        'Could not delete:',
        '- endpoint-config segpipe-config-1: not authorized',
      ].join('\n'),
    );
  });

  test("an endpoint that was not deleted (another endpoint's deletion does not count) is said to be retried", () => {
    const { message } = failedEndpointNotification(
      'segpipe-endpoint',
      result({
        deleted: [decision('endpoint', 'segpipe-endpoint-2', 'idle'), decision('model', 'segpipe-endpoint', 'no endpoint config uses it')],
      }),
    );
    expect(message).toBe(
      [
        'The SageMaker endpoint segpipe-endpoint entered FAILED.',
        'It was not deleted by this clean-up (see below); the next scheduled clean-up tries again.',
        '',
        'Deleted:',
        '- endpoint segpipe-endpoint-2: idle',
        '- model segpipe-endpoint: no endpoint config uses it',
      ].join('\n'),
    );
  });

  test('a dry run says what would have been deleted; nothing deleted says nothing', () => {
    expect(
      failedEndpointNotification(
        'segpipe-endpoint',
        result({ dryRun: true, deleted: [decision('endpoint', 'segpipe-endpoint', 'Failed: x')] }),
      ).message,
    ).toBe(
      [
        'The SageMaker endpoint segpipe-endpoint entered FAILED.',
        'Dry run: it would have been deleted.',
        '',
        'Would delete:',
        '- endpoint segpipe-endpoint: Failed: x',
      ].join('\n'),
    );
    expect(failedEndpointNotification('segpipe-endpoint', result({})).message).toBe(
      [
        'The SageMaker endpoint segpipe-endpoint entered FAILED.',
        'It was not deleted by this clean-up (see below); the next scheduled clean-up tries again.',
        '',
        'Deleted:',
        '- nothing',
      ].join('\n'),
    );
  });

  test("the subject is cut to SNS's 100 characters", () => {
    const name = `segpipe-${'e'.repeat(80)}`;
    const { subject } = failedEndpointNotification(name, result({}));
    expect(subject).toBe(`segpipe: endpoint ${name} failed`.slice(0, 100));
    expect(subject).toHaveLength(100);
  });
});
