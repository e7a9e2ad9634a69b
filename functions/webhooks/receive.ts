// Receives one CI webhook request: signature → delivery log → event → mapped edges → promotions started, each step audited.
// The Lambda handler (functions/handlers/webhook.ts) and the local stack (local/webhook-routes.ts) both call receiveWebhook.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import { mapCiEvent, parseCiEvent, type EdgeWithTriggers, type TriggeredPromotion } from './map-event.ts';
import { WebhookAuthError, checkDelivery, header, verifyGithubSignature, verifyGitlabToken, type DeliveryLog } from './verify.ts';

export type WebhookProvider = 'github' | 'gitlab';

/** The action of every webhook audit record; `rejected` ones are security events in `regman report compliance`. */
export const WEBHOOK_AUDIT_ACTION = 'webhook.request';

/** One HTTP request as received: the body must be the exact bytes (the signature is over them). */
export interface WebhookRequest {
  readonly provider: WebhookProvider;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The caller's address, for the audit record of a refused request. */
  readonly sourceIp?: string;
}

/** A started promotion, as the starter reports it. */
export interface StartedPromotion {
  readonly executionId: string;
  /** e.g. `RUNNING`, or `FAILED` when Validate refused it at once (the local stack waits for Validate). */
  readonly status?: string;
  readonly error?: string;
}

export interface WebhookDeps {
  /** The shared secrets (GitHub webhook secret / GitLab secret token); several allow rotation. */
  readonly secrets: () => Promise<readonly string[]>;
  /** The config's promotion edges with their `triggers`. */
  readonly edges: readonly EdgeWithTriggers[];
  readonly deliveries: DeliveryLog;
  /** Starts one promotion (StartExecution in AWS, the in-process runner locally). */
  readonly start: (promotion: TriggeredPromotion & { readonly requester: string; readonly correlationId: string }) => Promise<StartedPromotion>;
  readonly audit: Pick<AuditLog, 'append'>;
}

export interface WebhookPromotionResult extends TriggeredPromotion {
  readonly executionId?: string;
  readonly status?: string;
  readonly error?: string;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: {
    readonly error?: string;
    readonly problem?: string;
    readonly deliveryId?: string;
    readonly duplicate?: boolean;
    readonly ignored?: string;
    readonly promotions?: readonly WebhookPromotionResult[];
  };
}

const AUTH_ERROR_CODES: Record<WebhookAuthError['problem'], string> = {
  'missing-signature': 'MISSING_SIGNATURE',
  'bad-signature': 'BAD_SIGNATURE',
  'missing-delivery-id': 'MISSING_DELIVERY_ID',
  replayed: 'REPLAYED',
};

