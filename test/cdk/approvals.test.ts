// Approvals in CDK: token-free access logs, throttling, routes and authorizers as in functions/web/routes.ts, and least-privilege roles (negative cases too).
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_API_ROUTES, Approvals } from '../../lib/constructs/approvals.ts';
import { DEPS_LOCK_FILE } from '../../lib/registry-manager-stack.ts';
import { consoleRoutes } from '../../functions/web/routes.ts';
import type { RegistryManagerStack } from '../../lib/registry-manager-stack.ts';
import { buildUnsynthesizedApp, resourcesAllowing, statementsOfRole, type FlatStatement } from './helpers.ts';

const CONFIG = 'test/cdk/fixtures/approvals.yaml';
let stack: RegistryManagerStack;
let template: Template;
let probe: Template;
let approvalsRole: FlatStatement[];
let consoleRole: FlatStatement[];
let requesterRole: FlatStatement[];
let recordRole: FlatStatement[];

/** The one resource of a type whose logical id starts with `prefix` (CDK derives it from the construct path). */
const logicalIdOf = (resourceType: string, prefix: string, t: Template = template): string => {
  const ids = Object.keys(t.findResources(resourceType)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${resourceType} with a logical id starting ${prefix}, found ${ids.length}`);
  return ids[0]!;
};

beforeAll(async () => {
  const built = await buildUnsynthesizedApp({ config: CONFIG });
  stack = built.stack;
  // A second stack in the same app (one synth): the console behind a JWT authorizer instead of IAM.
  const other = new Stack(built.app, 'OidcProbe');
  new Approvals(other, 'Approvals', {
    config: { promotion: [] },
    approvalsTable: dynamodb.Table.fromTableName(other, 'A', 'approvals'),
    auditTable: dynamodb.Table.fromTableName(other, 'B', 'audit'),
    configFile: 'x.json',
    entries: { approvals: 'a.ts', console: 'c.ts' },
    depsLockFilePath: DEPS_LOCK_FILE,
    consoleOidc: { issuer: 'https://login.acme.example', audience: ['regman-console'] },
    rateLimit: 5,
    burstLimit: 7,
    bundle: false,
  });
  template = Template.fromStack(stack);
  probe = Template.fromStack(other);
  approvalsRole = statementsOfRole(template, 'ApprovalsDecisionsRole');
  consoleRole = statementsOfRole(template, 'ApprovalsConsoleRole');
  requesterRole = statementsOfRole(template, 'PromotionRequestApprovalRole');
  recordRole = statementsOfRole(template, 'PromotionRecordRole');
}, 120_000);

describe('access logs', () => {
  it('are on, in the stack\'s log group, as JSON with the route template and no path or query string (the token is in the path)', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    const settings = stage.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(JSON.stringify(settings.DestinationArn)).toContain(logicalIdOf('AWS::Logs::LogGroup', 'ApprovalsAccessLogs'));
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format.routeKey).toBe('$context.routeKey');
    expect(format.requestId).toBe('$context.requestId');
    for (const [field, variable] of Object.entries(format)) {
      expect(variable, field).not.toMatch(/\$context\.(path|resourcePath)|rawPath|querystring|queryString|\$request\./i);
    }
    expect(settings.Format).not.toMatch(/path|query/i);
  });
});

describe('the HTTP API', () => {
  it('throttles the $default stage (rate and burst), auto-deployed', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
    probe.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 } });
  });

  it('has exactly the console\'s routes; the link and Slack routes without an authorizer, the operator pages behind IAM', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => [r.Properties.RouteKey as string, r.Properties.AuthorizationType as string]);
    const expected = consoleRoutes.map((r) => [`${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`, r.operator ? 'AWS_IAM' : 'NONE']);
    expect(routes.sort()).toEqual(expected.sort());
    expect(APPROVAL_API_ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(expected.map(([key]) => key!).sort());
  });

  it('sends each route to its function: approvals for links and Slack, console for the operator pages', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    const targetOf = (routeKey: string): string => {
      const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find((r) => r.Properties.RouteKey === routeKey)!;
      const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"(\w+)"/)![1]!;
      return JSON.stringify(integrations[integrationId]!.Properties.IntegrationUri);
    };
    const approvalsFn = logicalIdOf('AWS::Lambda::Function', 'ApprovalsDecisionsFunction');
    const consoleFn = logicalIdOf('AWS::Lambda::Function', 'ApprovalsConsoleFunction');
    expect(targetOf('GET /approvals/{execution}/{token}')).toContain(approvalsFn);
    expect(targetOf('POST /slack/interactions')).toContain(approvalsFn);
    expect(targetOf('GET /promotions')).toContain(consoleFn);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '2.0' });
  });

  it('puts the console behind a JWT authorizer when an OIDC issuer is configured, the link routes still open', () => {
    probe.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT', JwtConfiguration: { Issuer: 'https://login.acme.example', Audience: ['regman-console'] } });
    const auth = Object.values(probe.findResources('AWS::ApiGatewayV2::Route')).map((r) => `${r.Properties.RouteKey} ${r.Properties.AuthorizationType}`);
    expect(auth).toEqual(expect.arrayContaining(['GET /approvals JWT', 'GET /approvals/{execution}/{token} NONE', 'POST /slack/interactions NONE']));
  });

  it('takes the OIDC issuer and audiences from the CDK context (-c consoleOidcIssuer=… -c consoleOidcAudience=a,b), both or neither', async () => {
    // The construct tree is enough (no second synth): the authorizer exists once the routes are bound.
    const { stack: oidc } = await buildUnsynthesizedApp({ config: CONFIG, consoleOidcIssuer: 'https://idp.acme.example', consoleOidcAudience: 'regman-console, ops' });
    const authorizers = oidc.node.findAll().filter((c): c is apigw.CfnAuthorizer => c instanceof apigw.CfnAuthorizer);
    expect(authorizers.map((a) => [a.authorizerType, a.jwtConfiguration])).toEqual([['JWT', { issuer: 'https://idp.acme.example', audience: ['regman-console', 'ops'] }]]);
    await expect(buildUnsynthesizedApp({ config: CONFIG, consoleOidcIssuer: 'https://idp.acme.example' })).rejects.toThrow(/consoleOidcIssuer and consoleOidcAudience go together/);
  });

  it('rejects an OIDC issuer without audience, and a non-positive rate', () => {
    const base = {
      config: { promotion: [] },
      approvalsTable: dynamodb.Table.fromTableName(stack, 'T1', 'a'),
      auditTable: dynamodb.Table.fromTableName(stack, 'T2', 'b'),
      configFile: 'x',
      entries: { approvals: 'a', console: 'c' },
      depsLockFilePath: DEPS_LOCK_FILE,
      bundle: false,
    };
    expect(() => new Approvals(stack, 'Bad1', { ...base, consoleOidc: { issuer: 'https://i.example', audience: [] } })).toThrow(/consoleOidc.audience is empty.*consoleOidc.issuer https:\/\/i.example/);
    expect(() => new Approvals(stack, 'Bad2', { ...base, rateLimit: 0 })).toThrow(/rateLimit must be > 0/);
  });
});

describe('the approvals function', () => {
  it('may call SendTaskSuccess and SendTaskFailure on the promotion state machine, and no other Step Functions action', () => {
    const states = approvalsRole.filter((s) => s.actions.some((a) => a.startsWith('states:')));
    expect(states).toHaveLength(1);
    expect([...states[0]!.actions].sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
    expect(states[0]!.resources).toEqual([`<${logicalIdOf('AWS::StepFunctions::StateMachine', 'PromotionWorkflowStateMachine')}>`]);
  });

  it('touches DynamoDB only on the approvals and audit tables, reads exactly the two stack secrets, and sends no e-mail', () => {
    const tables = approvalsRole.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:'))).flatMap((s) => s.resources);
    const approvalsTable = logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals');
    const auditTable = logicalIdOf('AWS::DynamoDB::Table', 'TablesAudit');
    for (const r of tables) expect(r.includes(approvalsTable) || r.includes(auditTable), r).toBe(true);
    expect(resourcesAllowing(approvalsRole, 'dynamodb:UpdateItem')).toEqual([`<${approvalsTable}.Arn>`]);
    expect(resourcesAllowing(approvalsRole, 'dynamodb:Scan')).toEqual([]);
    expect(resourcesAllowing(approvalsRole, 'dynamodb:DeleteItem')).toEqual([]);
    expect(resourcesAllowing(approvalsRole, 'secretsmanager:GetSecretValue').sort()).toEqual(
      [`<${logicalIdOf('AWS::SecretsManager::Secret', 'ApprovalsHmacKey')}>`, `<${logicalIdOf('AWS::SecretsManager::Secret', 'ApprovalsSlackSigningSecret')}>`].sort(),
    );
    expect(approvalsRole.flatMap((s) => s.actions).filter((a) => a.startsWith('ses:'))).toEqual([]);
  });

  it('gets the table, both secret ARNs and the console URL in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Approvals:'),
      Environment: {
        Variables: Match.objectLike({
          APPROVALS_TABLE: { Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals') },
          REGMAN_APPROVALS_HMAC_SECRET_ARN: { Ref: logicalIdOf('AWS::SecretsManager::Secret', 'ApprovalsHmacKey') },
          REGMAN_SLACK_SIGNING_SECRET_ARN: { Ref: logicalIdOf('AWS::SecretsManager::Secret', 'ApprovalsSlackSigningSecret') },
          REGMAN_CONSOLE_URL: Match.anyValue(),
        }),
      },
    });
  });
});

describe('the console function', () => {
  const WRITES = /^(dynamodb:(Put|Update|Delete|BatchWrite)|ecr:(Put|Batch(Delete|CheckLayer)|InitiateLayerUpload|UploadLayerPart|CompleteLayerUpload|Delete|Tag|Untag|Create|Set)|secretsmanager:(Put|Update|Create|Delete)|states:|ses:|sqs:Send)/;
  const grants = (): FlatStatement[] => consoleRole.filter((s) => !s.actions.some((a) => a.startsWith('logs:') || a.startsWith('xray:')));

  it('reads the approvals table and its state index by name', () => {
    const approvalsTable = logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals');
    const approvals = grants().filter((s) => s.resources.some((r) => r.includes(approvalsTable)));
    expect(approvals.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(approvals.flatMap((s) => s.resources)).toEqual([`<${approvalsTable}.Arn>`, `<${approvalsTable}.Arn>/index/byStateCreated`]);
  });

  it('reads the reports\' data: Query on the audit table and its indexes, Scan on the table only, the pull statistics', () => {
    const audit = logicalIdOf('AWS::DynamoDB::Table', 'TablesAudit');
    const pullStats = logicalIdOf('AWS::DynamoDB::Table', 'TablesPullStats');
    const auditQuery = resourcesAllowing(consoleRole, 'dynamodb:Query').filter((r) => r.includes(audit));
    expect(auditQuery[0]).toBe(`<${audit}.Arn>`);
    expect(auditQuery.slice(1).length).toBeGreaterThan(0);
    for (const index of auditQuery.slice(1)) expect(index).toMatch(new RegExp(`^<${audit}\\.Arn>/index/[A-Za-z]+$`));
    expect(resourcesAllowing(consoleRole, 'dynamodb:Scan')).toEqual([`<${audit}.Arn>`]);
    expect(resourcesAllowing(consoleRole, 'dynamodb:GetItem').filter((r) => r.includes(pullStats))[0]).toBe(`<${pullStats}.Arn>`);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Console:'),
      Environment: { Variables: Match.objectLike({ AUDIT_TABLE: { Ref: audit }, PULL_STATS_TABLE: { Ref: pullStats } }) },
    });
  });

  it('reads every configured ECR registry\'s repositories, images and manifests, and the registries\' secrets exactly', () => {
    const ecr = grants().find((s) => s.sid === 'EcrReadForReports')!;
    expect([...ecr.actions].sort()).toEqual(['ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:DescribeRepositories', 'ecr:GetDownloadUrlForLayer', 'ecr:ListImages']);
    expect(ecr.resources.map((r) => r.replace(/^.*:ecr:/, '')).sort()).toEqual(['eu-west-1:111122223333:repository/*', 'eu-west-1:444455556666:repository/*']);
    expect(resourcesAllowing(consoleRole, 'ecr:GetAuthorizationToken')).toEqual(['*']);
    expect(resourcesAllowing(consoleRole, 'secretsmanager:GetSecretValue').map((r) => r.replace(/^.*:secret:/, ''))).toEqual(['regman/harbor-robot-??????']);
  });

  it('is granted no write: no put, update, delete, push, tag, task completion or message', () => {
    const actions = grants().flatMap((s) => s.actions);
    expect(actions.filter((a) => WRITES.test(a))).toEqual([]);
    expect(actions.filter((a) => a.endsWith('*'))).toEqual([]);
  });
});

describe('the promotion\'s RequestApproval (bindRequester) and Record (bindCloser)', () => {
  it('sends e-mail only from the configured senders, on their identities (address and domain)', () => {
    const ses = requesterRole.find((s) => s.actions.includes('ses:SendEmail'))!;
    expect(ses.actions).toEqual(['ses:SendEmail']);
    expect(ses.resources.map((r) => r.replace(/^.*:identity\//, '')).sort()).toEqual(['acme.example', 'ops.acme.example', 'prod-releases@ops.acme.example', 'releases@acme.example']);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'SendApprovalEmail', Condition: { StringEquals: { 'ses:FromAddress': ['prod-releases@ops.acme.example', 'releases@acme.example'] } } })]) },
    });
  });

  it('reads the HMAC key and the configured Slack secrets, not the signing secret; writes but never deletes approvals', () => {
    const secrets = resourcesAllowing(requesterRole, 'secretsmanager:GetSecretValue');
    expect(secrets).toEqual(
      expect.arrayContaining([
        `<${logicalIdOf('AWS::SecretsManager::Secret', 'ApprovalsHmacKey')}>`,
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:regman/slack-bot-??????',
        'arn:aws:secretsmanager:eu-west-1:111122223333:secret:regman/prod-hook-AbCdEf',
      ]),
    );
    expect(secrets).toHaveLength(3);
    const approvalsTable = `<${logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals')}.Arn>`;
    expect(requesterRole.filter((s) => s.resources.some((r) => r.startsWith(approvalsTable))).flatMap((s) => s.actions).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(requesterRole.flatMap((s) => s.actions).filter((a) => a.startsWith('states:'))).toEqual([]);
  });
});

describe('the promotion\'s other functions', () => {
  it('Record may only UpdateItem the approvals table (to end a timed-out request): no key, no channel, no Step Functions', () => {
    const approvalsTable = `<${logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals')}.Arn>`;
    expect(recordRole.filter((s) => s.resources.includes(approvalsTable)).flatMap((s) => s.actions)).toEqual(['dynamodb:UpdateItem']);
    expect(resourcesAllowing(recordRole, 'secretsmanager:GetSecretValue').filter((r) => r.includes('Approvals'))).toEqual([]);
    expect(recordRole.flatMap((s) => s.actions).filter((a) => a.startsWith('ses:') || a.startsWith('states:Send'))).toEqual([]);
  });

  it('no other promotion function touches the approvals table', () => {
    const approvalsTable = logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals');
    const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('Promotion') && !/^Promotion(RequestApproval|Record)Role/.test(id));
    expect(roles.length).toBeGreaterThan(3);
    for (const role of roles) {
      const statements = (() => {
        try {
          return statementsOfRole(template, role);
        } catch {
          return [];
        }
      })();
      expect(statements.flatMap((s) => s.resources).filter((r) => r.includes(approvalsTable)), role).toEqual([]);
    }
  });
});

describe('secrets and tables', () => {
  it('generates both secrets in Secrets Manager (64 characters of valid base64 for the HMAC key)', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Description: Match.stringLikeRegexp('HMAC key'), GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true } });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Description: Match.stringLikeRegexp('signing secret'), GenerateSecretString: Match.objectLike({ ExcludePunctuation: true }) });
  });

  it('creates the approvals table as the local definition has it (keys, state index, TTL, point-in-time recovery)', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byStateCreated', KeySchema: [{ AttributeName: 'state', KeyType: 'HASH' }, { AttributeName: 'createdAt', KeyType: 'RANGE' }] })],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('outputs the console URL and the approvals table (regman approvals)', () => {
    template.hasOutput('ConsoleUrl', Match.objectLike({ Description: Match.stringLikeRegexp('approval links') }));
    template.hasOutput('ApprovalsTableName', { Value: { Ref: logicalIdOf('AWS::DynamoDB::Table', 'TablesApprovals') }, Description: Match.stringLikeRegexp('REGMAN_APPROVALS_TABLE') });
  });
});
