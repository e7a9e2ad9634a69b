// The local control URL's promotion API: start a promotion, read it, roll back (what the CLI's --state-dir path calls; approvals have their own operator routes).
import { userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { PromotionDeps } from '../functions/promotion/deps.ts';
import { isPromotionError } from '../functions/promotion/errors.ts';
import { rollbackEnvironment } from '../functions/promotion/rollback-env.ts';
import type { PromotionStore } from '../functions/promotion/store.ts';
import type { ControlRequest, ControlResponse } from './control-server.ts';
import type { LocalPromotions } from './promotions.ts';

/** The body of `POST /promotions`. */
export interface StartPromotionBody {
  readonly repository?: string;
  readonly tag?: string;
  readonly from?: string;
  readonly to?: string;
  readonly requestedBy?: string;
  readonly reason?: string;
  readonly overrideFreeze?: boolean;
  readonly trigger?: 'cli' | 'webhook' | 'rollback';
}

async function json<T>(req: ControlRequest): Promise<T | undefined> {
  const body = (await req.body()).toString('utf8');
  if (!body.trim()) return {} as T;
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
}

/**
 * Routes:
 * - `POST /promotions` `{ repository, tag, from, to, requestedBy?, reason?, overrideFreeze? }`: starts
 *   one; answers once Validate has decided: `{ executionId, status, digest?, error? }`.
 * - `GET /promotions/<id>`: the record; `GET /promotions?env=&repository=`: the records, newest first.
 * - `POST /rollback` `{ env, repository, to?, reason, requestedBy? }`: back to the previous promoted digest, and hold.
 */
export function promotionRoutes(promotions: LocalPromotions, store: PromotionStore, deps?: PromotionDeps): (req: ControlRequest) => Promise<ControlResponse | undefined> {
  return async (req) => {
    if (req.path === '/rollback' && req.method === 'POST' && deps) {
      const body = await json<{ env?: string; repository?: string; to?: string; reason?: string; requestedBy?: string }>(req);
      if (!body?.env || !body.repository || !body.reason) return { status: 400, body: { error: 'missing env, repository or reason' } };
      try {
        const result = await rollbackEnvironment({
          environment: body.env, repository: body.repository, ...(body.to ? { to: body.to } : {}), reason: body.reason,
          actor: body.requestedBy ?? `cli:${userInfo().username}`, correlationId: randomUUID(),
        }, deps);
        return { status: 200, body: result };
      } catch (err) {
        if (isPromotionError(err)) return { status: 409, body: { error: err.message, code: err.code } };
        throw err;
      }
    }
    if (req.path === '/promotions' && req.method === 'POST') {
      const body = await json<StartPromotionBody>(req);
      if (!body) return { status: 400, body: { error: 'the body is not JSON' } };
      const missing = (['repository', 'tag', 'from', 'to'] as const).filter((k) => typeof body[k] !== 'string' || body[k] === '');
      if (missing.length) return { status: 400, body: { error: `missing ${missing.join(', ')}` } };
      const { executionId, record } = await promotions.start({
        repository: body.repository!,
        tag: body.tag!,
        from: body.from!,
        to: body.to!,
        requester: body.requestedBy ?? `cli:${userInfo().username}`,
        ...(body.reason ? { reason: body.reason } : {}),
        ...(body.overrideFreeze ? { overrideFreeze: true } : {}),
        trigger: body.trigger ?? 'cli',
      });
      return { status: 200, body: { executionId, status: record.status, ...(record.digest ? { digest: record.digest } : {}), ...(record.error ? { error: record.error } : {}) } };
    }
    if (req.path === '/promotions' && req.method === 'GET') {
      const env = req.query.get('env') ?? undefined;
      const repository = req.query.get('repository') ?? undefined;
      return { status: 200, body: await store.listExecutions({ ...(env ? { environment: env } : {}), ...(repository ? { repository } : {}) }) };
    }
    const one = /^\/promotions\/([^/]+)$/.exec(req.path);
    if (one && req.method === 'GET') {
      const record = await store.getExecution(decodeURIComponent(one[1]!));
      return record ? { status: 200, body: record } : { status: 404, body: { error: `no promotion ${one[1]}` } };
    }
    return undefined;
  };
}
