// Lambda behind the API Gateway HTTP API's `POST /webhooks/{provider}`: adapts the request to receiveWebhook and its answer to a response.
import { SFNClient } from '@aws-sdk/client-sfn';
import { openDynamoAuditLog } from '../audit/index.ts';
import { createDynamoClients } from '../dynamo/client.ts';
import { ENV, Environment } from '../env.ts';
import { SecretsManagerResolver } from '../registries/secrets.ts';
import { DynamoDeliveryLog } from '../webhooks/delivery-log.ts';
import { receiveWebhook, type WebhookDeps } from '../webhooks/receive.ts';
import { sfnPromotionStarter } from '../webhooks/sfn-starter.ts';
import { loadBundledConfig } from './config.ts';
import { DEFAULT_CONFIG_FILE, dynamoOptions, moduleDir } from './deps.ts';
import { memoizeRetrying } from './memoize.ts';

/** The handler's variables (set by the CDK construct). */
export const WEBHOOK_ENV = {
  /** Secrets Manager secret with the shared webhook secret; one per line while rotating. */
  secretArn: 'WEBHOOK_SECRET_ARN',
  deliveriesTable: 'WEBHOOK_DELIVERIES_TABLE',
  stateMachineArn: 'REGMAN_PROMOTION_STATE_MACHINE_ARN',
} as const;

/** The part of an API Gateway HTTP API (payload format 2.0) event the handler reads. */
export interface HttpApiEvent {
  readonly rawPath?: string;
  readonly pathParameters?: Readonly<Record<string, string | undefined>>;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly http?: { readonly method?: string; readonly sourceIp?: string } };
}

export interface HttpApiResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const json = (statusCode: number, body: unknown): HttpApiResult => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * @example
 * export const handler = createWebhookHandler(() => webhookDepsFromEnvironment(new Environment(), dir));
 */
export function createWebhookHandler(deps: () => Promise<WebhookDeps>): (event: HttpApiEvent) => Promise<HttpApiResult> {
  return async (event) => {
    const provider = event.pathParameters?.provider ?? event.rawPath?.split('/').filter(Boolean).pop();
    if (provider !== 'github' && provider !== 'gitlab') return json(404, { error: `no webhook ${String(provider)}: POST /webhooks/github or /webhooks/gitlab` });
    const method = event.requestContext?.http?.method ?? 'POST';
    if (method !== 'POST') return json(405, { error: `${method}: webhooks are POSTs` });
    // The signature is over the exact bytes: API Gateway base64-encodes bodies it does not treat as text.
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    const sourceIp = event.requestContext?.http?.sourceIp;
    const answer = await receiveWebhook({ provider, headers: event.headers ?? {}, body, ...(sourceIp ? { sourceIp } : {}) }, await deps());
    return json(answer.status, answer.body);
  };
}

/** Config, secret, delivery log, audit log and StartExecution from the function's environment. */
export async function webhookDepsFromEnvironment(env: Environment, handlerDir: string): Promise<WebhookDeps> {
  const config = await loadBundledConfig(env.optional(ENV.configPath, DEFAULT_CONFIG_FILE), handlerDir);
  const secretArn = env.required(WEBHOOK_ENV.secretArn, 'the webhook secret');
  const resolver = new SecretsManagerResolver();
  const { docClient } = createDynamoClients(dynamoOptions(env));
  const { log } = openDynamoAuditLog({ tableName: env.required(ENV.auditTable, 'the audit log table'), ...dynamoOptions(env) });
  return {
    // Re-read every 5 minutes (the resolver's cache), so a rotated secret takes effect without a deploy.
    secrets: async () => (await resolver.getSecret({ secretArn })).split('\n').map((s) => s.trim()).filter(Boolean),
    edges: config.promotion,
    deliveries: new DynamoDeliveryLog({ docClient, tableName: env.required(WEBHOOK_ENV.deliveriesTable, 'the webhook deliveries table') }),
    audit: log,
    start: sfnPromotionStarter(new SFNClient({}), env.required(WEBHOOK_ENV.stateMachineArn, 'the promotion state machine')),
  };
}

export const handler = createWebhookHandler(memoizeRetrying(() => webhookDepsFromEnvironment(new Environment(), moduleDir(import.meta.url))));
