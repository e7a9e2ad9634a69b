import { describe, expect, it } from 'vitest';
import { memoizeRetrying } from '../../../functions/handlers/memoize.ts';

describe('memoizeRetrying', () => {
  it('builds once and shares the result between concurrent and later calls', async () => {
    let builds = 0;
    const get = memoizeRetrying(async () => ({ n: ++builds }));
    const [a, b] = await Promise.all([get(), get()]);
    const c = await get();
    expect(builds).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('forgets a failed build, so the next call tries again', async () => {
    let builds = 0;
    const get = memoizeRetrying(() => {
      builds += 1;
      if (builds === 1) throw new Error('secret not readable yet');
      return 'deps';
    });
    await expect(get()).rejects.toThrow('secret not readable yet');
    await expect(get()).resolves.toBe('deps');
    await expect(get()).resolves.toBe('deps');
    expect(builds).toBe(2);
  });
});
