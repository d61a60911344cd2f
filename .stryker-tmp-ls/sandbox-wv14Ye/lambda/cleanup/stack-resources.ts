// @ts-nocheck
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListLabelingJobsCommand,
  ListModelsCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { isAccessDenied, isNotFound } from '../common/aws-calls';
import { STACK_TAG_KEY } from '../workflow/names';

/** Endpoint states in which SageMaker is still working: a delete fails, and the config in use may change. */
export const ENDPOINT_CHANGING_STATES: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

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
  readonly status: string;
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
  ) {}

  /** The stack's endpoints. */
  async endpoints(): Promise<StackEndpoint[]> {
    return (await this.endpointsUnderPrefix()).filter((e) => e.ours);
  }

  /**
   * Every endpoint named under the stack's prefix, tagged or not: one made by hand from the stack's
   * endpoint config (a redeploy without `--tags`) still uses that config.
   */
  async endpointsUnderPrefix(): Promise<(StackEndpoint & { readonly ours: boolean })[]> {
    const NameContains = this.identity.resourcePrefix;
    const listed = this.underPrefix(
      await this.listAll(
        (NextToken) => this.sagemaker.send(new ListEndpointsCommand({ NameContains, MaxResults: 100, NextToken })),
        (page) =>
          (page.Endpoints ?? []).map(
            (e): StackEndpoint => ({
              kind: 'endpoint',
              name: e.EndpointName!,
              arn: e.EndpointArn!,
              createdAt: new Date(e.CreationTime!),
              lastModifiedAt: new Date(e.LastModifiedTime ?? e.CreationTime!),
              status: e.EndpointStatus ?? 'Unknown',
            }),
          ),
      ),
    );
    const ours = new Set(await this.tagged(listed));
    return listed.map((e) => ({ ...e, ours: ours.has(e) }));
  }

  async endpointConfigs(): Promise<StackResource[]> {
    const NameContains = this.identity.resourcePrefix;
    return this.tagged(
      this.underPrefix(
        await this.listAll(
          (NextToken) => this.sagemaker.send(new ListEndpointConfigsCommand({ NameContains, MaxResults: 100, NextToken })),
          (page) =>
            (page.EndpointConfigs ?? []).map(
              (c): StackResource => ({
                kind: 'endpoint-config',
                name: c.EndpointConfigName!,
                arn: c.EndpointConfigArn!,
                createdAt: new Date(c.CreationTime!),
              }),
            ),
        ),
      ),
    );
  }

  async models(): Promise<StackResource[]> {
    const NameContains = this.identity.resourcePrefix;
    return this.tagged(
      this.underPrefix(
        await this.listAll(
          (NextToken) => this.sagemaker.send(new ListModelsCommand({ NameContains, MaxResults: 100, NextToken })),
          (page) =>
            (page.Models ?? []).map(
              (m): StackResource => ({ kind: 'model', name: m.ModelName!, arn: m.ModelArn!, createdAt: new Date(m.CreationTime!) }),
            ),
        ),
      ),
    );
  }

  /** The stack's training and labeling jobs that have not ended: they bill until they stop. */
  async unfinishedJobs(): Promise<StackJob[]> {
    const jobs: StackJob[] = [];
    const NameContains = this.identity.resourcePrefix;
    for (const status of ['InProgress', 'Stopping'] as const) {
      jobs.push(
        ...(await this.listAll(
          (NextToken) =>
            this.sagemaker.send(new ListTrainingJobsCommand({ NameContains, StatusEquals: status, MaxResults: 100, NextToken })),
          (page) =>
            (page.TrainingJobSummaries ?? []).map(
              (job): StackJob => ({ kind: 'training-job', name: job.TrainingJobName!, arn: job.TrainingJobArn!, status }),
            ),
        )),
      );
    }
    for (const status of ['Initializing', 'InProgress', 'Stopping'] as const) {
      jobs.push(
        ...(await this.listAll(
          (NextToken) =>
            this.sagemaker.send(new ListLabelingJobsCommand({ NameContains, StatusEquals: status, MaxResults: 100, NextToken })),
          (page) =>
            (page.LabelingJobSummaryList ?? []).map(
              (job): StackJob => ({ kind: 'labeling-job', name: job.LabelingJobName!, arn: job.LabelingJobArn!, status }),
            ),
        )),
      );
    }
    return this.tagged(this.underPrefix(jobs));
  }

  /**
   * `NameContains` matches anywhere in a name; the stack's resources start with `<prefix>-`, and IAM
   * lets the stack read the tags of nothing else.
   */
  private underPrefix<T extends { readonly name: string }>(resources: T[]): T[] {
    return resources.filter((r) => r.name.toLowerCase().startsWith(`${this.identity.resourcePrefix}-`));
  }

  /** Every page of a SageMaker listing. */
  private async listAll<Page extends { NextToken?: string }, T>(
    fetch: (nextToken?: string) => Promise<Page>,
    items: (page: Page) => T[],
  ): Promise<T[]> {
    const found: T[] = [];
    let nextToken: string | undefined;
    do {
      const page = await fetch(nextToken);
      found.push(...items(page));
      nextToken = page.NextToken;
    } while (nextToken);
    return found;
  }

  /**
   * The endpoint's config, status, the variants that take traffic, and failure reason; undefined once
   * it is gone. A variant at zero weight (a run's challenger under evaluation) is left out: the
   * evaluation's requests to it never make an endpoint look used.
   */
  async describeEndpoint(
    name: string,
  ): Promise<{ config?: string; variants: string[]; failureReason?: string; status?: string } | undefined> {
    try {
      const endpoint = await this.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
      return {
        config: endpoint.EndpointConfigName,
        variants: (endpoint.ProductionVariants ?? [])
          .filter((v) => v.CurrentWeight === undefined || v.CurrentWeight > 0)
          .map((v) => v.VariantName!)
          .filter(Boolean),
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
      const config = await this.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
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
        const page = await this.sagemaker.send(new ListTagsCommand({ ResourceArn: arn, MaxResults: 100, NextToken }));
        if ((page.Tags ?? []).some((tag) => tag.Key === STACK_TAG_KEY && tag.Value === this.identity.stackName)) return true;
        NextToken = page.NextToken;
      } while (NextToken);
    } catch (err) {
      // Deleted between the listing and now, or not readable by the stack's role: not ours to touch.
      if (isNotFound(err) || isAccessDenied(err)) return false;
      throw err;
    }
    return false;
  }
}
