// budgetInterceptor on the budget's clock: a refusal of the shared pull budget blocks the credential until its resetAt as the budget counts time, so a fake clock drives the wait and the deferral.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { budgetInterceptor } from '../../../functions/registries/dockerhub/data-plane.ts';
import { RateBudget, RateLimitedError } from '../../../functions/registries/rate-budget.ts';
import type { PullGrant, PullQuota, SharedPullBudget } from '../../../functions/registries/shared-pull-budget.ts';
import type { TransportRequest, TransportResponse } from '../../../functions/oci/transport.ts';

const KEY = 'registry-1.docker.io|ci';
const QUOTA: PullQuota = { limit: 3, windowSeconds: 21_600 };
const MANIFEST_GET: TransportRequest = { method: 'GET', repository: 'acme/app', path: '/v2/acme/app/manifests/v1', expect: [200], description: 'GET manifest acme/app:v1' };

/** A clock far from the real one (1970), moved only by the budget's sleeps. */
function fakeClock() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)), sleeps };
}

/** A shared budget that refuses until `openAt` (on the same clock) and grants after. */
function sharedUntil(clock: { now: () => number }, openAt: number): SharedPullBudget & { takes: number[] } {
  const takes: number[] = [];
  return {
    takes,
    take: async (): Promise<PullGrant> => {
      takes.push(clock.now());
      return clock.now() >= openAt ? { granted: true, used: 1, resetAt: clock.now() } : { granted: false, used: QUOTA.limit, resetAt: openAt };
    },
  };
}

function hub(): { send: (req: TransportRequest) => Promise<TransportResponse>; sent: string[] } {
  const sent: string[] = [];
  const send = async (req: TransportRequest): Promise<TransportResponse> => {
    sent.push(req.description);
    return { status: 200, headers: {}, body: {} as IncomingMessage, url: new URL(`https://registry-1.docker.io${req.path}`) };
  };
  return { send, sent };
}

describe('budgetInterceptor with the shared pull budget', () => {
  it('waits on the budget\'s clock until the shared budget\'s resetAt, then sends the pull', async () => {
    // Prepare: the shared budget frees a pull 90 s from now (fake time)
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 120_000, now: clock.now, sleep: clock.sleep });
    const shared = sharedUntil(clock, clock.now() + 90_000);
    const target = hub();
    const request = budgetInterceptor('registry-1.docker.io', { budget, budgetKey: async () => KEY, shared: { budget: shared, quota: QUOTA } })(target.send);

    // Act
    const res = await request(MANIFEST_GET);

    // Assess: one wait of exactly 90 s, a second take at the reset, then the request
    expect(res.status).toBe(200);
    expect(clock.sleeps).toEqual([90_000]);
    expect(shared.takes).toEqual([1_000_000, 1_090_000]);
    expect(target.sent).toEqual(['GET manifest acme/app:v1']);
  });

  it('defers with the shared budget\'s wait, as the budget\'s clock counts it, when it is longer than the budget waits', async () => {
    // Prepare: the shared budget is spent for two hours
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 60_000, now: clock.now, sleep: clock.sleep });
    const shared = sharedUntil(clock, clock.now() + 2 * 3_600_000);
    const target = hub();
    const request = budgetInterceptor('registry-1.docker.io', { budget, budgetKey: async () => KEY, shared: { budget: shared, quota: QUOTA } })(target.send);

    // Act
    const err = await request(MANIFEST_GET).then(() => undefined, (e: unknown) => e);

    // Assess: deferred for the two hours, nothing slept, nothing sent, the credential blocked until then
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterSeconds).toBe(7200);
    expect(clock.sleeps).toEqual([]);
    expect(target.sent).toEqual([]);
    expect(budget.state(KEY).blockedUntil).toBe(1_000_000 + 7_200_000);
  });
});
