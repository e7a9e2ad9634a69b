// Unit tests of the per-credential rate budget: header parsing, reserve and deferral, the rolling window, 429s, isolation.
import { describe, expect, it } from 'vitest';
import {
  RateBudget,
  RateLimitedError,
  findRateLimitedError,
  isRateLimitedError,
  parseRateLimitHeader,
  rateLimitFromHeaders,
} from '../../../functions/registries/rate-budget.ts';
import { OciError } from '../../../functions/oci/errors.ts';

/** A clock that only moves when the budget sleeps (or the test says so). */
function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe('parseRateLimitHeader', () => {
  it.each([
    ['100;w=21600', { value: 100, windowSeconds: 21600 }],
    ['76', { value: 76 }],
    [' 7 ; w = 60 ', { value: 7, windowSeconds: 60 }],
    ['100;w=21600, 5;w=60', { value: 5, windowSeconds: 60 }],
    ['0;w=21600', { value: 0, windowSeconds: 21600 }],
  ])('reads %j', (text, expected) => {
    expect(parseRateLimitHeader(text)).toEqual(expected);
  });

  it.each([undefined, '', 'lots', ';w=10', '-1;w=5'])('gives undefined for %j', (text) => {
    expect(parseRateLimitHeader(text)).toBeUndefined();
  });
});

