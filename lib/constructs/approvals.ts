// Approvals and the web console (issue 10): HTTP API with throttling and token-free access logs, the approvals and console functions, the HMAC key and Slack signing secret.
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { APPROVALS_ENV } from '../../functions/approvals/env-names.ts';
import type { RegmanConfig } from '../../functions/config/types.ts';
import { APPROVALS_INDEXES, type TableSpec } from '../../functions/dynamo/tables.ts';
import { acknowledgeNag, acknowledgeWildcardResources } from '../nag.ts';
import { grantReportReadAccess } from '../report-grants.ts';
import type { ReportAccess } from '../report-scopes.ts';
import { BaseFunction } from './base-function.ts';

/** Which function serves a route: `approvals` (self-authenticated: signed link, Slack signature) or `console` (behind the authorizer). */
export type ApprovalApiTarget = 'approvals' | 'console';

/**
 * The HTTP API's routes: functions/web/routes.ts's consoleRoutes in API Gateway syntax (a CDK test keeps the two
 * equal). lib/ does not import the route table itself: it would pull the handlers' code into the CDK app.
 */
export const APPROVAL_API_ROUTES: readonly { readonly method: 'GET' | 'POST'; readonly path: string; readonly target: ApprovalApiTarget }[] = [
  { method: 'GET', path: '/', target: 'console' },
  { method: 'GET', path: '/approvals', target: 'console' },
  { method: 'GET', path: '/promotions', target: 'console' },
  // The report pages (functions/web/reports/): their data through Approvals.bindReports.
  { method: 'GET', path: '/reports/compliance', target: 'console' },
  { method: 'GET', path: '/reports/costs', target: 'console' },
  { method: 'GET', path: '/reports/usage', target: 'console' },
  { method: 'GET', path: '/reports/lineage', target: 'console' },
  { method: 'GET', path: '/approvals/{execution}/{token}', target: 'approvals' },
  { method: 'POST', path: '/approvals/{execution}/{token}', target: 'approvals' },
  { method: 'POST', path: '/slack/interactions', target: 'approvals' },
];

/**
 * One JSON line per request. The approval token is a path segment, so no field may carry the path: `routeKey`
 * is the route's template (`GET /approvals/{execution}/{token}`), never the request's path or query string.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  caller: '$context.identity.userArn',
  error: '$context.error.message',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
};

export interface ApprovalsEntries {
  /** functions/handlers/approvals-http.ts */
  readonly approvals: string;
  /** functions/handlers/console.ts */
  readonly console: string;
}

/** An OIDC issuer for the console pages (an API Gateway JWT authorizer) instead of IAM. */
export interface ConsoleOidcOptions {
  /** e.g. `https://token.actions.githubusercontent.com` or a Cognito/Okta issuer URL. */
  readonly issuer: string;
  /** Accepted `aud` values (at least one). */
  readonly audience: readonly string[];
}

export interface ApprovalsProps {
  /** The edges' approval channels decide the SES identities and Slack secrets the requester may use. */
  readonly config: Pick<RegmanConfig, 'promotion'>;
  readonly approvalsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  readonly configFile: string;
  readonly entries: ApprovalsEntries;
  readonly depsLockFilePath: string;
  /** Steady-state requests per second over the whole API. @default 10 */
  readonly rateLimit?: number;
  /** Burst above the rate. @default 20 */
  readonly burstLimit?: number;
  /** @default IAM authorization (SigV4) on the console pages */
  readonly consoleOidc?: ConsoleOidcOptions;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly accessLogRetention?: logs.RetentionDays;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
}

/** Actions of functions/approvals/dynamo-store.ts per use: deciding, requesting, reading for the console. */
const TABLE_ACTIONS = {
  decide: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  request: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  close: ['dynamodb:UpdateItem'],
} as const;

