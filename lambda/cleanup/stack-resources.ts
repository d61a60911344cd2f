import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListLabelingJobsCommand,
  ListModelsCommand,
  ListTrainingJobsCommand,
  ListTagsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { RetryOptions, isNotFound, withThrottlingRetry } from '../shared/aws-calls';
import { STACK_TAG_KEY } from '../workflow/names';

/** The three kinds of SageMaker resource a deployment leaves standing. */
export type ResourceKind = 'endpoint' | 'endpoint-config' | 'model';

export interface StackResource {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly arn: string;
  readonly createdAt: Date;
}

export interface StackEndpoint extends StackResource {
  readonly kind: 'endpoint';
  readonly status: string;
  readonly lastModifiedAt: Date;
}

export interface StackJob {
  readonly kind: 'training-job' | 'labeling-job';
  readonly name: string;
  readonly arn: string;
}

/** Which stack's resources to find: names narrow the listing, the tag decides. */
export interface StackIdentity {
  /** Value of the `segpipe:stack` tag. */
  readonly stackName: string;
  /** The lower-case prefix of the stack's SageMaker names. */
  readonly resourcePrefix: string;
}

/**
 * Reads SageMaker for one stack's resources. Listing is narrowed by the name prefix, but only the
 * `segpipe:stack` tag makes a resource the stack's: another stack may share the prefix, and a user
 * may have named something alike by hand.
 */
export class StackResources {
  constructor(
    private readonly sagemaker: SageMakerClient,
    private readonly identity: StackIdentity,
    private readonly retry: RetryOptions = {},
  ) {}

  call<T>(request: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(request, this.retry);
  }

  async endpoints(): Promise<StackEndpoint[]> {
    const NameContains = this.identity.resourcePrefix;
    return this.tagged(await this.listAll(
      (NextToken) => this.sagemaker.send(new ListEndpointsCommand({ NameContains, MaxResults: 100, NextToken })),
      (page) => (page.Endpoints ?? []).map((e): StackEndpoint => ({
        kind: 'endpoint', name: e.EndpointName!, arn: e.EndpointArn!, createdAt: new Date(e.CreationTime!),
        lastModifiedAt: new Date(e.LastModifiedTime ?? e.CreationTime!), status: e.EndpointStatus ?? 'Unknown',
      })),
    ));
  }

  async endpointConfigs(): Promise<StackResource[]> {
    const NameContains = this.identity.resourcePrefix;
    return this.tagged(await this.listAll(
      (NextToken) => this.sagemaker.send(new ListEndpointConfigsCommand({ NameContains, MaxResults: 100, NextToken })),
      (page) => (page.EndpointConfigs ?? []).map((c): StackResource => ({ kind: 'endpoint-config', name: c.EndpointConfigName!, arn: c.EndpointConfigArn!, createdAt: new Date(c.CreationTime!) })),
    ));
  }

  async models(): Promise<StackResource[]> {
    const NameContains = this.identity.resourcePrefix;
    return this.tagged(await this.listAll(
      (NextToken) => this.sagemaker.send(new ListModelsCommand({ NameContains, MaxResults: 100, NextToken })),
      (page) => (page.Models ?? []).map((m): StackResource => ({ kind: 'model', name: m.ModelName!, arn: m.ModelArn!, createdAt: new Date(m.CreationTime!) })),
    ));
  }

  /** The stack's training and labeling jobs that are still running (`InProgress`), which bill until they stop. */
  async runningJobs(): Promise<StackJob[]> {
    const filter = { NameContains: this.identity.resourcePrefix, StatusEquals: 'InProgress' as const, MaxResults: 100 };
    const training = await this.listAll(
      (NextToken) => this.sagemaker.send(new ListTrainingJobsCommand({ ...filter, NextToken })),
      (page) => (page.TrainingJobSummaries ?? []).map((job): StackJob => ({ kind: 'training-job', name: job.TrainingJobName!, arn: job.TrainingJobArn! })),
    );
    const labeling = await this.listAll(
      (NextToken) => this.sagemaker.send(new ListLabelingJobsCommand({ ...filter, NextToken })),
      (page) => (page.LabelingJobSummaryList ?? []).map((job): StackJob => ({ kind: 'labeling-job', name: job.LabelingJobName!, arn: job.LabelingJobArn! })),
    );
    return this.tagged([...training, ...labeling]);
  }

  /** Every page of a SageMaker listing, each page's call retried on throttling. */
  private async listAll<Page extends { NextToken?: string }, T>(fetch: (nextToken?: string) => Promise<Page>, items: (page: Page) => T[]): Promise<T[]> {
    const found: T[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(() => fetch(nextToken));
      found.push(...items(page));
      nextToken = page.NextToken;
    } while (nextToken);
    return found;
  }

  /** The endpoint's config, variants and failure reason; undefined once it is gone. */
  async describeEndpoint(name: string): Promise<{ config?: string; variants: string[]; failureReason?: string; status?: string } | undefined> {
    try {
      const endpoint = await this.call(() => this.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })));
      return {
        config: endpoint.EndpointConfigName,
        variants: (endpoint.ProductionVariants ?? []).map((v) => v.VariantName!).filter(Boolean),
        failureReason: endpoint.FailureReason,
        status: endpoint.EndpointStatus,
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The models an endpoint config serves; undefined once it is gone. */
  async modelsOfConfig(name: string): Promise<string[] | undefined> {
    try {
      const config = await this.call(() => this.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })));
      return (config.ProductionVariants ?? []).map((v) => v.ModelName!).filter(Boolean);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async tagged<T extends { readonly arn: string }>(resources: T[]): Promise<T[]> {
    const result: T[] = [];
    for (const resource of resources) {
      if (await this.isStacks(resource.arn)) result.push(resource);
    }
    return result;
  }

  private async isStacks(arn: string): Promise<boolean> {
    let NextToken: string | undefined;
    try {
      do {
        const page = await this.call(() => this.sagemaker.send(new ListTagsCommand({ ResourceArn: arn, MaxResults: 100, NextToken })));
        if ((page.Tags ?? []).some((tag) => tag.Key === STACK_TAG_KEY && tag.Value === this.identity.stackName)) return true;
        NextToken = page.NextToken;
      } while (NextToken);
    } catch (err) {
      // Deleted between the listing and now: not ours to touch any more.
      if (isNotFound(err)) return false;
      throw err;
    }
    return false;
  }
}
