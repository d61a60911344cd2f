// @ts-nocheck
import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { isNotFound } from '../common/aws-calls';
import { endpointName, STACK_TAG_KEY } from '../workflow/names';
import {
  ENDPOINT_CHANGING_STATES,
  type ResourceKind,
  type StackEndpoint,
  type StackIdentity,
  type StackResource,
  StackResources,
} from './stack-resources';

const MINUTE = 60_000;
/** Minutes as people read them (the local run uses fractions of a minute). */
const minutes = (n: number) => String(Number(n.toFixed(2)));

interface Verdict {
  readonly remove: boolean;
  readonly reason: string;
}

/** The detail type of the EventBridge event the clean-up publishes for each deletion. */
export const DELETED_DETAIL_TYPE = 'Segpipe Resource Deleted';

export interface CleanupPolicy extends StackIdentity {
  /** An endpoint with no invocations for this long is deleted. */
  readonly idleMinutes: number;
  /** An endpoint older than this is deleted; 0 means no limit. */
  readonly timeToLiveHours: number;
  /** Newest models kept, with the newest endpoint config serving each. */
  readonly keepModels: number;
  /** Decide and log, delete nothing. */
  readonly dryRun: boolean;
  /**
   * Endpoint configs and models younger than this are kept: a run may be between creating them and
   * deploying them.
   */
  readonly graceMinutes: number;
}

export interface CleanupClients {
  readonly sagemaker: SageMakerClient;
  readonly cloudwatch: CloudWatchClient;
}

export interface CleanupDecision {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly reason: string;
}

export interface CleanupResult {
  /** Deleted, or with `dryRun` to be deleted. */
  readonly deleted: CleanupDecision[];
  readonly kept: CleanupDecision[];
  /** Gone before the sweep reached them (deleted by someone else). */
  readonly vanished: CleanupDecision[];
  readonly errors: (CleanupDecision & { readonly error: string })[];
  readonly dryRun: boolean;
}

export interface CleanupOptions {
  readonly now?: Date;
  /** Called for each deletion (or planned deletion in a dry run), after it happened. */
  readonly onDeleted?: (decision: CleanupDecision) => Promise<void> | void;
}

/**
 * One sweep over a stack's SageMaker resources: endpoints that failed, expired or sat idle are
 * deleted; then endpoint configs no endpoint uses and models no endpoint config uses, except the
 * newest `keepModels` models and the config that served each. Only resources tagged with the stack's
 * name are ever touched. While any endpoint of the stack is changing, configs and models wait for
 * the next sweep.
 */
