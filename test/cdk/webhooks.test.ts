// The CI webhook construct: an unauthenticated POST route (the signature is the credential), a function that may start only the promotion state machine, and a delivery table it can claim in but not read.
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_ENV } from '../../functions/handlers/webhook.ts';
import { WEBHOOK_FUNCTION_ENV, Webhooks } from '../../lib/constructs/webhooks.ts';
import { DEPS_LOCK_FILE } from '../../lib/registry-manager-stack.ts';
import { buildUnsynthesizedApp, statementsOfRole, type FlatStatement } from './helpers.ts';

let app: App;
let template: Template;
let role: FlatStatement[];

beforeAll(() => {
  app = new App();
  const stack = new Stack(app, 'Hooks');
  const stateMachine = new sfn.StateMachine(stack, 'Promotion', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')) });
  // Another state machine in the same stack, which the function must not reach.
  new sfn.StateMachine(stack, 'Other', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Q')) });
  new Webhooks(stack, 'Webhooks', {
    entry: 'functions/handlers/webhook.ts', configFile: 'x.json', depsLockFilePath: DEPS_LOCK_FILE, bundle: false,
    stateMachine, auditTable: dynamodb.Table.fromTableName(stack, 'Audit', 'audit'),
  });
  template = Template.fromStack(stack);
  role = statementsOfRole(template, 'WebhooksFunctionRole');
});

describe('Webhooks construct', () => {
  it('routes POST /webhooks/{provider} to the function without an authorizer, throttled, with access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/{provider}', AuthorizationType: 'NONE' });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      AccessLogSettings: { Format: Match.stringLikeRegexp('routeKey') },
    });
  });

  it('gives the function the variables the handler reads', () => {
    expect(WEBHOOK_FUNCTION_ENV).toEqual(WEBHOOK_ENV);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WEBHOOK_SECRET_ARN: Match.anyValue(), WEBHOOK_DELIVERIES_TABLE: Match.anyValue(), REGMAN_PROMOTION_STATE_MACHINE_ARN: Match.anyValue(), AUDIT_TABLE: 'audit' }) },
    });
  });

  it('may start the promotion state machine only, claim deliveries without reading them, and read its own secret', () => {
    const start = role.filter((s) => s.actions.some((a) => a.startsWith('states:')));
    expect(start.flatMap((s) => s.actions)).toEqual(['states:StartExecution']);
    expect(start.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/Promotion/)]);
    const deliveries = role.filter((s) => s.resources.some((r) => r.includes('WebhooksDeliveries')));
    expect(deliveries.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // Negative: no scans or reads of the delivery log, no other state machine, nothing on `*` but X-Ray.
    expect(role.flatMap((s) => s.actions)).not.toContain('dynamodb:Scan');
    expect(role.flatMap((s) => s.resources).some((r) => /Other/.test(r))).toBe(false);
    expect(role.filter((s) => s.resources.includes('*')).flatMap((s) => s.actions).every((a) => a.startsWith('xray:'))).toBe(true);
    const secrets = role.filter((s) => s.actions.includes('secretsmanager:GetSecretValue'));
    expect(secrets.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/WebhooksSecret/)]);
  });

  it('keeps the delivery table with a TTL on expiresAt', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  });

  it('has no unacknowledged cdk-nag finding of its own', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const mine = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? '?'}`)).filter((f) => f.includes('/Webhooks/'));
    expect(mine).toEqual([]);
  });

  it('rejects a non-positive rate limit, naming the prop', () => {
    const stack = new Stack(new App(), 'Bad');
    const stateMachine = new sfn.StateMachine(stack, 'S', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')) });
    expect(() => new Webhooks(stack, 'W', { entry: 'e.ts', configFile: 'x.json', depsLockFilePath: DEPS_LOCK_FILE, bundle: false, stateMachine, auditTable: dynamodb.Table.fromTableName(stack, 'A', 'audit'), rateLimit: 0 })).toThrow(/rateLimit must be > 0/);
  });
});

describe('RegistryManagerStack and webhooks', () => {
  it('adds the endpoint when an edge has triggers, starting the stack\'s promotion state machine, nag-clean, with its URL as an output', async () => {
    const { app, stack } = await buildUnsynthesizedApp({ config: 'test/cdk/fixtures/webhooks.yaml' });
    expect(stack.webhooks).toBeDefined();
    const t = Template.fromStack(stack);
    t.hasOutput('WebhookUrl', {});
    t.hasOutput('WebhookSecretArn', {});
    const starts = statementsOfRole(t, 'WebhooksFunctionRole').filter((s) => s.actions.includes('states:StartExecution'));
    expect(starts.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/PromotionWorkflowStateMachine/)]);
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? '?'}`))).toEqual([]);
  }, 120_000);

  it('adds none when no edge has triggers', async () => {
    const { stack } = await buildUnsynthesizedApp({ config: 'test/cdk/fixtures/promotion.yaml' });
    expect(stack.promotion).toBeDefined();
    expect(stack.webhooks).toBeUndefined();
  }, 120_000);
});
