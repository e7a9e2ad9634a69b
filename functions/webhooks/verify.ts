// Verifies CI webhook requests: GitHub's X-Hub-Signature-256 (HMAC-SHA256 of the raw body) and GitLab's X-Gitlab-Token.
// GitHub: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// GitLab: https://docs.gitlab.com/user/project/integrations/webhooks/#validate-requests-with-a-secret-token
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Why a webhook request was refused (the endpoint answers 401 and audits this). */
export type WebhookProblem = 'missing-signature' | 'bad-signature' | 'replayed' | 'missing-delivery-id';

export class WebhookAuthError extends Error {
  readonly code = 'WEBHOOK_UNAUTHORIZED';
  readonly retryable = false;
  readonly problem: WebhookProblem;

  constructor(problem: WebhookProblem, message: string) {
    super(message);
    this.name = 'WebhookAuthError';
    this.problem = problem;
  }
}

/** Header lookup, case-insensitive (API Gateway lower-cases, node:http too; tests may not). */
export function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key !== undefined ? headers[key] : undefined;
  return Array.isArray(v) ? v[0] : v;
}

/** Constant-time equality of two strings (different lengths compare unequal without leaking where). */
export function safeEqual(a: string, b: string): boolean {
  // Hash both so the comparison has a fixed length and timingSafeEqual never throws.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** The value GitHub sends for `body` signed with `secret`: `sha256=<hex>`. */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Throws WebhookAuthError unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body under one
 * of `secrets` (several allow rotation). The body must be the exact bytes received.
 */
export function verifyGithubSignature(headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer | string, secrets: readonly string[]): void {
  const got = header(headers, 'x-hub-signature-256');
  if (got === undefined || got === '') throw new WebhookAuthError('missing-signature', 'GitHub webhook without X-Hub-Signature-256: set the webhook secret in GitHub');
  if (!secrets.some((s) => safeEqual(githubSignature(s, body), got.trim()))) {
    throw new WebhookAuthError('bad-signature', 'GitHub webhook signature does not match: check that GitHub and regman share the same webhook secret');
  }
}

/** Throws WebhookAuthError unless `X-Gitlab-Token` equals one of `secrets` (compared in constant time). */
export function verifyGitlabToken(headers: Readonly<Record<string, string | string[] | undefined>>, secrets: readonly string[]): void {
  const got = header(headers, 'x-gitlab-token');
  if (got === undefined || got === '') throw new WebhookAuthError('missing-signature', 'GitLab webhook without X-Gitlab-Token: set the secret token in GitLab');
  if (!secrets.some((s) => safeEqual(s, got))) throw new WebhookAuthError('bad-signature', 'GitLab webhook token does not match: check the secret token configured in GitLab');
}

/** Remembers delivery ids: `claim` is false when the id was already seen (DynamoDB conditional put in AWS). */
export interface DeliveryLog {
  claim(provider: 'github' | 'gitlab', deliveryId: string): Promise<boolean>;
  /** Records what the claimed delivery started (the promotion execution ids). */
  started?(provider: 'github' | 'gitlab', deliveryId: string, executionIds: readonly string[]): Promise<void>;
  /** Gives a claimed delivery back (nothing could be started): a redelivery may then try again. */
  release?(provider: 'github' | 'gitlab', deliveryId: string): Promise<void>;
}

/** An in-memory DeliveryLog keeping the last `max` ids (the local stack; tests). */
export function memoryDeliveryLog(max = 10_000): DeliveryLog {
  const seen = new Set<string>();
  return {
    async claim(provider, id) {
      const key = `${provider}:${id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      if (seen.size > max) seen.delete(seen.values().next().value!);
      return true;
    },
    async release(provider, id) {
      seen.delete(`${provider}:${id}`);
    },
  };
}

/**
 * Refuses a delivery whose id (`X-GitHub-Delivery`, GitLab's `X-Gitlab-Event-UUID`) was seen before.
 * Run it after the signature check, so unsigned requests cannot fill the log.
 */
export async function checkDelivery(provider: 'github' | 'gitlab', headers: Readonly<Record<string, string | string[] | undefined>>, log: DeliveryLog): Promise<string> {
  const id = header(headers, provider === 'github' ? 'x-github-delivery' : 'x-gitlab-event-uuid');
  if (id === undefined || id === '') throw new WebhookAuthError('missing-delivery-id', `${provider} webhook without a delivery id header`);
  if (!(await log.claim(provider, id))) throw new WebhookAuthError('replayed', `${provider} webhook delivery ${id} was already received (replayed)`);
  return id;
}