export async function cleanUpStackResources(
  clients: CleanupClients,
  policy: CleanupPolicy,
  options: CleanupOptions = {},
): Promise<CleanupResult> {
  const now = options.now ?? new Date();
  const resources = new StackResources(clients.sagemaker, policy);
  const result: CleanupResult = { deleted: [], kept: [], vanished: [], errors: [], dryRun: policy.dryRun };
  const keep = (resource: StackResource, reason: string) => result.kept.push({ kind: resource.kind, name: resource.name, reason });

  const remove = async (resource: StackResource, reason: string): Promise<boolean> => {
    const decision = { kind: resource.kind, name: resource.name, reason };
    if (!policy.dryRun) {
      try {
        await deleteResource(clients.sagemaker, resource);
      } catch (err) {
        if (isNotFound(err)) {
          result.vanished.push(decision);
          return true;
        }
        result.errors.push({ ...decision, error: (err as Error).message });
        return false;
      }
    }
    result.deleted.push(decision);
    await options.onDeleted?.(decision);
    return true;
  };

  // Endpoints.
  const configsInUse = new Set<string>();
  let changing = false;
  for (const endpoint of await resources.endpointsUnderPrefix()) {
    if (!endpoint.ours) {
      // Not the stack's to delete, but it may serve one of the stack's configs.
      const config = (await resources.describeEndpoint(endpoint.name))?.config;
      if (config) configsInUse.add(config);
      continue;
    }
    if (ENDPOINT_CHANGING_STATES.has(endpoint.status)) {
      changing = true;
      keep(endpoint, `${endpoint.status}: left alone until SageMaker is done`);
      continue;
    }
    const details = await resources.describeEndpoint(endpoint.name);
    if (!details) {
      result.vanished.push({ kind: 'endpoint', name: endpoint.name, reason: 'deleted by someone else during the sweep' });
      continue;
    }
    // The listing may be stale: a run may have started an update since.
    if (details.status && ENDPOINT_CHANGING_STATES.has(details.status)) {
      changing = true;
      keep(endpoint, `${details.status}: left alone until SageMaker is done`);
      continue;
    }
    const verdict: Verdict =
      (details.status ?? endpoint.status) === 'Failed'
        ? { remove: true, reason: `Failed: ${details.failureReason ?? 'no reason given'}` }
        : await expiredOrIdle(clients.cloudwatch, endpoint, details.variants, policy, now);
    if (!verdict.remove) {
      keep(endpoint, verdict.reason);
      if (details.config) configsInUse.add(details.config);
    } else if (!(await remove(endpoint, verdict.reason)) && details.config) {
      configsInUse.add(details.config);
    }
  }
  if (changing) {
    return result;
  }

  // Endpoint configs and models.
  const models = (await resources.models()).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const newestModels = new Set(models.slice(0, policy.keepModels).map((m) => m.name));
  const configs = (await resources.endpointConfigs()).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const modelsInUse = new Set<string>();
  const modelsWithConfig = new Set<string>();
  // While a run evaluates a challenger, the endpoint is on the run's trial config; the champion's own
  // config, which the run returns the endpoint to, serves a model the endpoint serves: it stays.
  const modelsServed = new Set<string>();
  for (const name of configsInUse) for (const m of (await resources.modelsOfConfig(name)) ?? []) modelsServed.add(m);
  const recent = (resource: StackResource) => now.getTime() - resource.createdAt.getTime() < policy.graceMinutes * MINUTE;
  for (const config of configs) {
    const served = await resources.modelsOfConfig(config.name);
    if (!served) {
      result.vanished.push({ kind: 'endpoint-config', name: config.name, reason: 'deleted by someone else during the sweep' });
      continue;
    }
    const servesKeptModel = served.length > 0 && served.every((m) => newestModels.has(m) && !modelsWithConfig.has(m));
    let kept = true;
    if (configsInUse.has(config.name)) keep(config, 'an endpoint uses it');
    else if (served.length > 0 && served.every((m) => modelsServed.has(m)))
      keep(config, 'its model serves on an endpoint, which a run may return to this config');
    else if (recent(config)) keep(config, `created less than ${policy.graceMinutes} minutes ago: a run may be deploying it`);
    else if (servesKeptModel) {
      keep(
        config,
        `serves one of the newest ${policy.keepModels} model(s): redeploy with aws sagemaker create-endpoint --endpoint-name ${endpointName(policy.resourcePrefix)} ` +
          `--endpoint-config-name ${config.name} --tags Key=${STACK_TAG_KEY},Value=${policy.stackName}`,
      );
    } else kept = !(await remove(config, 'no endpoint uses it'));
    if (kept) for (const m of served) modelsInUse.add(m);
    if (servesKeptModel) for (const m of served) modelsWithConfig.add(m);
  }
  for (const model of models) {
    if (modelsInUse.has(model.name)) keep(model, 'an endpoint config uses it');
    else if (newestModels.has(model.name)) keep(model, `one of the newest ${policy.keepModels} model(s)`);
    else if (recent(model)) keep(model, `created less than ${policy.graceMinutes} minutes ago: a run may be deploying it`);
    else await remove(model, 'no endpoint config uses it');
  }
  return result;
}

