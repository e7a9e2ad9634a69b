// The CI webhook endpoint (issue 9 "Triggers"): HTTP API `POST /webhooks/{provider}`, its function, the shared secret and the delivery log table.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TABLE_SPECS } from '../../functions/dynamo/tables.ts';
import { acknowledgeNag } from '../nag.ts';
import { BaseFunction } from './base-function.ts';
import { tableFromSpec } from './tables.ts';

/** The variables functions/handlers/webhook.ts reads (WEBHOOK_ENV there; lib/ does not import handler code). */
export const WEBHOOK_FUNCTION_ENV = {
  secretArn: 'WEBHOOK_SECRET_ARN',
  deliveriesTable: 'WEBHOOK_DELIVERIES_TABLE',
  stateMachineArn: 'REGMAN_PROMOTION_STATE_MACHINE_ARN',
} as const;

/** One JSON line per request; webhook bodies and headers (signatures) are never logged. */
const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  responseLatencyMs: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
};

export interface WebhooksProps {
  /** functions/handlers/webhook.ts */
  readonly entry: string;
  readonly configFile: string;
  readonly depsLockFilePath: string;
  /** The promotion state machine the mapped events start. */
  readonly stateMachine: sfn.IStateMachine;
  readonly auditTable: dynamodb.ITable;
  /** Steady-state requests per second. @default 5 */
  readonly rateLimit?: number;
  /** @default 10 */
  readonly burstLimit?: number;
  /** @see BaseFunctionProps.bundle @default true */
  readonly bundle?: boolean;
}

/**
 * GitHub and GitLab post to `<url>/webhooks/github` and `<url>/webhooks/gitlab` with the generated secret
 * (GitHub "Secret", GitLab "Secret token"; put your own value in the secret to reuse one, one per line
 * while rotating). The function may start executions of the promotion state machine only.
 *
 * @example
 * const hooks = new Webhooks(this, 'Webhooks', { entry, configFile, depsLockFilePath, stateMachine, auditTable });
 */
export class Webhooks extends Construct {
  readonly api: apigw.HttpApi;
  readonly function: BaseFunction;
  readonly secret: secretsmanager.Secret;
  readonly deliveries: dynamodb.Table;
  /** `https://…/webhooks`: append `/github` or `/gitlab`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    for (const [name, value] of [['rateLimit', props.rateLimit], ['burstLimit', props.burstLimit]] as const) {
      if (value !== undefined && !(value > 0)) throw new Error(`Webhooks ${this.node.path}: ${name} must be > 0, got ${value}`);
    }
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'regman CI webhooks: the shared secret GitHub (X-Hub-Signature-256) and GitLab (X-Gitlab-Token) send; one per line while rotating',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(
      this.secret,
      'AwsSolutions-SMG4',
      'The same value is configured in GitHub or GitLab by hand; a Lambda rotation here would break every webhook. Rotate by adding the new value on a second line, updating the CI side, then removing the old one.',
    );
    this.deliveries = tableFromSpec(this, 'Deliveries', TABLE_SPECS.webhookDeliveries);

    this.function = new BaseFunction(this, 'Function', {
      entry: props.entry,
      configFile: props.configFile,
      depsLockFilePath: props.depsLockFilePath,
      description: 'CI webhooks: verifies the signature, claims the delivery once, starts the promotions the triggers map',
      serviceName: 'webhooks',
      timeout: Duration.seconds(10),
      memorySize: 512,
      ...(props.bundle !== undefined ? { bundle: props.bundle } : {}),
    });
    this.function.bindAuditTable(props.auditTable).bindStateMachine(props.stateMachine, WEBHOOK_FUNCTION_ENV.stateMachineArn);
    this.secret.grantRead(this.function.role);
    this.function.function.addEnvironment(WEBHOOK_FUNCTION_ENV.secretArn, this.secret.secretArn);
    // Claim (conditional put), record what started, release after a failed start: no reads, no scans.
    this.deliveries.grant(this.function.role, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    this.function.function.addEnvironment(WEBHOOK_FUNCTION_ENV.deliveriesTable, this.deliveries.tableName);

    this.api = new apigw.HttpApi(this, 'Api', { description: 'regman CI webhooks (GitHub, GitLab): start promotions', createDefaultStage: false });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 5, burstLimit: props.burstLimit ?? 10 },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs), format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)) },
    });
    const [route] = this.api.addRoutes({
      path: '/webhooks/{provider}',
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('WebhookIntegration', this.function.function),
      authorizer: new apigw.HttpNoneAuthorizer(),
    });
    acknowledgeNag(
      route!,
      'AwsSolutions-APIG4',
      'GitHub and GitLab cannot sign requests with AWS credentials; the HMAC-SHA256 of the raw body (X-Hub-Signature-256) or the secret token (X-Gitlab-Token) authenticates each request, checked in functions/webhooks/verify.ts before anything is read, and a refusal is audited.',
    );
    this.url = `${this.api.apiEndpoint}/webhooks`;
  }
}
