import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readCdkJson } from './cdk-json';
import { resolveConfig } from './config';
import { SegpipeStack } from './segpipe-stack';

/** cdk.json's feature flags, so that what is synthesized here is what `cdk synth` writes. */
function featureFlags(): Record<string, unknown> {
  const { segpipe: _config, ...flags } = readCdkJson(join(__dirname, '..', 'cdk.json')).context ?? {};
  return flags;
}

/** An app with cdk.json's feature flags that skips asset bundling: for the tests and the local run. */
export function unbundledApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...featureFlags(), 'aws:cdk:bundling-stacks': [], ...props.context } });
}

/** The stack `cdk deploy` ships, for a configuration, and its template, without bundling its assets. */
export function synthesizeStack(rawConfig: unknown = {}, app: App = unbundledApp()): { stack: SegpipeStack; template: Template } {
  const stack = new SegpipeStack(app, 'Segpipe', { config: resolveConfig(rawConfig) });
  return { stack, template: Template.fromStack(stack) };
}