/** Whether an endpoint that is standing goes, and why. */
async function expiredOrIdle(
  cloudwatch: CloudWatchClient,
  endpoint: StackEndpoint,
  variants: string[],
  policy: CleanupPolicy,
  now: Date,
): Promise<Verdict> {
  // From the last deployment: a run that redeploys to an old endpoint gives it a new time-to-live.
  const ageHours = (now.getTime() - endpoint.lastModifiedAt.getTime()) / (60 * MINUTE);
  if (policy.timeToLiveHours > 0 && ageHours >= policy.timeToLiveHours) {
    return {
      remove: true,
      reason: `older than its time-to-live: deployed ${endpoint.lastModifiedAt.toISOString()}, ${ageHours.toFixed(1)} h ago, time-to-live ${policy.timeToLiveHours} h`,
    };
  }
  const sinceChange = (now.getTime() - endpoint.lastModifiedAt.getTime()) / MINUTE;
  if (sinceChange < policy.idleMinutes)
    return {
      remove: false,
      reason: `deployed ${Math.floor(sinceChange)} minutes ago, less than the idle time of ${minutes(policy.idleMinutes)}`,
    };
  const invocations = await invocationsSince(cloudwatch, endpoint.name, variants, policy.idleMinutes, now);
  if (invocations > 0) return { remove: false, reason: `${invocations} invocations in the last ${minutes(policy.idleMinutes)} minutes` };
  return { remove: true, reason: `idle: no invocations in the last ${minutes(policy.idleMinutes)} minutes` };
}

/** `AWS/SageMaker` `Invocations` summed over the endpoint's variants; no datapoints counts as zero. */
export async function invocationsSince(
  cloudwatch: CloudWatchClient,
  endpoint: string,
  variants: string[],
  windowMinutes: number,
  now: Date,
): Promise<number> {
  const seconds = windowMinutes * 60;
  // Datapoints older than 15 days are kept at 5-minute resolution, and CloudWatch asks for a period to match.
  const unit = seconds > 15 * 24 * 3600 ? 300 : 60;
  const period = Math.ceil(seconds / unit) * unit;
  let total = 0;
  for (const variant of variants) {
    const statistics = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocations',
        Dimensions: [
          { Name: 'EndpointName', Value: endpoint },
          { Name: 'VariantName', Value: variant },
        ],
        StartTime: new Date(now.getTime() - seconds * 1000),
        EndTime: now,
        Period: period,
        Statistics: ['Sum'],
      }),
    );
    total += (statistics.Datapoints ?? []).reduce((sum, point) => sum + (point.Sum ?? 0), 0);
  }
  return total;
}

export function deleteResource(sagemaker: SageMakerClient, resource: Pick<StackResource, 'kind' | 'name'>): Promise<unknown> {
  switch (resource.kind) {
    case 'endpoint':
      return sagemaker.send(new DeleteEndpointCommand({ EndpointName: resource.name }));
    case 'endpoint-config':
      return sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: resource.name }));
    case 'model':
      return sagemaker.send(new DeleteModelCommand({ ModelName: resource.name }));
  }
}

/** SNS's limit on a subject, in characters. */
const SNS_SUBJECT_MAX = 100;

/** What the user is told when an endpoint of the stack entered FAILED: what was deleted, and what not. */
export function failedEndpointNotification(endpointName: string, result: CleanupResult): { subject: string; message: string } {
  const describe = (d: CleanupDecision) => `- ${d.kind} ${d.name}: ${d.reason}`;
  const deleted = result.deleted.filter((d) => d.kind === 'endpoint' && d.name === endpointName);
  const message = [
    `The SageMaker endpoint ${endpointName} entered FAILED.`,
    deleted.length > 0
      ? result.dryRun
        ? 'Dry run: it would have been deleted.'
        : 'It was deleted, so the next run creates it anew.'
      : 'It was not deleted by this clean-up (see below); the next scheduled clean-up tries again.',
    '',
    result.dryRun ? 'Would delete:' : 'Deleted:',
    ...(result.deleted.length > 0 ? result.deleted.map(describe) : ['- nothing']),
    ...(result.errors.length > 0 ? ['', 'Could not delete:', ...result.errors.map((e) => `- ${e.kind} ${e.name}: ${e.error}`)] : []),
  ].join('\n');
  return { subject: `segpipe: endpoint ${endpointName} failed`.slice(0, SNS_SUBJECT_MAX), message };
}
