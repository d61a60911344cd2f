import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand, ListEndpointsCommand, ListModelsCommand, ListTagsCommand, SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import sharp from 'sharp';
import { encodeClassIndexPng } from '../../lambda/convert/mask';
import { S3ObjectStore } from '../../lambda/convert/s3-object-store';
import { runLocalTrainingJob, TrainingJobRequest } from './local-training';
import { unpackModelArtifact } from './model-artifact';
import { PixelModel, predictClassIndices } from './pixel-model';
import { simulateLabelingJob, LabelingJobRequest, TrueLabels } from './simulated-workforce';
import { LOCAL_ACCOUNT, LOCAL_REGION, TaskHandler } from './workflow-runner';

type Tags = { Key: string; Value: string }[];
interface LocalResource { name: string; arn: string; createdAt: Date; tags: Tags }
interface LocalModel extends LocalResource { dataUrl: string }
interface LocalConfig extends LocalResource { models: string[] }
interface LocalEndpoint extends LocalResource {
  config: string;
  status: string;
  lastModifiedAt: Date;
  failureReason?: string;
  model?: PixelModel;
  invokedAt: number[];
}

const arnOf = (kind: string, name: string) => `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${kind}/${name.toLowerCase()}`;
const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

export interface LocalSageMakerOptions {
  readonly store: S3ObjectStore;
  /** The true labels of the local images, for the simulated workforce. */
  readonly truthOf: (source: string) => TrueLabels | undefined;
  readonly log: (line: string) => void;
}

/**
 * LOCAL STAND-IN for the three SageMaker services the workflow uses: Ground Truth (a simulated
 * workforce), training (a small CPU model) and hosting (an HTTP server on 127.0.0.1 that answers
 * `InvokeEndpoint` as SageMaker's runtime does: `image/jpeg` in, an `image/png` class mask out). It keeps
 * models, endpoint configs and endpoints with their tags, answers the workflow's SageMaker states, and
 * serves the clean-up's SageMaker and CloudWatch calls from the same state.
 */
export class LocalSageMaker {
  readonly models = new Map<string, LocalModel>();
  readonly configs = new Map<string, LocalConfig>();
  readonly endpoints = new Map<string, LocalEndpoint>();
  private server?: Server;
  private url?: string;

  constructor(private readonly options: LocalSageMakerOptions) {}

