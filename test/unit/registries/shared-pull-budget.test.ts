// The pull budget shared across invocations: a conditional counter per credential and window on dynalite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPullBudget, pullWindow } from '../../../functions/registries/shared-pull-budget.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

const SIX_HOURS = 21_600;
const QUOTA = { limit: 3, windowSeconds: SIX_HOURS };

describe('pullWindow', () => {
  it.each([
    { now: 0, start: 0, end: SIX_HOURS * 1000 },
    { now: SIX_HOURS * 1000 - 1, start: 0, end: SIX_HOURS * 1000 },
    { now: SIX_HOURS * 1000 * 5 + 7, start: SIX_HOURS * 1000 * 5, end: SIX_HOURS * 1000 * 6 },
  ])('$now ms → [$start, $end)', ({ now, start, end }) => {
    expect(pullWindow(now, SIX_HOURS)).toEqual({ start, end });
  });
});

describe('DynamoPullBudget', () => {
  let db: DynaliteHandle;
  let clock = Date.UTC(2026, 11, 2, 1, 0, 0);
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());
  // Two "invocations": separate instances over the same table.
  const invocation = (): DynamoPullBudget => new DynamoPullBudget({ docClient: db.docClient, tableName: db.tableNames.replicationState, now: () => clock });

  it('grants the quota once between all invocations, refuses past it until the window ends, and counts per credential', async () => {
    const [a, b] = [invocation(), invocation()];
    const key = 'registry-1.docker.io|ci';
    expect((await a.take(key, 1, QUOTA)).granted).toBe(true);
    expect(await b.take(key, 2, QUOTA)).toMatchObject({ granted: true, used: 3 });
    const refused = await a.take(key, 1, QUOTA);
    expect(refused).toEqual({ granted: false, used: 3, resetAt: pullWindow(clock, SIX_HOURS).end });
    expect((await b.take(key, 1, QUOTA)).granted).toBe(false);
    // Another account has its own budget.
    expect((await b.take('registry-1.docker.io|other', 3, QUOTA)).granted).toBe(true);
    // The next window starts afresh.
    clock = refused.resetAt;
    expect(await a.take(key, 1, QUOTA)).toMatchObject({ granted: true, used: 1 });
  });

  it('concurrent takes never spend more than the quota', async () => {
    const key = 'registry-1.docker.io|race';
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? invocation() : invocation()).take(key, 1, QUOTA)));
    expect(results.filter((r) => r.granted)).toHaveLength(3);
  });
});