/** The JSON payload: GitHub may be configured to send `application/x-www-form-urlencoded` with a `payload` field. */
function payloadOf(req: WebhookRequest): unknown {
  const text = req.body.toString('utf8');
  const type = header(req.headers, 'content-type') ?? '';
  const json = /x-www-form-urlencoded/i.test(type) ? (new URLSearchParams(text).get('payload') ?? '') : text;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Handles one request. Answers:
 * - 401 `{ error, problem }` for a missing or wrong signature (audited `rejected`, errorCode `BAD_SIGNATURE` / `MISSING_SIGNATURE`);
 * - 400 for a signed request without a delivery id or whose body is not JSON;
 * - 200 `{ duplicate: true }` for a delivery id seen before: nothing is started again (GitHub's "Redeliver");
 * - 200 `{ ignored }` for an event no trigger handles (a ping, a branch push) or that no edge maps;
 * - 200 `{ deliveryId, promotions }` with each started execution (a refusal by Validate is in its `status`/`error`);
 * - 502 when no promotion could be started: the delivery is released so a redelivery can try again.
 *
 * @example
 * const res = await receiveWebhook({ provider: 'github', headers, body }, deps);
 */
export async function receiveWebhook(req: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  const { provider } = req;
  const eventName = header(req.headers, provider === 'github' ? 'x-github-event' : 'x-gitlab-event');
  const actor = `webhook:${provider}`;
  const refuse = async (status: number, err: WebhookAuthError | { problem: string; message: string; code: string }, correlationId: string = randomUUID()): Promise<WebhookResponse> => {
    const code = err instanceof WebhookAuthError ? AUTH_ERROR_CODES[err.problem] : err.code;
    await deps.audit.append({
      actor, action: WEBHOOK_AUDIT_ACTION, outcome: 'rejected', correlationId, errorCode: code, errorMessage: err.message,
      details: { provider, problem: err.problem, ...(eventName ? { event: eventName } : {}), ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}) },
    });
    return { status, body: { error: err.message, problem: err.problem } };
  };

  // 1. The signature, over the exact bytes, before anything else is believed.
  try {
    const secrets = await deps.secrets();
    if (provider === 'github') verifyGithubSignature(req.headers, req.body, secrets);
    else verifyGitlabToken(req.headers, secrets);
  } catch (err) {
    if (err instanceof WebhookAuthError) return refuse(401, err);
    throw err;
  }

  // 2. The delivery id, claimed once (after the signature, so unsigned requests cannot fill the log).
  let deliveryId: string;
  try {
    deliveryId = await checkDelivery(provider, req.headers, deps.deliveries);
  } catch (err) {
    if (!(err instanceof WebhookAuthError)) throw err;
    if (err.problem === 'missing-delivery-id') return refuse(400, err);
    const id = header(req.headers, provider === 'github' ? 'x-github-delivery' : 'x-gitlab-event-uuid') ?? '';
    await deps.audit.append({ actor, action: WEBHOOK_AUDIT_ACTION, outcome: 'skipped', correlationId: id, details: { provider, deliveryId: id, duplicate: true, ...(eventName ? { event: eventName } : {}) } });
    return { status: 200, body: { deliveryId: id, duplicate: true, ignored: `delivery ${id} was already received: nothing is started again` } };
  }

  // 3. The event, and the edges whose triggers it matches.
  const payload = payloadOf(req);
  if (payload === undefined) {
    await deliveries(deps).release(provider, deliveryId);
    return refuse(400, { problem: 'bad-payload', code: 'BAD_PAYLOAD', message: `${provider} webhook ${deliveryId}: the body is not JSON (set the webhook's content type to application/json)` }, deliveryId);
  }
  const event = parseCiEvent(provider, eventName, payload);
  const matched = event ? mapCiEvent(event, deps.edges) : [];
  if (!event || matched.length === 0) {
    const ignored = !event
      ? `event ${eventName ?? '(none)'} starts no promotion (only a published release or a tag push do)`
      : `no promotion trigger matches ${event.event} ${event.tag} in ${event.project}`;
    await deps.audit.append({ actor, action: WEBHOOK_AUDIT_ACTION, outcome: 'skipped', correlationId: deliveryId, details: { provider, deliveryId, ignored, ...(eventName ? { event: eventName } : {}) } });
    return { status: 200, body: { deliveryId, ignored } };
  }

  // 4. One promotion per matching edge trigger.
  const results: WebhookPromotionResult[] = [];
  for (const p of matched) {
    try {
      const started = await deps.start({ ...p, requester: `webhook:${p.requestedBy}`, correlationId: deliveryId });
      results.push({ ...p, executionId: started.executionId, ...(started.status ? { status: started.status } : {}), ...(started.error ? { error: started.error } : {}) });
    } catch (err) {
      results.push({ ...p, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const executionIds = results.flatMap((r) => (r.executionId ? [r.executionId] : []));
  const summary = results.map((r) => ({ from: r.from, to: r.to, repository: r.repository, tag: r.tag, executionId: r.executionId ?? null, status: r.status ?? null, error: r.error ?? null }));
  if (executionIds.length === 0) {
    await deliveries(deps).release(provider, deliveryId);
    await deps.audit.append({ actor, action: WEBHOOK_AUDIT_ACTION, outcome: 'failure', correlationId: deliveryId, errorCode: 'START_FAILED', errorMessage: results.map((r) => r.error).join('; '), details: { provider, deliveryId, promotions: summary } });
    return { status: 502, body: { error: `no promotion could be started: ${results.map((r) => `${r.from} → ${r.to} ${r.repository}:${r.tag}: ${r.error}`).join('; ')}`, deliveryId, promotions: results } };
  }
  await deliveries(deps).started(provider, deliveryId, executionIds);
  const first = matched[0]!;
  await deps.audit.append({
    actor: `webhook:${first.requestedBy}`, action: WEBHOOK_AUDIT_ACTION, outcome: 'success', correlationId: deliveryId, repository: first.repository, tags: [first.tag],
    details: { provider, deliveryId, ...(eventName ? { event: eventName } : {}), promotions: summary },
  });
  return { status: 200, body: { deliveryId, promotions: results } };
}

/** The optional parts of a DeliveryLog, as no-ops when it has none. */
function deliveries(deps: WebhookDeps): Required<DeliveryLog> {
  const log = deps.deliveries;
  return {
    claim: (p, id) => log.claim(p, id),
    started: async (p, id, ids) => log.started?.(p, id, ids),
    release: async (p, id) => log.release?.(p, id),
  };
}
