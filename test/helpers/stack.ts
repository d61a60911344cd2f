import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { resolveConfig } from '../../lib/config';
import { SegpipeStack } from '../../lib/segpipe-stack';

/** cdk.json's feature flags, so tests synthesize what `cdk synth` does. */
const { segpipe: _config, ...featureFlags } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

/** A test app with cdk.json's feature flags that skips asset bundling, so stack tests stay fast. */
export function testApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...featureFlags, 'aws:cdk:bundling-stacks': [], ...props.context } });
}

export function synthStack(rawConfig: unknown = {}, app: App = testApp()): { stack: SegpipeStack; template: Template } {
  const stack = new SegpipeStack(app, 'Segpipe', { config: resolveConfig(rawConfig) });
  return { stack, template: Template.fromStack(stack) };
}
