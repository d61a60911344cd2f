import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type HandlerName, type HandlerSettings, SETTINGS_VARIABLE } from '../lambda/common/settings';
import { type DataKeyAccess, grantDataKey } from './data-key';
import { LOG_RETENTION } from './defaults';

const REPO_ROOT = join(__dirname, '..');
const NODE_MODULES = join(REPO_ROOT, 'node_modules');
/** sharp and what it loads at run time, as npm installed them for linux-x64 (glibc), Lambda's x86_64. */
const SHARP_PACKAGES = ['sharp', '@img/colour', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'detect-libc', 'semver'];

export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * A Lambda layer with sharp's native build, copied from the installed node_modules: synth needs no
 * network and no Docker (the Docker image is never pulled, local bundling always succeeds here).
 */
export function sharpLayer(scope: Construct, id: string): lambda.LayerVersion {
  return new lambda.LayerVersion(scope, id, {
    description: 'sharp (libvips) for linux-x64, from the installed node_modules',
    compatibleArchitectures: [lambda.Architecture.X86_64],
    compatibleRuntimes: [HANDLER_RUNTIME],
    code: lambda.Code.fromAsset(join(NODE_MODULES, 'sharp'), {
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
        local: {
          tryBundle(outputDir: string): boolean {
            for (const name of SHARP_PACKAGES) {
              const from = join(NODE_MODULES, name);
              if (!existsSync(from)) throw new Error(`${from} is missing: run npm ci on linux-x64 to bundle sharp for Lambda`);
              const to = join(outputDir, 'nodejs', 'node_modules', name);
              mkdirSync(dirname(to), { recursive: true });
              cpSync(from, to, { recursive: true, dereference: true });
            }
            return true;
          },
        },
      },
    }),
  });
}

export interface HandlerFunctionProps<N extends HandlerName> {
  /** File under `lambda/handlers/`, without extension. */
  readonly handler: N;
  /** What the handler is told: one JSON value in its environment, which it parses at start-up. */
  readonly settings: HandlerSettings<N>;
  /**
   * The function the file exports for Lambda to call.
   * @default 'handler'
   */
  readonly exportName?: string;
  readonly description: string;
  /**
   * Layers, such as sharp's for the handlers that decode images.
   * @default - none
   */
  readonly layers?: lambda.ILayerVersion[];
  /**
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Key the data is encrypted with; the function may use it through S3 (`kms:ViaService`). A function
   * that touches no object is given none.
   * @default - none
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What the function does with `encryptionKey`'s data: a function that only reads objects only decrypts.
   * @default 'encrypt-decrypt'
   */
  readonly keyAccess?: DataKeyAccess;
}

/**
 * A segpipe handler: bundled by the local esbuild from `lambda/handlers/<handler>.ts`, its own role
 * (only what it is granted, logs to its own log group), a log group with a retention.
 */
export class HandlerFunction<N extends HandlerName = HandlerName> extends Construct {
  public readonly function: lambda.IFunction;
  public readonly role: iam.IRole;
  /** The handler's file under `lambda/handlers/`, which names its settings. */
  public readonly handlerName: N;
  /** How long an invocation may run: what a runner that invokes the handler itself tells it. */
  public readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps<N>) {
    super(scope, id);
    this.handlerName = props.handler;
    this.timeout = props.timeout ?? Duration.minutes(1);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `segpipe ${props.handler} Lambda`,
    });
    logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'lambda', 'handlers', `${props.handler}.ts`),
      handler: props.exportName ?? 'handler',
      description: props.description,
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.X86_64,
      memorySize: props.memorySize ?? 512,
      timeout: this.timeout,
      role: this.role,
      logGroup,
      layers: props.layers,
      environment: { [SETTINGS_VARIABLE]: Stack.of(this).toJsonString(props.settings), NODE_OPTIONS: '--enable-source-maps' },
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        // sharp comes from the layer; the AWS SDK v3 from the runtime.
        externalModules: ['sharp', '@aws-sdk/*'],
        minify: true,
        sourceMap: true,
        target: 'node22',
      },
    });
    if (props.encryptionKey) grantDataKey(props.encryptionKey, this.role, props.keyAccess ?? 'encrypt-decrypt');
  }
}
