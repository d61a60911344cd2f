import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import sharp from 'sharp';
import { INVOKE_BODY_LIMIT } from '../lambda/common/endpoint-payload';
import { encodeClassIndexPng } from '../lambda/convert/codecs/mask';
import type { S3ObjectStore } from '../lambda/convert/stores/s3-object-store';
import { runLocalTrainingJob, type TrainingJobRequest } from './local-training';
import { unpackModelArtifact } from './model-artifact';
import { type PixelModel, predictClassIndices } from './pixel-model';
import { LocalPyTorchModel } from './pytorch-serving';
import { isPyTorchTrainingJob, type PyTorchTrainingJobRequest, runLocalPyTorchTrainingJob } from './pytorch-training';
import { type LabelingJobRequest, simulateLabelingJob, type TrueLabels } from './simulated-workforce';
import { type AslDefinition, allStates, LOCAL_ACCOUNT, LOCAL_REGION, type TaskHandler } from './workflow-runner';

type Tags = { Key: string; Value: string }[];
interface LocalResource {
  name: string;
  arn: string;
  createdAt: Date;
  tags: Tags;
}
/** `image`: the container's image, which decides how the model serves (absent in state files of older runs: the built-in's). */
interface LocalModel extends LocalResource {
  dataUrl: string;
  image?: string;
}
interface LocalVariantSpec {
  name: string;
  model: string;
  weight: number;
}
interface LocalConfig extends LocalResource {
  models: string[];
  variants: LocalVariantSpec[];
}
interface LocalVariant extends LocalVariantSpec {
  loaded: PixelModel | LocalPyTorchModel;
}
interface LocalEndpoint extends LocalResource {
  config: string;
  status: string;
  lastModifiedAt: Date;
  failureReason?: string;
  /** The variants serving, with their current weights; none until the first config has loaded. */
  variants: LocalVariant[];
  /** When each request came, and which variant served it (CloudWatch's `VariantName` dimension). */
  invokedAt: { time: number; variant: string }[];
}
/** What the state file keeps: everything but the loaded models, which are read again from their artifacts. */
interface SavedState {
  models: LocalModel[];
  configs: LocalConfig[];
  endpoints: (Omit<LocalEndpoint, 'variants'> & { variants: LocalVariantSpec[] })[];
}

const arnOf = (kind: string, name: string) => `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${kind}/${name.toLowerCase()}`;
const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

export interface LocalSageMakerOptions {
  readonly store: S3ObjectStore;
  /** The true labels of the local images, for the simulated workforce. */
  readonly truthOf: (source: string) => TrueLabels | undefined;
  readonly log: (line: string) => void;
  /**
   * A file that keeps the models, configs and endpoints between runs (the local run's data folder):
   * a second run in the same folder finds the first one's endpoint serving, as in an AWS account.
   * @default - kept in memory only
   */
  readonly stateFile?: string;
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
  /** The serving processes of PyTorch models, ended on close. */
  private readonly pytorchModels = new Set<LocalPyTorchModel>();
  private url?: string;

  constructor(private readonly options: LocalSageMakerOptions) {}

