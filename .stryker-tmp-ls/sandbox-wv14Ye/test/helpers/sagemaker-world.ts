import { CloudWatchClient, GetMetricStatisticsCommand, type GetMetricStatisticsCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListLabelingJobsCommand,
  ListModelsCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  StopLabelingJobCommand,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';

/** A SageMaker account in memory, served through aws-sdk-client-mock with the API's request and response shapes. */
export interface WorldResource {
  name: string;
  tags: Record<string, string>;
  createdAt: Date;
}
export interface WorldEndpoint extends WorldResource {
  status: string;
  lastModifiedAt?: Date;
  config: string;
  failureReason?: string;
  /** Invocations CloudWatch reports in any window asked for. */
  invocations?: number;
  /** Production variants with their weights and invocations; one `AllTraffic` variant without a weight when absent. */
  variants?: { name: string; weight: number; invocations?: number }[];
}
export interface WorldConfig extends WorldResource {
  models: string[];
}
export interface WorldJob extends WorldResource {
  kind: 'training-job' | 'labeling-job';
  status: string;
}

export const REGION_ACCOUNT = 'us-east-1:123456789012';
export const arnOf = (kind: string, name: string) => `arn:aws:sagemaker:${REGION_ACCOUNT}:${kind}/${name.toLowerCase()}`;
const notFound = (what: string, arn: string) =>
  Object.assign(new Error(`Could not find ${what} "${arn}".`), { name: 'ValidationException' });

export class SageMakerWorld {
  readonly endpoints = new Map<string, WorldEndpoint>();
  readonly configs = new Map<string, WorldConfig>();
  readonly models = new Map<string, WorldResource>();
  readonly jobs = new Map<string, WorldJob>();
  readonly deleted: string[] = [];
  readonly stopped: string[] = [];
  readonly metricQueries: GetMetricStatisticsCommandInput[] = [];
  /** Items per list page, to make paging happen. */
  pageSize = 100;
  readonly sagemaker = mockClient(SageMakerClient);
  readonly cloudwatch = mockClient(CloudWatchClient);

  constructor() {
    const page = <T>(items: T[], token: string | undefined, nameOf: (item: T) => string, contains?: string) => {
      const matching = items.filter((item) => !contains || nameOf(item).includes(contains));
      const start = Number(token ?? '0');
      const next = start + this.pageSize < matching.length ? String(start + this.pageSize) : undefined;
      return { items: matching.slice(start, start + this.pageSize), next };
    };
    this.sagemaker.on(ListEndpointsCommand).callsFake((input) => {
      const { items, next } = page([...this.endpoints.values()], input.NextToken, (e) => e.name, input.NameContains);
      return {
        Endpoints: items.map((e) => ({
          EndpointName: e.name,
          EndpointArn: arnOf('endpoint', e.name),
          CreationTime: e.createdAt,
          LastModifiedTime: e.lastModifiedAt ?? e.createdAt,
          EndpointStatus: e.status,
        })),
        NextToken: next,
      };
    });
    this.sagemaker.on(ListEndpointConfigsCommand).callsFake((input) => {
      const { items, next } = page([...this.configs.values()], input.NextToken, (c) => c.name, input.NameContains);
      return {
        EndpointConfigs: items.map((c) => ({
          EndpointConfigName: c.name,
          EndpointConfigArn: arnOf('endpoint-config', c.name),
          CreationTime: c.createdAt,
        })),
        NextToken: next,
      };
    });
    this.sagemaker.on(ListModelsCommand).callsFake((input) => {
      const { items, next } = page([...this.models.values()], input.NextToken, (m) => m.name, input.NameContains);
      return {
        Models: items.map((m) => ({ ModelName: m.name, ModelArn: arnOf('model', m.name), CreationTime: m.createdAt })),
        NextToken: next,
      };
    });
    this.sagemaker.on(ListTrainingJobsCommand).callsFake((input) => {
      const jobs = [...this.jobs.values()].filter(
        (j) => j.kind === 'training-job' && (!input.StatusEquals || j.status === input.StatusEquals),
      );
      const { items, next } = page(jobs, input.NextToken, (j) => j.name, input.NameContains);
      return {
        TrainingJobSummaries: items.map((j) => ({
          TrainingJobName: j.name,
          TrainingJobArn: arnOf('training-job', j.name),
          CreationTime: j.createdAt,
          TrainingJobStatus: j.status,
        })),
        NextToken: next,
      };
    });
    this.sagemaker.on(ListLabelingJobsCommand).callsFake((input) => {
      const jobs = [...this.jobs.values()].filter(
        (j) => j.kind === 'labeling-job' && (!input.StatusEquals || j.status === input.StatusEquals),
      );
      const { items, next } = page(jobs, input.NextToken, (j) => j.name, input.NameContains);
      return {
        LabelingJobSummaryList: items.map((j) => ({
          LabelingJobName: j.name,
          LabelingJobArn: arnOf('labeling-job', j.name),
          CreationTime: j.createdAt,
          LabelingJobStatus: j.status,
        })),
        NextToken: next,
      };
    });
    this.sagemaker.on(ListTagsCommand).callsFake((input) => {
      const resource = this.byArn(input.ResourceArn!);
      if (!resource) throw notFound('resource', input.ResourceArn!);
      return { Tags: Object.entries(resource.tags).map(([Key, Value]) => ({ Key, Value })) };
    });
    this.sagemaker.on(DescribeEndpointCommand).callsFake((input) => {
      const e = this.endpoints.get(input.EndpointName!);
      if (!e) throw notFound('endpoint', arnOf('endpoint', input.EndpointName!));
      const variants = e.variants?.map((v) => ({ VariantName: v.name, CurrentWeight: v.weight })) ?? [{ VariantName: 'AllTraffic' }];
      return {
        EndpointName: e.name,
        EndpointConfigName: e.config,
        EndpointStatus: e.status,
        FailureReason: e.failureReason,
        ProductionVariants: variants,
      };
    });
    this.sagemaker.on(DescribeEndpointConfigCommand).callsFake((input) => {
      const c = this.configs.get(input.EndpointConfigName!);
      if (!c) throw notFound('endpoint configuration', arnOf('endpoint-config', input.EndpointConfigName!));
      return { EndpointConfigName: c.name, ProductionVariants: c.models.map((ModelName) => ({ VariantName: 'AllTraffic', ModelName })) };
    });
    const remove = <T>(map: Map<string, T>, kind: string, what: string, name: string) => {
      if (!map.delete(name)) throw notFound(what, arnOf(kind, name));
      this.deleted.push(`${kind} ${name}`);
      return {};
    };
    this.sagemaker.on(DeleteEndpointCommand).callsFake((input) => {
      const e = this.endpoints.get(input.EndpointName!);
      if (e && ['Creating', 'Updating', 'SystemUpdating'].includes(e.status)) {
        throw Object.assign(new Error(`Cannot update in-progress endpoint "${arnOf('endpoint', e.name)}".`), {
          name: 'ValidationException',
        });
      }
      return remove(this.endpoints, 'endpoint', 'endpoint', input.EndpointName!);
    });
    this.sagemaker
      .on(DeleteEndpointConfigCommand)
      .callsFake((input) => remove(this.configs, 'endpoint-config', 'endpoint configuration', input.EndpointConfigName!));
    this.sagemaker.on(DeleteModelCommand).callsFake((input) => remove(this.models, 'model', 'model', input.ModelName!));
    // Each Stop call finds only a job of its own kind, as SageMaker does.
    const stop = (kind: WorldJob['kind'], name: string) => {
      const job = this.jobs.get(name);
      if (job?.kind !== kind) throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFound' });
      job.status = 'Stopping';
      this.stopped.push(`${job.kind} ${name}`);
      return {};
    };
    this.sagemaker.on(StopTrainingJobCommand).callsFake((input) => stop('training-job', input.TrainingJobName!));
    this.sagemaker.on(StopLabelingJobCommand).callsFake((input) => stop('labeling-job', input.LabelingJobName!));
    this.cloudwatch.on(GetMetricStatisticsCommand).callsFake((input) => {
      this.metricQueries.push(input);
      const name = input.Dimensions?.find((d: { Name?: string }) => d.Name === 'EndpointName')?.Value;
      const variant = input.Dimensions?.find((d: { Name?: string }) => d.Name === 'VariantName')?.Value;
      const endpoint = name ? this.endpoints.get(name) : undefined;
      const invocations = endpoint?.variants ? endpoint.variants.find((v) => v.name === variant)?.invocations : endpoint?.invocations;
      return { Label: 'Invocations', Datapoints: invocations ? [{ Sum: invocations, Timestamp: input.StartTime }] : [] };
    });
  }

  private byArn(arn: string): WorldResource | undefined {
    const [kind, name] = arn.split(':').pop()!.split('/');
    const all: WorldResource[] =
      kind === 'endpoint'
        ? [...this.endpoints.values()]
        : kind === 'endpoint-config'
          ? [...this.configs.values()]
          : kind === 'model'
            ? [...this.models.values()]
            : [...this.jobs.values()].filter((j) => j.kind === kind);
    return all.find((r) => r.name.toLowerCase() === name);
  }

  clients(): { sagemaker: SageMakerClient; cloudwatch: CloudWatchClient } {
    return { sagemaker: new SageMakerClient({ region: 'us-east-1' }), cloudwatch: new CloudWatchClient({ region: 'us-east-1' }) };
  }

  restore(): void {
    this.sagemaker.restore();
    this.cloudwatch.restore();
  }
}
