// cdk-nag AwsSolutions: zero unacknowledged findings for every shipped config, every acknowledgement has a reason, and the plugin really gates synth.
import { App, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { FIXTURE_CONFIG, RETENTION_CONFIG, buildUnsynthesizedApp } from './helpers.ts';

/** The findings cdk-nag's AwsSolutions pack reports for the app, as `RuleId @ construct path`. */
function findings(app: App): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? '?'}`));
}

describe('cdk-nag AwsSolutions', () => {
  it.each([FIXTURE_CONFIG, RETENTION_CONFIG, 'test/cdk/fixtures/promotion.yaml', 'test/cdk/fixtures/dockerhub-pull-budget.yaml', 'config/registries.yaml', 'config/local.yaml'])('reports no unacknowledged finding with %s', async (config) => {
    // Prepare
    const { app } = await buildUnsynthesizedApp({ config });

    // Act / Assess
    expect(findings(app)).toEqual([]);
  });

  it('gives every acknowledgement a reason of substance', async () => {
    // Prepare
    const { app } = await buildUnsynthesizedApp();
    const acks: [string, string][] = [];
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        acks.push(...Object.entries(entry.data as Record<string, string>));
      }
    }

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length, `reason of ${id}`).toBeGreaterThan(40);
    }
  });

  it('is wired with Validations.of(app).addPlugins: an unacknowledged finding fails app.synth()', async () => {
    // Prepare: the built-in CloudFormation schema validation is not under test and costs ~9 s of this synth.
    vi.stubEnv('CDK_VALIDATION', 'false');
    const { app, stack } = await buildUnsynthesizedApp();
    new sqs.Queue(stack, 'PlainQueue'); // no SSL-only policy, no DLQ: AwsSolutions-SQS3 and SQS4

    // Act / Assess
    expect(() => app.synth()).toThrow(/RegistryManager\/PlainQueue[\s\S]*AwsSolutions-SQS4/);
    vi.unstubAllEnvs();
  });

  it('lets a compliant app synthesize, with CDK\'s CloudFormation validation on as in `cdk synth`', async () => {
    // Prepare
    vi.stubEnv('CDK_VALIDATION', 'true');
    const app = new App({ context: { config: FIXTURE_CONFIG, 'regman:skipBundling': 'true' } });
    await buildApp(app, { env: {} });

    // Act
    const assembly = app.synth();

    // Assess
    expect(assembly.getStackByName('RegistryManager').template.Resources).toBeDefined();
    vi.unstubAllEnvs();
  });
});