  /** Starts the runtime endpoint server (after loading the state file's endpoints); returns its URL (the `--endpoint-url` of `segpipe predict`). */
  async start(port = 0): Promise<string> {
    await this.restore();
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
    for (const model of this.pytorchModels) model.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * Handlers of the workflow's SageMaker states: labeling and training by state name, every endpoint
   * call by its action (several states describe or update the endpoint).
   */
  tasks(definition: AslDefinition): Record<string, TaskHandler> {
    const { store, log } = this.options;
    const now = () => new Date();
    const byAction: Record<string, TaskHandler> = {
      'sagemaker:createModel': async (request) => {
        const req = request as { ModelName: string; PrimaryContainer: { Image: string; ModelDataUrl: string }; Tags?: Tags };
        this.models.set(req.ModelName, {
          name: req.ModelName,
          arn: arnOf('model', req.ModelName),
          createdAt: now(),
          tags: req.Tags ?? [],
          dataUrl: req.PrimaryContainer.ModelDataUrl,
          image: req.PrimaryContainer.Image,
        });
        this.save();
        return { ModelArn: arnOf('model', req.ModelName) };
      },
      'sagemaker:createEndpointConfig': async (request) => {
        const req = request as {
          EndpointConfigName: string;
          ProductionVariants: { VariantName: string; ModelName: string; InitialVariantWeight?: number }[];
          Tags?: Tags;
        };
        const missing = req.ProductionVariants.map((v) => v.ModelName).filter((m) => !this.models.has(m));
        if (missing.length) throw validation(`Could not find model "${arnOf('model', missing[0])}".`);
        this.configs.set(req.EndpointConfigName, {
          name: req.EndpointConfigName,
          arn: arnOf('endpoint-config', req.EndpointConfigName),
          createdAt: now(),
          tags: req.Tags ?? [],
          models: req.ProductionVariants.map((v) => v.ModelName),
          variants: req.ProductionVariants.map((v) => ({ name: v.VariantName, model: v.ModelName, weight: v.InitialVariantWeight ?? 1 })),
        });
        this.save();
        return { EndpointConfigArn: arnOf('endpoint-config', req.EndpointConfigName) };
      },
      'aws-sdk:sagemaker:listEndpoints': async (request) => this.listEndpoints((request as { NameContains?: string }).NameContains),
      'sagemaker:createEndpoint': async (request) => {
        const req = request as { EndpointName: string; EndpointConfigName: string; Tags?: Tags };
        if (this.endpoints.has(req.EndpointName))
          throw validation(`Cannot create already existing endpoint "${arnOf('endpoint', req.EndpointName)}".`);
        const endpoint: LocalEndpoint = {
          name: req.EndpointName,
          arn: arnOf('endpoint', req.EndpointName),
          createdAt: now(),
          lastModifiedAt: now(),
          tags: req.Tags ?? [],
          config: req.EndpointConfigName,
          status: 'Creating',
          variants: [],
          invokedAt: [],
        };
        this.endpoints.set(req.EndpointName, endpoint);
        this.deploy(endpoint, req.EndpointConfigName);
        return { EndpointArn: endpoint.arn };
      },
      'sagemaker:updateEndpoint': async (request) => {
        const req = request as { EndpointName: string; EndpointConfigName: string };
        const endpoint = this.changeableEndpoint(req.EndpointName);
        endpoint.status = 'Updating';
        endpoint.lastModifiedAt = now();
        this.deploy(endpoint, req.EndpointConfigName);
        return { EndpointArn: endpoint.arn };
      },
      'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities': async (request) => {
        const req = request as { EndpointName: string; DesiredWeightsAndCapacities: { VariantName: string; DesiredWeight?: number }[] };
        const endpoint = this.changeableEndpoint(req.EndpointName);
        const unknown = req.DesiredWeightsAndCapacities.find((d) => !endpoint.variants.some((v) => v.name === d.VariantName));
        if (unknown)
          throw validation(`The variant(s) "[${unknown.VariantName}]" are not present in endpoint "${arnOf('endpoint', endpoint.name)}".`);
        endpoint.status = 'Updating';
        endpoint.lastModifiedAt = now();
        setImmediate(() => {
          for (const desired of req.DesiredWeightsAndCapacities) {
            const variant = endpoint.variants.find((v) => v.name === desired.VariantName)!;
            if (desired.DesiredWeight !== undefined) variant.weight = desired.DesiredWeight;
          }
          endpoint.status = 'InService';
          log(
            `LOCAL STAND-IN hosting: endpoint ${endpoint.name} weights ${endpoint.variants.map((v) => `${v.name} ${v.weight}`).join(', ')}`,
          );
          this.save();
        });
        return { EndpointArn: endpoint.arn };
      },
      'aws-sdk:sagemaker:describeEndpoint': async (request) => this.describeEndpoint((request as { EndpointName: string }).EndpointName),
      'aws-sdk:sagemaker:describeModel': async (request) => {
        const model = this.models.get((request as { ModelName: string }).ModelName);
        if (!model) throw validation(`Could not find model "${arnOf('model', (request as { ModelName: string }).ModelName)}".`);
        return {
          ModelName: model.name,
          ModelArn: model.arn,
          CreationTime: model.createdAt,
          PrimaryContainer: { Image: model.image, ModelDataUrl: model.dataUrl },
        };
      },
      'aws-sdk:sagemaker:describeEndpointConfig': async (request) =>
        this.describeEndpointConfig((request as { EndpointConfigName: string }).EndpointConfigName),
      'aws-sdk:sagemaker:deleteEndpoint': async (request) => this.deleteEndpoint((request as { EndpointName: string }).EndpointName),
      'aws-sdk:sagemaker:deleteEndpointConfig': async (request) =>
        this.deleteConfig((request as { EndpointConfigName: string }).EndpointConfigName),
      'aws-sdk:sagemaker:deleteModel': async (request) => this.deleteModel((request as { ModelName: string }).ModelName),
    };
    const tasks: Record<string, TaskHandler> = {
      Label: async (request) => {
        const req = request as LabelingJobRequest;
        log(
          `LOCAL STAND-IN labeling: a simulated workforce paints ${req.LabelingJobName}'s images from the scenes' true masks, as Ground Truth writes them`,
        );
        return simulateLabelingJob(store, req, this.options.truthOf);
      },
      Train: async (request) =>
        isPyTorchTrainingJob(request as PyTorchTrainingJobRequest)
          ? runLocalPyTorchTrainingJob(store, request as PyTorchTrainingJobRequest, log)
          : runLocalTrainingJob(store, request as TrainingJobRequest, log),
    };
    for (const [name, state] of allStates(definition)) {
      const action = /:states:::(.+)$/.exec(String(state.Resource ?? ''))?.[1];
      if (action && byAction[action]) tasks[name] = byAction[action];
    }
    return tasks;
  }

  /** A SageMaker client whose calls this stand-in answers: the clean-up runs against it unchanged. */
  sagemakerClient(): SageMakerClient {
    const send = async (command: unknown): Promise<unknown> => {
      if (command instanceof ListEndpointsCommand) return this.listEndpoints(command.input.NameContains);
      if (command instanceof ListEndpointConfigsCommand) {
        return {
          EndpointConfigs: [...this.configs.values()]
            .filter((c) => c.name.includes(command.input.NameContains ?? ''))
            .map((c) => ({ EndpointConfigName: c.name, EndpointConfigArn: c.arn, CreationTime: c.createdAt })),
        };
      }
      if (command instanceof ListModelsCommand) {
        return {
          Models: [...this.models.values()]
            .filter((m) => m.name.includes(command.input.NameContains ?? ''))
            .map((m) => ({ ModelName: m.name, ModelArn: m.arn, CreationTime: m.createdAt })),
        };
      }
      if (command instanceof ListTagsCommand) {
        const resource = [...this.endpoints.values(), ...this.configs.values(), ...this.models.values()].find(
          (r) => r.arn === command.input.ResourceArn,
        );
        if (!resource) throw validation(`Could not find resource "${command.input.ResourceArn}".`);
        return { Tags: resource.tags };
      }
      if (command instanceof DescribeEndpointCommand) return this.describeEndpoint(command.input.EndpointName!);
      if (command instanceof DescribeEndpointConfigCommand) return this.describeEndpointConfig(command.input.EndpointConfigName!);
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
      if (!(command instanceof GetMetricStatisticsCommand))
        throw new Error(`the local CloudWatch stand-in does not answer ${(command as object).constructor.name}`);
      const name = command.input.Dimensions?.find((d) => d.Name === 'EndpointName')?.Value ?? '';
      const variant = command.input.Dimensions?.find((d) => d.Name === 'VariantName')?.Value;
      const from = command.input.StartTime!.getTime();
      const to = command.input.EndTime!.getTime();
      const count = (this.endpoints.get(name)?.invokedAt ?? []).filter(
        (i) => i.time >= from && i.time <= to && (variant === undefined || i.variant === variant),
      ).length;
      return { Label: 'Invocations', Datapoints: count > 0 ? [{ Timestamp: new Date(from), Sum: count, Unit: 'None' }] : [] };
    };
    return { send } as unknown as CloudWatchClient;
  }

  /** ListEndpoints, for the workflow's state and for the clean-up alike. */
  private listEndpoints(nameContains = '') {
    return {
      Endpoints: [...this.endpoints.values()]
        .filter((e) => e.name.includes(nameContains))
        .map((e) => ({
          EndpointName: e.name,
          EndpointArn: e.arn,
          CreationTime: e.createdAt,
          LastModifiedTime: e.lastModifiedAt,
          EndpointStatus: e.status,
        })),
    };
  }

  private describeEndpoint(name: string) {
    const e = this.endpoints.get(name);
    if (!e) throw validation(`Could not find endpoint "${arnOf('endpoint', name)}".`);
    return {
      EndpointName: e.name,
      EndpointArn: e.arn,
      EndpointConfigName: e.config,
      EndpointStatus: e.status,
      CreationTime: e.createdAt,
      LastModifiedTime: e.lastModifiedAt,
      ProductionVariants: e.variants.map((v) => ({
        VariantName: v.name,
        CurrentWeight: v.weight,
        DesiredWeight: v.weight,
        CurrentInstanceCount: 1,
      })),
      ...(e.failureReason ? { FailureReason: e.failureReason } : {}),
    };
  }

  private describeEndpointConfig(name: string) {
    const config = this.configs.get(name);
    if (!config) throw validation(`Could not find endpoint configuration "${arnOf('endpoint-config', name)}".`);
    return {
      EndpointConfigName: config.name,
      EndpointConfigArn: config.arn,
      CreationTime: config.createdAt,
      ProductionVariants: config.variants.map((v) => ({
        VariantName: v.name,
        ModelName: v.model,
        InstanceType: 'ml.c5.xlarge',
        InitialInstanceCount: 1,
        InitialVariantWeight: v.weight,
      })),
    };
  }

  /** An endpoint a change may start on: SageMaker refuses one that is changing already. */
  private changeableEndpoint(name: string): LocalEndpoint {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw validation(`Could not find endpoint "${arnOf('endpoint', name)}".`);
    if (endpoint.status !== 'InService') throw validation(`Cannot update in-progress endpoint "${endpoint.arn}".`);
    return endpoint;
  }

  /**
   * Loads every model of the config from its artifact in S3, then serves them. A config that will not
   * load fails a new endpoint, and rolls an update back (InService on the config it was on), as SageMaker does.
   */
  private deploy(endpoint: LocalEndpoint, configName: string): void {
    const config = this.configs.get(configName);
    const creating = endpoint.status === 'Creating';
    const load = config
      ? Promise.all(
          config.variants.map(async (v) => {
            const model = this.models.get(v.model);
            if (!model) throw new Error(`model ${v.model} of endpoint config ${configName} is missing`);
            return { ...v, loaded: await this.loadModel(model) };
          }),
        )
      : Promise.reject(new Error(`endpoint config ${configName} is missing`));
    load.then(
      (variants) => {
        Object.assign(endpoint, {
          variants,
          config: configName,
          status: 'InService',
          lastModifiedAt: new Date(),
          failureReason: undefined,
        });
        this.options.log(
          `LOCAL STAND-IN hosting: endpoint ${endpoint.name} serves ${variants.map((v) => `${v.model} as variant ${v.name} (weight ${v.weight})`).join(' and ')} at ${this.url}/endpoints/${endpoint.name}/invocations`,
        );
        this.save();
      },
      (err: Error) => {
        const failureReason = `the local model did not load: ${err.message}`;
        Object.assign(endpoint, creating ? { status: 'Failed', failureReason } : { status: 'InService', failureReason });
        this.save();
      },
    );
  }

  /** The state file's models, configs and endpoints; its endpoints serve again once their models are loaded. */
  private async restore(): Promise<void> {
    const file = this.options.stateFile;
    if (!file || !existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8'), (key, value) =>
      /At$/.test(key) && typeof value === 'string' ? new Date(value) : value,
    ) as SavedState;
    for (const model of saved.models) this.models.set(model.name, model);
    for (const config of saved.configs) this.configs.set(config.name, config);
    for (const endpoint of saved.endpoints) {
      const restored: LocalEndpoint = { ...endpoint, variants: [] };
      this.endpoints.set(endpoint.name, restored);
      if (endpoint.status !== 'InService') continue;
      const weights = new Map(endpoint.variants.map((v) => [v.name, v.weight]));
      restored.variants = await Promise.all(
        endpoint.variants.map(async (v) => ({ ...v, loaded: await this.loadModel(this.models.get(v.model)!) })),
      );
      for (const v of restored.variants) v.weight = weights.get(v.name) ?? v.weight;
      this.options.log(
        `LOCAL STAND-IN hosting: endpoint ${endpoint.name} from an earlier run serves ${endpoint.variants.map((v) => `${v.model} as variant ${v.name}`).join(' and ')}`,
      );
    }
  }

  /** A model as its container serves it: PyTorch's runs the model's own inference code in a local Python. */
  private async loadModel(model: LocalModel): Promise<PixelModel | LocalPyTorchModel> {
    const artifact = await this.options.store.read(model.dataUrl);
    if (!/\/pytorch-inference:/.test(model.image ?? '')) return unpackModelArtifact(artifact);
    const loaded = await LocalPyTorchModel.load(artifact);
    this.pytorchModels.add(loaded);
    this.options.log(
      `LOCAL STAND-IN hosting: model ${model.name} is served by its own code/inference.py in a local Python, in place of ${model.image}`,
    );
    return loaded;
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const state: SavedState = {
      models: [...this.models.values()],
      configs: [...this.configs.values()],
      endpoints: [...this.endpoints.values()].map((e) => ({
        ...e,
        variants: e.variants.map(({ name, model, weight }) => ({ name, model, weight })),
      })),
    };
    writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  }

  private deleteEndpoint(name: string) {
    if (!this.endpoints.delete(name)) throw validation(`Could not find endpoint "${arnOf('endpoint', name)}".`);
    this.save();
    return {};
  }

  private deleteConfig(name: string) {
    if (!this.configs.delete(name)) throw validation(`Could not find endpoint configuration "${arnOf('endpoint-config', name)}".`);
    this.save();
    return {};
  }

  private deleteModel(name: string) {
    if (!this.models.delete(name)) throw validation(`Could not find model "${arnOf('model', name)}".`);
    this.save();
    return {};
  }

  /** `POST /endpoints/<name>/invocations`, as the SageMaker runtime's InvokeEndpoint. */
  private async invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match)
      return this.error(res, 404, 'UnknownOperationException', `no such operation: ${req.method} ${req.url}`);
    const name = decodeURIComponent(match[1]);
    // InvokeEndpoint refuses a body over 6 MiB before any model sees it, answering 413 with no error type.
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of req) {
      received += (chunk as Buffer).length;
      if (received <= INVOKE_BODY_LIMIT) chunks.push(chunk as Buffer);
    }
    if (received > INVOKE_BODY_LIMIT) return this.error(res, 413, undefined, `HTTP content length exceeded ${INVOKE_BODY_LIMIT} bytes.`);
    const body = Buffer.concat(chunks);
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return this.error(res, 400, 'ValidationError', `Endpoint ${name} of account ${LOCAL_ACCOUNT} not found.`);
    if (endpoint.variants.length === 0)
      return this.error(res, 400, 'ValidationError', `Endpoint ${name} is ${endpoint.status}, not InService.`);
    // Requests go on being served while an update is in progress, as on SageMaker.
    const target = req.headers['x-amzn-sagemaker-target-variant'];
    const variant = target !== undefined ? endpoint.variants.find((v) => v.name === target) : pickByWeight(endpoint.variants);
    if (!variant) {
      return this.error(
        res,
        400,
        'ValidationError',
        target !== undefined
          ? `The variant "${String(target)}" is not present in endpoint "${endpoint.arn}".`
          : `Endpoint ${name} has no variant with a weight above 0.`,
      );
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!['image/jpeg', 'image/png', 'application/x-image'].includes(contentType))
      return this.error(res, 400, 'ValidationError', `unsupported ContentType ${contentType}; send image/jpeg`);
    const accept = String(req.headers.accept ?? 'image/png');
    if (!accept.includes('image/png')) return this.error(res, 400, 'ValidationError', `unsupported Accept ${accept}; ask for image/png`);
    endpoint.invokedAt.push({ time: Date.now(), variant: variant.name });
    if (variant.loaded instanceof LocalPyTorchModel) {
      let answer;
      try {
        answer = await variant.loaded.invoke(body, contentType, accept);
      } catch (err) {
        return this.error(res, 424, 'ModelError', (err as Error).message);
      }
      res.writeHead(200, {
        'content-type': answer.contentType,
        'x-amzn-invoked-production-variant': variant.name,
        'content-length': answer.body.length,
      });
      res.end(answer.body);
      return;
    }
    let image;
    try {
      image = await sharp(body).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      return this.error(res, 424, 'ModelError', `the image could not be decoded: ${(err as Error).message}`);
    }
    const mask = predictClassIndices(variant.loaded, image.data, image.info.width, image.info.height);
    const png = await encodeClassIndexPng(Buffer.from(mask), image.info.width, image.info.height);
    res.writeHead(200, { 'content-type': 'image/png', 'x-amzn-invoked-production-variant': variant.name, 'content-length': png.length });
    res.end(png);
  }

  private error(res: ServerResponse, status: number, type: string | undefined, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
    res.end(JSON.stringify({ message }));
  }
}

/** A variant drawn in proportion to the weights, as SageMaker routes requests without a target variant. */
function pickByWeight<T extends { weight: number }>(variants: readonly T[]): T | undefined {
  const total = variants.reduce((sum, v) => sum + Math.max(0, v.weight), 0);
  if (total <= 0) return undefined;
  let draw = Math.random() * total;
  return variants.find((v) => (draw -= Math.max(0, v.weight)) < 0) ?? variants[variants.length - 1];
}
