// The local stack's CI webhook endpoint: POST /webhooks/github and /webhooks/gitlab start promotions the config's triggers map.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog } from '../functions/audit/audit-log.ts';
import type { RegmanConfig } from '../functions/config/types.ts';
import { receiveWebhook, type WebhookProvider } from '../functions/webhooks/receive.ts';
import type { DeliveryLog } from '../functions/webhooks/verify.ts';
import type { ControlRequest, ControlResponse } from './control-server.ts';
import type { LocalPromotions } from './promotions.ts';

/** The path prefix of the webhook routes: they authenticate by the provider's signature, not the control token. */
export const WEBHOOK_PATH_PREFIX = '/webhooks/';

/** Overrides the generated secret (e.g. to reuse the one a GitHub webhook already has). */
export const WEBHOOK_SECRET_ENV = 'REGMAN_WEBHOOK_SECRET';

/** What endpoints.json says under `webhooks`. */
export interface LocalWebhookEndpoints {
  readonly github: string;
  readonly gitlab: string;
  /** The file holding the shared secret (GitHub "Secret", GitLab "Secret token"); mode 0600. */
  readonly secretFile: string;
}

/**
 * The shared secret: REGMAN_WEBHOOK_SECRET, else `<state>/webhook-secret`, created once (mode 0600) and
 * kept across restarts so a webhook configured in GitHub or GitLab keeps working.
 */
export function localWebhookSecret(stateDir: string, env: NodeJS.ProcessEnv = process.env): { secret: string; file: string } {
  const file = join(stateDir, 'webhook-secret');
  const given = env[WEBHOOK_SECRET_ENV];
  if (given) return { secret: given, file };
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret: readFileSync(file, 'utf8').trim(), file };
}

export function localWebhookEndpoints(controlUrl: string, secretFile: string): LocalWebhookEndpoints {
  return { github: `${controlUrl}${WEBHOOK_PATH_PREFIX}github`, gitlab: `${controlUrl}${WEBHOOK_PATH_PREFIX}gitlab`, secretFile };
}

/**
 * Routes `POST /webhooks/<github|gitlab>` to receiveWebhook with the local promotion runner as the
 * starter (it answers once Validate decided, so the response carries a refusal too).
 */
export function webhookRoutes(o: {
  readonly config: RegmanConfig;
  readonly secret: string;
  readonly deliveries: DeliveryLog;
  readonly promotions: Pick<LocalPromotions, 'start'>;
  readonly audit: Pick<AuditLog, 'append'>;
}): (req: ControlRequest) => Promise<ControlResponse | undefined> {
  return async (req) => {
    if (!req.path.startsWith(WEBHOOK_PATH_PREFIX)) return undefined;
    const provider = req.path.slice(WEBHOOK_PATH_PREFIX.length);
    if (provider !== 'github' && provider !== 'gitlab') return { status: 404, body: { error: `no webhook ${provider}: POST /webhooks/github or /webhooks/gitlab` } };
    if (req.method !== 'POST') return { status: 405, body: { error: `${req.method} ${req.path}: webhooks are POSTs` } };
    const answer = await receiveWebhook(
      { provider: provider as WebhookProvider, headers: req.headers, body: await req.body(), sourceIp: '127.0.0.1' },
      {
        secrets: async () => [o.secret],
        edges: o.config.promotion,
        deliveries: o.deliveries,
        audit: o.audit,
        start: async (p) => {
          const { executionId, record } = await o.promotions.start({ repository: p.repository, tag: p.tag, from: p.from, to: p.to, requester: p.requester, trigger: 'webhook', reason: `CI webhook (${provider})` });
          return { executionId, status: record.status, ...(record.error ? { error: `${record.error.code}: ${record.error.message}` } : {}) };
        },
      },
    );
    return { status: answer.status, body: answer.body };
  };
}
