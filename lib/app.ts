// Builds the CDK app from its context: loads and validates the config (synth fails on any error), the stack, cdk-nag.
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../functions/config/index.ts';
import { RegistryManagerStack } from './registry-manager-stack.ts';

/** Context keys the app reads (`cdk synth -c key=value`, or cdk.json "context"). */
export const CONTEXT = {
  /** Config file, relative to the working directory. */
  config: 'config',
  stackName: 'stackName',
  /** EventBridge Scheduler expression of the reconcile run. @default the config's schedules.reconcile, else rate(1 hour) */
  reconcileSchedule: 'reconcileSchedule',
  alarmTopicArn: 'alarmTopicArn',
  /** EventBridge Scheduler expression of the retention sweep. @default the config's schedules.retention, else cron(0 3 * * ? *) */
  retentionSchedule: 'retentionSchedule',
  /** `true`: scheduled sweeps delete; `false`: dry run, plan and audit only. @default the config's schedules.retentionMode (dry-run) */
  retentionApply: 'retentionApply',
  /** `true`: placeholder code instead of esbuild bundles (tests, structural synth). Never deploy it. */
  skipBundling: 'regman:skipBundling',
  /** OIDC issuer URL of the console's JWT authorizer (with consoleOidcAudience). @default IAM authorization */
  consoleOidcIssuer: 'consoleOidcIssuer',
  /** Comma-separated `aud` values the console's JWT authorizer accepts. */
  consoleOidcAudience: 'consoleOidcAudience',
} as const;

export const DEFAULT_CONFIG_FILE = 'config/registries.yaml';
export const DEFAULT_STACK_NAME = 'RegistryManager';

export interface BuildAppOptions {
  /** Environment for `${VAR}` in the config. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Adds the registry-manager stack and the cdk-nag AwsSolutions checks to `app`, from its context.
 * cdk-nag 3 is a CDK policy-validation plugin (`Validations.of(app).addPlugins`, not an Aspect):
 * its findings fail `app.synth()` unless acknowledged.
 *
 * @throws ConfigError (every problem in the file, formatted in its message) when the config is invalid
 * @example
 * const app = new App();
 * await buildApp(app);
 * app.synth();
 */
export async function buildApp(app: App, options: BuildAppOptions = {}): Promise<RegistryManagerStack> {
  const configFile = stringContext(app, CONTEXT.config) ?? DEFAULT_CONFIG_FILE;
  const config = await loadConfig(configFile, options.env ? { env: options.env } : {});
  const stack = new RegistryManagerStack(app, stringContext(app, CONTEXT.stackName) ?? DEFAULT_STACK_NAME, {
    description: 'registry-manager: replication of container images on push, retention sweeps, with audit log (regman)',
    config,
    bundle: !isTrue(app.node.tryGetContext(CONTEXT.skipBundling)),
    ...optional('reconcileSchedule', stringContext(app, CONTEXT.reconcileSchedule)),
    ...optional('alarmTopicArn', stringContext(app, CONTEXT.alarmTopicArn)),
    ...optional('retentionSchedule', stringContext(app, CONTEXT.retentionSchedule)),
    ...booleanContext(app, 'retentionApply', CONTEXT.retentionApply),
    ...consoleOidcContext(app),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/** `consoleOidc` from the two context keys; one without the other is an error naming both. */
function consoleOidcContext(app: App): { consoleOidc?: { issuer: string; audience: string[] } } {
  const issuer = stringContext(app, CONTEXT.consoleOidcIssuer);
  const audience = (stringContext(app, CONTEXT.consoleOidcAudience) ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (issuer === undefined && audience.length === 0) return {};
  if (issuer === undefined || audience.length === 0) {
    throw new Error(`context ${CONTEXT.consoleOidcIssuer} and ${CONTEXT.consoleOidcAudience} go together: set both (-c ${CONTEXT.consoleOidcIssuer}=https://… -c ${CONTEXT.consoleOidcAudience}=regman-console) or neither (IAM authorization)`);
  }
  return { consoleOidc: { issuer, audience } };
}

function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context "${key}" must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** Set only when the context names the key (so that the config's value applies otherwise). */
function booleanContext<K extends string>(app: App, key: K, contextKey: string): { [P in K]?: boolean } {
  const value: unknown = app.node.tryGetContext(contextKey);
  if (value === undefined || value === null || value === '') return {};
  return { [key]: isTrue(value) } as { [P in K]?: boolean };
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