describe('rateLimitFromHeaders', () => {
  it('reads Docker Hub headers from node:http and fetch header shapes', () => {
    // Prepare
    const node = { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600', 'docker-ratelimit-source': '1.2.3.4' };
    const web = new Headers({ 'RateLimit-Limit': '100;w=21600', 'RateLimit-Remaining': '76;w=21600' });
    // Act / Assess
    for (const h of [node, web]) expect(rateLimitFromHeaders(h)).toEqual({ limit: 100, remaining: 76, windowSeconds: 21600 });
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(rateLimitFromHeaders({ 'retry-after': '30' }, now)).toEqual({ retryAfterMs: 30_000 });
    expect(rateLimitFromHeaders({ 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' }, now)).toEqual({ retryAfterMs: 10_000 });
  });

  it('says nothing for a response without the headers', () => {
    expect(rateLimitFromHeaders({ 'content-type': 'application/json' })).toEqual({});
  });
});

describe('RateBudget', () => {
  const KEY = 'registry-1.docker.io|ci';

  it('lets work through while the remaining quota stays above the reserve, counting it down', async () => {
    // Prepare
    const clock = fakeClock();
    const budget = new RateBudget({ reserve: 2, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { 'ratelimit-limit': '10;w=60', 'ratelimit-remaining': '5;w=60' });
    // Act
    const waited = [await budget.acquire(KEY), await budget.acquire(KEY), await budget.acquire(KEY)];
    // Assess
    expect(waited).toEqual([0, 0, 0]);
    expect(budget.state(KEY).remaining).toBe(2);
    expect(clock.sleeps).toEqual([]);
  });

  it('defers work below the reserve until the reported units leave the rolling window, then counts only its own', async () => {
    // Prepare: 2 left of 10, reserve 2, window 60 s (1 s slots) reported now: the 8 spent count from now.
    const clock = fakeClock();
    const budget = new RateBudget({ reserve: 2, maxWaitMs: 120_000, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { 'ratelimit-limit': '10;w=60', 'ratelimit-remaining': '2;w=60' });
    clock.advance(15_000);
    // Act
    const waited = await budget.acquire(KEY);
    // Assess: waited until the 8 were a window (plus their slot) old; only the unit just taken still counts.
    expect(waited).toBe(46_000);
    expect(clock.sleeps).toEqual([46_000]);
    expect(budget.state(KEY)).toEqual({ limit: 10, remaining: 9, resetAt: 1_000_000 + 61_000 + 61_000 });
  });

  it('gives quota back unit by unit as each leaves the window, never more than the limit in any window', async () => {
    // Prepare: 3 per 60 s (1 s slots), spent at 0 s, 20 s and 40 s.
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 120_000, now: clock.now, sleep: clock.sleep });
    budget.seed(KEY, { limit: 3, windowSeconds: 60 });
    const spent = [await budget.acquire(KEY)];
    clock.advance(20_000);
    spent.push(await budget.acquire(KEY));
    clock.advance(20_000);
    spent.push(await budget.acquire(KEY));
    expect(spent).toEqual([0, 0, 0]);
    clock.advance(10_000);
    // Act: two more at 50 s, one after the other
    const first = await budget.acquire(KEY);
    const second = await budget.acquire(KEY);
    // Assess: the first waits for the 0 s unit to leave (61 s), the second for the 20 s one (81 s); a fixed
    // window set at 0 s would have let all three through at 60 s.
    expect([first, second]).toEqual([11_000, 20_000]);
    expect(clock.now() - 1_000_000).toBe(81_000);
    expect(budget.state(KEY).remaining).toBe(0);
  });

  it('counts units the registry reports beyond its own from the report, and its own from their acquire', async () => {
    // Prepare: 1 of 3 left at 0 s (2 spent elsewhere); this process spends the last one at 30 s.
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 120_000, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { limit: 3, remaining: 1, windowSeconds: 60 });
    clock.advance(30_000);
    await budget.acquire(KEY);
    budget.observe(KEY, { limit: 3, remaining: 0, windowSeconds: 60 });
    // Act: two more
    const waits = [await budget.acquire(KEY, { cost: 2 })];
    // Assess: the two reported at 0 s leave at 61 s; the one of 30 s still counts.
    expect(waits).toEqual([31_000]);
    expect(budget.state(KEY).remaining).toBe(0);
    expect(budget.state(KEY).resetAt).toBe(1_000_000 + 61_000 + 61_000);
  });

  it('rejects with a retryable RATE_LIMITED error when the wait exceeds maxWaitMs', async () => {
    // Prepare: Docker Hub's six-hour window, spent.
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 60_000, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' });
    // Act
    const err = await budget.acquire(KEY, { description: 'GET manifest acme/app:1.0' }).then(() => undefined, (e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(RateLimitedError);
    const limited = err as RateLimitedError;
    expect(limited.reason).toBe('RATE_LIMITED');
    expect(limited.retryable).toBe(true);
    expect(limited.code).toBe('TOO_MANY_REQUESTS');
    // The 100 reported count from the report's 6-minute slot (720 000 to 1 080 000 ms): gone one window after its end.
    expect(limited.retryAfterSeconds).toBe(21_680);
    expect(limited.budgetKey).toBe(KEY);
    expect(limited.message).toMatch(/GET manifest acme\/app:1\.0 deferred.*0 of 100 left.*Re-queue/);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not charge free requests (cost 0) and lets them through a spent quota', async () => {
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 0, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { limit: 10, remaining: 0, windowSeconds: 60 });
    await expect(budget.acquire(KEY, { cost: 0 })).resolves.toBe(0);
    await expect(budget.acquire(KEY, { cost: 1 })).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('blocks every request of the credential for a 429 Retry-After, free ones included', async () => {
    // Prepare
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 10_000, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { 'retry-after': '3' }, 429);
    // Act
    const waited = await budget.acquire(KEY, { cost: 0 });
    // Assess
    expect(waited).toBe(3000);
    expect(budget.state(KEY).blockedUntil).toBeUndefined();
  });

  it('blocks for a default time on a 429 without Retry-After, and rejects past maxWaitMs', async () => {
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 5_000, default429BlockMs: 30_000, now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, {}, 429);
    const err = (await budget.acquire(KEY).catch((e: unknown) => e)) as RateLimitedError;
    expect(err.retryAfterSeconds).toBe(30);
    expect(err.message).toMatch(/429/);
  });

  it('keeps budgets per credential: one spent account does not hold back another', async () => {
    // Prepare
    const clock = fakeClock();
    const budget = new RateBudget({ maxWaitMs: 0, now: clock.now, sleep: clock.sleep });
    budget.observe('registry-1.docker.io|alice', { limit: 200, remaining: 0, windowSeconds: 21600 });
    budget.observe('registry-1.docker.io|bob', { 'retry-after': '60' }, 429);
    // Act / Assess
    await expect(budget.acquire('registry-1.docker.io|alice')).rejects.toBeInstanceOf(RateLimitedError);
    await expect(budget.acquire('registry-1.docker.io|bob')).rejects.toBeInstanceOf(RateLimitedError);
    await expect(budget.acquire('registry-1.docker.io|carol')).resolves.toBe(0);
    expect(budget.state('registry-1.docker.io|carol')).toEqual({});
  });

  it('keeps the lower count when an older response reports more than is left', async () => {
    // Prepare: 5 left; two requests start; the first answers with the count from before the second.
    const clock = fakeClock();
    const budget = new RateBudget({ now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { limit: 10, remaining: 5, windowSeconds: 60 });
    await budget.acquire(KEY);
    await budget.acquire(KEY);
    // Act
    budget.observe(KEY, { limit: 10, remaining: 4, windowSeconds: 60 });
    // Assess
    expect(budget.state(KEY).remaining).toBe(3);
  });

  it('takes a fresh report whole once the window has elapsed', () => {
    const clock = fakeClock();
    const budget = new RateBudget({ now: clock.now, sleep: clock.sleep });
    budget.observe(KEY, { limit: 10, remaining: 1, windowSeconds: 60 });
    clock.advance(61_000);
    budget.observe(KEY, { limit: 10, remaining: 9, windowSeconds: 60 });
    expect(budget.state(KEY).remaining).toBe(9);
  });

  it('seeds a configured quota until the registry reports one', async () => {
    const clock = fakeClock();
    const budget = new RateBudget({ reserve: 1, maxWaitMs: 0, now: clock.now, sleep: clock.sleep });
    budget.seed(KEY, { limit: 2, windowSeconds: 3600 });
    await budget.acquire(KEY);
    await expect(budget.acquire(KEY)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('stops waiting when aborted', async () => {
    const clock = fakeClock();
    const budget = new RateBudget({ now: clock.now, sleep: clock.sleep });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(budget.acquire(KEY, { signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('findRateLimitedError', () => {
  it('finds the deferral in the cause chain of a copy error', () => {
    const limited = new RateLimitedError('deferred', { budgetKey: 'k', retryAfterSeconds: 42 });
    const wrapped = new OciError('copy did not finish', { code: 'COPY_INCOMPLETE', cause: limited, retryable: true });
    expect(isRateLimitedError(wrapped)).toBe(true);
    expect(findRateLimitedError(wrapped)?.retryAfterSeconds).toBe(42);
    expect(isRateLimitedError(new OciError('x', { code: 'TOO_MANY_REQUESTS' }))).toBe(false);
  });
});