/** Secrets Manager appends `-` and six characters to a secret's name in its ARN. */
function secretArnOfName(scope: Construct, nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: `${nameOrArn}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, Stack.of(scope));
}

/**
 * The approvals side in AWS. GET/POST of a link and Slack's clicks reach the approvals function without an
 * authorizer (the signed link and the Slack signature are the credentials, checked in functions/approvals/);
 * the read-only pages reach the console function through IAM or a JWT authorizer.
 *
 * @example
 * const approvals = new Approvals(this, 'Approvals', { config, approvalsTable, auditTable, configFile, entries, depsLockFilePath });
 * approvals.allowCompletingTasksOf(promotion.workflow.stateMachine);
 * approvals.bindRequester(promotion.functions.PromotionRequestApprovalFunctionArn);
 */
export class Approvals extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  /** Decides: the approval page, its POSTs, Slack's clicks; SendTaskSuccess/SendTaskFailure. */
  readonly approvals: BaseFunction;
  /** The read-only pages. */
  readonly console: BaseFunction;
  readonly hmacKey: secretsmanager.Secret;
  readonly slackSigningSecret: secretsmanager.Secret;
  /** The console's base URL, which links point at. */
  readonly url: string;
  private readonly props: ApprovalsProps;

  constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    this.props = props;
    if (props.consoleOidc && props.consoleOidc.audience.length === 0) {
      throw new Error(`Approvals ${this.node.path}: consoleOidc.audience is empty; name at least one audience with consoleOidc.issuer ${props.consoleOidc.issuer}`);
    }
    for (const [name, value] of [['rateLimit', props.rateLimit], ['burstLimit', props.burstLimit]] as const) {
      if (value !== undefined && !(value > 0)) throw new Error(`Approvals ${this.node.path}: ${name} must be > 0, got ${value}`);
    }

    // 64 characters without punctuation: valid base64 of 48 bytes (functions/approvals/keys.ts keyFromSecretText).
    this.hmacKey = new secretsmanager.Secret(this, 'HmacKey', {
      description: 'regman approvals: HMAC key that signs approval links and CSRF tokens (generated; rotating it voids open links)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.slackSigningSecret = new secretsmanager.Secret(this, 'SlackSigningSecret', {
      description: "regman approvals: the Slack app's signing secret (a generated placeholder until you put Slack's value in; clicks fail verification until then)",
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(
      this.hmacKey,
      'AwsSolutions-SMG4',
      'The HMAC key signs approval links that stay valid until their expiry (hours); an automatic rotation would void every open link. Rotate it by hand between releases (docs/OPERATIONS.md).',
    );
    acknowledgeNag(
      this.slackSigningSecret,
      'AwsSolutions-SMG4',
      'Slack issues the signing secret and rotates it in the Slack app settings; a Lambda rotation here cannot change it. Paste the new value after rotating in Slack.',
    );

    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'regman web console: approval pages (signed links), Slack interactivity, read-only operator pages',
      createDefaultStage: false,
    });
    this.url = this.api.apiEndpoint;
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: props.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 10, burstLimit: props.burstLimit ?? 20 },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(this.accessLogGroup), format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)) },
    });

    // Invoked synchronously by API Gateway: no asynchronous retries to configure.
    const common = { configFile: props.configFile, depsLockFilePath: props.depsLockFilePath, timeout: Duration.seconds(30), memorySize: 512, retryAttempts: 0, ...(props.bundle !== undefined ? { bundle: props.bundle } : {}) };
    this.approvals = new BaseFunction(this, 'Decisions', {
      ...common,
      entry: props.entries.approvals,
      description: 'Approvals: the approval page, Approve/Reject POSTs and Slack clicks; completes the promotion task',
      serviceName: 'approvals',
    });
    this.approvals.bindAuditTable(props.auditTable);
    this.grantTable(this.approvals, 'decide', false);
    this.hmacKey.grantRead(this.approvals.role);
    this.slackSigningSecret.grantRead(this.approvals.role);
    this.approvals.function.addEnvironment(APPROVALS_ENV.hmacKeySecret, this.hmacKey.secretArn);
    this.approvals.function.addEnvironment(APPROVALS_ENV.slackSigningSecret, this.slackSigningSecret.secretArn);
    this.approvals.function.addEnvironment(APPROVALS_ENV.consoleUrl, this.url);

    this.console = new BaseFunction(this, 'Console', {
      ...common,
      entry: props.entries.console,
      description: 'Console: read-only pages (pending approvals, recent promotions, reports)',
      serviceName: 'console',
    });
    this.grantTable(this.console, 'read', true);
    this.console.function.addEnvironment(APPROVALS_ENV.consoleUrl, this.url);

    const integrations: Record<ApprovalApiTarget, HttpLambdaIntegration> = {
      approvals: new HttpLambdaIntegration('ApprovalsIntegration', this.approvals.function),
      console: new HttpLambdaIntegration('ConsoleIntegration', this.console.function),
    };
    const authorizer = props.consoleOidc
      ? new HttpJwtAuthorizer('ConsoleJwt', props.consoleOidc.issuer, { jwtAudience: [...props.consoleOidc.audience] })
      : new HttpIamAuthorizer();
    for (const route of APPROVAL_API_ROUTES) {
      const [added] = this.api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrations[route.target],
        // The approval routes carry their own credential (signed link, Slack signature): an authorizer would lock approvers out.
        authorizer: route.target === 'console' ? authorizer : new apigw.HttpNoneAuthorizer(),
      });
      if (route.target === 'approvals') {
        acknowledgeNag(
          added!,
          'AwsSolutions-APIG4',
          `${route.method} ${route.path} is reached from an e-mail or Slack by approvers without AWS identities; the signed single-use link (HMAC) or Slack's request signature authenticates it, verified in functions/approvals/checks.ts before anything is read or decided.`,
        );
      }
    }
  }

  /**
   * SendTaskSuccess/SendTaskFailure on that state machine only, for the approvals function (no other
   * Step Functions action). Task-token calls are authorized on the state machine's ARN.
   */
  allowCompletingTasksOf(stateMachine: sfn.IStateMachine): this {
    this.approvals.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'CompletePromotionApprovalTasks', actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [stateMachine.stateMachineArn] }),
    );
    return this;
  }

  /**
   * Lets `fn` (the promotion's RequestApproval) start requests: write the request, its links and deliveries,
   * read the HMAC key, send e-mail from the configured SES identities and post with the configured Slack secrets;
   * and sets the variables functions/handlers/approvals-deps.ts reads.
   */
  bindRequester(fn: BaseFunction): this {
    this.grantTable(fn, 'request', false);
    this.hmacKey.grantRead(fn.role);
    fn.function.addEnvironment(APPROVALS_ENV.hmacKeySecret, this.hmacKey.secretArn);
    fn.function.addEnvironment(APPROVALS_ENV.consoleUrl, this.url);

    const edges = this.props.config.promotion.map((e) => e.gates.approval?.channels).filter((c) => c !== undefined);
    const senders = [...new Set(edges.flatMap((c) => (c.email ? [c.email.from] : [])))].sort();
    if (senders.length > 0) {
      // SES authorizes SendEmail on the verified identity, the address or its domain: both are listed, and the
      // From address is pinned by condition, so no other sender of a verified domain can be used.
      const identities = [...new Set(senders.flatMap((from) => [from, from.slice(from.indexOf('@') + 1)]))];
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SendApprovalEmail',
          actions: ['ses:SendEmail'],
          resources: identities.map((identity) => Arn.format({ service: 'ses', resource: 'identity', resourceName: identity }, Stack.of(this))),
          conditions: { StringEquals: { 'ses:FromAddress': senders } },
        }),
      );
    }
    const slackSecrets = [...new Set(edges.flatMap((c) => [c.slack?.botTokenSecretName, c.slack?.webhookUrlSecretName].filter((s): s is string => s !== undefined)))].sort();
    if (slackSecrets.length > 0) {
      const arns = slackSecrets.map((name) => secretArnOfName(this, name));
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadSlackSecrets', actions: ['secretsmanager:GetSecretValue'], resources: arns }));
      acknowledgeWildcardResources(
        fn.role,
        arns,
        'The Slack bot token and webhook secrets are named in the config (promotion[].gates.approval.channels.slack); Secrets Manager adds six random characters to a name in its ARN, matched by `-??????` and nothing else.',
      );
    }
    return this;
  }

  /**
   * Lets `fn` (the promotion's Record) end a still-pending request when the wait timed out or failed, so its
   * links stop at once: UpdateItem on the approvals table, APPROVALS_TABLE; no key, no channel.
   */
  bindCloser(fn: BaseFunction): this {
    this.grantTable(fn, 'close', false);
    return this;
  }

  /**
   * Lets the console function serve the report pages (functions/handlers/console-reports-deps.ts): Query on the
   * audit table and its indexes plus Scan on the table (a period names no repository, actor or action: the time
   * scan of docs/AUDIT.md), AUDIT_TABLE; Query/GetItem on the pull statistics when given, PULL_STATS_TABLE; the
   * registries' reads of `access` (lib/report-grants.ts). No write anywhere.
   */
  bindReports(access: ReportAccess, pullStats?: { readonly table: dynamodb.ITable; readonly spec: TableSpec }): this {
    const audit = this.props.auditTable;
    this.console.readAuditTable(audit);
    this.console.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AuditTimeScanForReports', actions: ['dynamodb:Scan'], resources: [audit.tableArn] }));
    if (pullStats) this.console.bindPullStatsTable(pullStats.table, pullStats.spec, 'read');
    grantReportReadAccess(this.console.role, access);
    return this;
  }

  /** Grants `use` on the approvals table (and, when `index`, its state index by name) and sets APPROVALS_TABLE. */
  private grantTable(fn: BaseFunction, use: keyof typeof TABLE_ACTIONS, index: boolean): void {
    const table = this.props.approvalsTable;
    const resources = [table.tableArn, ...(index ? [`${table.tableArn}/index/${APPROVALS_INDEXES.byStateCreated}`] : [])];
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: `ApprovalsTable${use[0]!.toUpperCase()}${use.slice(1)}`, actions: [...TABLE_ACTIONS[use]], resources }));
    fn.function.addEnvironment(APPROVALS_ENV.table, table.tableName);
  }
}