  /** Starts the runtime endpoint server; returns its URL (the `--endpoint-url` of `segpipe predict`). */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.invoke(req, res).catch((err: Error) => this.error(res, 500, 'InternalFailure', err.message));
    });
    // As for the embedded S3 server: idle keep-alive sockets outlive the pauses between requests.
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Handlers of the workflow's SageMaker states, by state name. */
  tasks(): Record<string, TaskHandler> {
    const { store, log } = this.options;
    const now = () => new Date();
    return {
      Label: async (request) => {
        const req = request as LabelingJobRequest;
        log(`LOCAL STAND-IN labeling: a simulated workforce paints ${req.LabelingJobName}'s images from the scenes' true masks, as Ground Truth writes them`);
        return simulateLabelingJob(store, req, this.options.truthOf);
      },
      Train: async (request) => runLocalTrainingJob(store, request as TrainingJobRequest, log),
      'Create model': async (request) => {
        const req = request as { ModelName: string; PrimaryContainer: { ModelDataUrl: string }; Tags?: Tags };
        this.models.set(req.ModelName, { name: req.ModelName, arn: arnOf('model', req.ModelName), createdAt: now(), tags: req.Tags ?? [], dataUrl: req.PrimaryContainer.ModelDataUrl });
        return { ModelArn: arnOf('model', req.ModelName) };
      },
      'Create endpoint config': async (request) => {
        const req = request as { EndpointConfigName: string; ProductionVariants: { ModelName: string }[]; Tags?: Tags };
        const missing = req.ProductionVariants.map((v) => v.ModelName).filter((m) => !this.models.has(m));
        if (missing.length) throw validation(`Could not find model "${arnOf('model', missing[0])}".`);
        this.configs.set(req.EndpointConfigName, {
          name: req.EndpointConfigName, arn: arnOf('endpoint-config', req.EndpointConfigName), createdAt: now(), tags: req.Tags ?? [], models: req.ProductionVariants.map((v) => v.ModelName),
        });
        return { EndpointConfigArn: arnOf('endpoint-config', req.EndpointConfigName) };
      },
      'Find endpoint': async (request) => this.listEndpoints((request as { NameContains?: string }).NameContains),
      'Create endpoint': async (request) => {
        const req = request as { EndpointName: string; EndpointConfigName: string; Tags?: Tags };
        if (this.endpoints.has(req.EndpointName)) throw validation(`Cannot create already existing endpoint "${arnOf('endpoint', req.EndpointName)}".`);
        const endpoint: LocalEndpoint = {
          name: req.EndpointName, arn: arnOf('endpoint', req.EndpointName), createdAt: now(), lastModifiedAt: now(), tags: req.Tags ?? [], config: req.EndpointConfigName, status: 'Creating', invokedAt: [],
        };
        this.endpoints.set(req.EndpointName, endpoint);
        this.deploy(endpoint, req.EndpointConfigName);
        return { EndpointArn: endpoint.arn };
      },
      'Update endpoint': async (request) => {
        const req = request as { EndpointName: string; EndpointConfigName: string };
        const endpoint = this.endpoints.get(req.EndpointName);
        if (!endpoint) throw validation(`Could not find endpoint "${arnOf('endpoint', req.EndpointName)}".`);
        endpoint.status = 'Updating';
        endpoint.lastModifiedAt = now();
        this.deploy(endpoint, req.EndpointConfigName);
        return { EndpointArn: endpoint.arn };
      },
      'Describe endpoint': async (request) => this.describeEndpoint((request as { EndpointName: string }).EndpointName),
      'Delete endpoint config': async (request) => this.deleteConfig((request as { EndpointConfigName: string }).EndpointConfigName),
      'Delete model': async (request) => this.deleteModel((request as { ModelName: string }).ModelName),
    };
  }

  /** A SageMaker client whose calls this stand-in answers: the clean-up runs against it unchanged. */
  sagemakerClient(): SageMakerClient {
    const send = async (command: unknown): Promise<unknown> => {
      if (command instanceof ListEndpointsCommand) return this.listEndpoints(command.input.NameContains);
      if (command instanceof ListEndpointConfigsCommand) {
        return { EndpointConfigs: [...this.configs.values()].filter((c) => c.name.includes(command.input.NameContains ?? '')).map((c) => ({ EndpointConfigName: c.name, EndpointConfigArn: c.arn, CreationTime: c.createdAt })) };
      }
      if (command instanceof ListModelsCommand) {
        return { Models: [...this.models.values()].filter((m) => m.name.includes(command.input.NameContains ?? '')).map((m) => ({ ModelName: m.name, ModelArn: m.arn, CreationTime: m.createdAt })) };
      }
      if (command instanceof ListTagsCommand) {
        const resource = [...this.endpoints.values(), ...this.configs.values(), ...this.models.values()].find((r) => r.arn === command.input.ResourceArn);
        if (!resource) throw validation(`Could not find resource "${command.input.ResourceArn}".`);
        return { Tags: resource.tags };
      }
      if (command instanceof DescribeEndpointCommand) return this.describeEndpoint(command.input.EndpointName!);
      if (command instanceof DescribeEndpointConfigCommand) {
        const config = this.configs.get(command.input.EndpointConfigName!);
        if (!config) throw validation(`Could not find endpoint configuration "${arnOf('endpoint-config', command.input.EndpointConfigName!)}".`);
        return { EndpointConfigName: config.name, ProductionVariants: config.models.map((ModelName) => ({ VariantName: 'AllTraffic', ModelName })) };
      }
      if (command instanceof DeleteEndpointCommand) return this.deleteEndpoint(command.input.EndpointName!);
      if (command instanceof DeleteEndpointConfigCommand) return this.deleteConfig(command.input.EndpointConfigName!);
      if (command instanceof DeleteModelCommand) return this.deleteModel(command.input.ModelName!);
      throw new Error(`the local SageMaker stand-in does not answer ${(command as object).constructor.name}`);
    };
    return { send } as unknown as SageMakerClient;
  }

  /** A CloudWatch client answering `Invocations` sums from the requests the local endpoints served. */
  cloudwatchClient(): CloudWatchClient {
    const send = async (command: unknown): Promise<unknown> => {
      if (!(command instanceof GetMetricStatisticsCommand)) throw new Error(`the local CloudWatch stand-in does not answer ${(command as object).constructor.name}`);
      const name = command.input.Dimensions?.find((d) => d.Name === 'EndpointName')?.Value ?? '';
      const from = command.input.StartTime!.getTime();
      const to = command.input.EndTime!.getTime();
      const count = (this.endpoints.get(name)?.invokedAt ?? []).filter((t) => t >= from && t <= to).length;
      return { Label: 'Invocations', Datapoints: count > 0 ? [{ Timestamp: new Date(from), Sum: count, Unit: 'None' }] : [] };
    };
    return { send } as unknown as CloudWatchClient;
  }

  /** ListEndpoints, for the workflow's state and for the clean-up alike. */
  private listEndpoints(nameContains = '') {
    return {
      Endpoints: [...this.endpoints.values()].filter((e) => e.name.includes(nameContains)).map((e) => ({
        EndpointName: e.name, EndpointArn: e.arn, CreationTime: e.createdAt, LastModifiedTime: e.lastModifiedAt, EndpointStatus: e.status,
      })),
    };
  }

  private describeEndpoint(name: string) {
    const e = this.endpoints.get(name);
    if (!e) throw validation(`Could not find endpoint "${arnOf('endpoint', name)}".`);
    return {
      EndpointName: e.name, EndpointArn: e.arn, EndpointConfigName: e.config, EndpointStatus: e.status, CreationTime: e.createdAt, LastModifiedTime: e.lastModifiedAt,
      ProductionVariants: [{ VariantName: 'AllTraffic' }], ...(e.failureReason ? { FailureReason: e.failureReason } : {}),
    };
  }

  /** Loads the config's model from its artifact in S3, then serves it; a model that will not load fails the endpoint. */
  private deploy(endpoint: LocalEndpoint, configName: string): void {
    const config = this.configs.get(configName);
    const model = config && this.models.get(config.models[0]);
    const load = model ? this.options.store.read(model.dataUrl).then(unpackModelArtifact) : Promise.reject(new Error(`endpoint config ${configName} or its model is missing`));
    load.then((loaded) => {
      Object.assign(endpoint, { model: loaded, config: configName, status: 'InService', lastModifiedAt: new Date() });
      this.options.log(`LOCAL STAND-IN hosting: endpoint ${endpoint.name} serves ${model!.name} at ${this.url}/endpoints/${endpoint.name}/invocations`);
    }, (err: Error) => {
      Object.assign(endpoint, { status: 'Failed', failureReason: `the local model did not load: ${err.message}` });
    });
  }

  private deleteEndpoint(name: string) {
    if (!this.endpoints.delete(name)) throw validation(`Could not find endpoint "${arnOf('endpoint', name)}".`);
    return {};
  }

  private deleteConfig(name: string) {
    if (!this.configs.delete(name)) throw validation(`Could not find endpoint configuration "${arnOf('endpoint-config', name)}".`);
    return {};
  }

  private deleteModel(name: string) {
    if (!this.models.delete(name)) throw validation(`Could not find model "${arnOf('model', name)}".`);
    return {};
  }

  /** `POST /endpoints/<name>/invocations`, as the SageMaker runtime's InvokeEndpoint. */
  private async invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return this.error(res, 404, 'UnknownOperationException', `no such operation: ${req.method} ${req.url}`);
    const name = decodeURIComponent(match[1]);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return this.error(res, 400, 'ValidationError', `Endpoint ${name} of account ${LOCAL_ACCOUNT} not found.`);
    if (endpoint.status !== 'InService' || !endpoint.model) return this.error(res, 400, 'ValidationError', `Endpoint ${name} is ${endpoint.status}, not InService.`);
    const contentType = String(req.headers['content-type'] ?? '');
    if (!['image/jpeg', 'image/png', 'application/x-image'].includes(contentType)) return this.error(res, 400, 'ValidationError', `unsupported ContentType ${contentType}; send image/jpeg`);
    const accept = String(req.headers.accept ?? 'image/png');
    if (!accept.includes('image/png')) return this.error(res, 400, 'ValidationError', `unsupported Accept ${accept}; ask for image/png`);
    endpoint.invokedAt.push(Date.now());
    let image;
    try {
      image = await sharp(body).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      return this.error(res, 424, 'ModelError', `the image could not be decoded: ${(err as Error).message}`);
    }
    const mask = predictClassIndices(endpoint.model, image.data, image.info.width, image.info.height);
    const png = await encodeClassIndexPng(Buffer.from(mask), image.info.width, image.info.height);
    res.writeHead(200, { 'content-type': 'image/png', 'x-amzn-invoked-production-variant': 'AllTraffic', 'content-length': png.length });
    res.end(png);
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ message }));
  }
}
