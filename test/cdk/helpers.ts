// Helpers of the CDK tests: build the app from a fixture config without esbuild, and read IAM policies as plain strings.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CONTEXT, buildApp } from '../../lib/app.ts';
import { flattenCfnReference } from '../../lib/nag.ts';
import type { RegistryManagerStack } from '../../lib/registry-manager-stack.ts';

// CDK's built-in CloudFormation schema validation runs at every synth and costs ~6-9 s per app on two
// cores (87 s → 24 s for this folder). It is not under test here, so it is off in these tests, except
// in nag.test.ts's "compliant app synthesizes", which re-enables it to synth exactly as `cdk synth` does.
process.env.CDK_VALIDATION ??= 'false';

export const FIXTURE_CONFIG = 'test/cdk/fixtures/replication.yaml';
/** Retention policies over ECR prefixes, an assumed-role ECR registry and a non-ECR registry (and registries no policy covers). */
export const RETENTION_CONFIG = 'test/cdk/fixtures/retention.yaml';

export interface BuiltApp {
  readonly app: App;
  readonly stack: RegistryManagerStack;
  readonly template: Template;
}

/** The app as `cdk synth -c config=<file> -c regman:skipBundling=true` builds it (no esbuild: fast, no handler needed), not yet synthesized. */
export async function buildUnsynthesizedApp(context: Record<string, string> = {}): Promise<Omit<BuiltApp, 'template'>> {
  const app = new App({ context: { [CONTEXT.config]: FIXTURE_CONFIG, [CONTEXT.skipBundling]: 'true', ...context } });
  const stack = await buildApp(app, { env: {} });
  return { app, stack };
}

/** buildUnsynthesizedApp, and the stack's template (which synthesizes the app). */
export async function buildTestApp(context: Record<string, string> = {}): Promise<BuiltApp> {
  const { app, stack } = await buildUnsynthesizedApp(context);
  return { app, stack, template: Template.fromStack(stack) };
}

/** One IAM statement with its actions and resources as flat strings (`arn:<AWS::Partition>:ecr:…`). */
export interface FlatStatement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** Every statement of every AWS::IAM::Policy attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOfRole(template: Template, rolePrefix: string): FlatStatement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: FlatStatement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (!roles.some((r) => r.startsWith(rolePrefix))) continue;
    for (const s of policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]) {
      out.push({
        ...(typeof s.Sid === 'string' ? { sid: s.Sid } : {}),
        effect: s.Effect as string,
        actions: ([] as unknown[]).concat(s.Action).map(String),
        resources: ([] as unknown[]).concat(s.Resource).map(flattenCfnReference),
      });
    }
  }
  if (out.length === 0) throw new Error(`no IAM policy attached to a role named ${rolePrefix}*`);
  return out;
}

/** The resources on which `action` is allowed, across statements. */
export function resourcesAllowing(statements: readonly FlatStatement[], action: string): string[] {
  return statements.filter((s) => s.effect === 'Allow' && s.actions.includes(action)).flatMap((s) => s.resources);
}
