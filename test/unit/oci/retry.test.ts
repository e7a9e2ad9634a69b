import { describe, it, expect } from 'vitest';
import { backoffDelay, parseRetryAfter, Semaphore } from '../../../functions/oci/retry.ts';

describe('backoffDelay (full jitter)', () => {
  const policy = { baseDelayMs: 200, maxDelayMs: 10_000 };
  it.each([
    [1, 1, 199],
    [2, 1, 399],
    [3, 1, 799],
    [6, 1, 6399],
    [7, 1, 9999],
    [20, 1, 9999],
    [3, 0, 0],
    [3, 0.5, 400],
  ])('retry %i with random %d waits %i ms', (retry, random, expected) => {
    expect(backoffDelay(retry, policy, () => (random === 1 ? 0.99999999 : random))).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads %j as %s ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe('Semaphore', () => {
  it('lets at most max holders run at once', async () => {
    const sem = new Semaphore(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const release = await sem.acquire();
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        release();
        release(); // a second release is harmless
      }),
    );
    expect(peak).toBe(2);
  });
});
