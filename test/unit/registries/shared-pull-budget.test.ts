// The pull budget shared across invocations: a rolling window of slot counts in one DynamoDB item, written conditionally, on dynalite.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPullBudget, SLOTS_PER_WINDOW, rollingTake, slotMs } from '../../../functions/registries/shared-pull-budget.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

const SIX_HOURS = 21_600;
const HOUR = 3_600_000;
const SLOT = slotMs(SIX_HOURS);
const QUOTA = { limit: 3, windowSeconds: SIX_HOURS };

describe('rollingTake (the window arithmetic)', () => {
  it('slots are a sixtieth of the window: 6 minutes for Docker Hub', () => {
    expect(SLOT).toBe((SIX_HOURS * 1000) / SLOTS_PER_WINDOW);
    expect(SLOT).toBe(6 * 60_000);
  });

  it('grants while the pulls of the last window plus the cost fit, counting the take in the current slot', () => {
    const now = 10 * SLOT + 5;
    const d = rollingTake({ [String(2 * SLOT)]: 1 }, 2, QUOTA, now);
    expect(d).toMatchObject({ granted: true, used: 3 });
    expect(d.slots).toEqual({ [String(2 * SLOT)]: 1, [String(10 * SLOT)]: 2 });
  });

  it('a burst either side of a six-hour boundary is refused: fixed windows would have granted twice the limit', () => {
    const boundary = 100 * 6 * HOUR;
    const before = rollingTake({}, 3, QUOTA, boundary - 60_000);
    expect(before.granted).toBe(true);
    const after = rollingTake(before.slots, 1, QUOTA, boundary + 60_000);
    expect(after.granted).toBe(false);
    // Back once those pulls are a whole window old (counted from the end of their slot: never before Hub forgets them).
    const slotStart = Math.floor((boundary - 60_000) / SLOT) * SLOT;
    expect(after.resetAt).toBe(slotStart + SLOT + SIX_HOURS * 1000);
    expect(after.resetAt - (boundary - 60_000)).toBeGreaterThanOrEqual(SIX_HOURS * 1000);
    expect(rollingTake(before.slots, 1, QUOTA, after.resetAt - 1).granted).toBe(false);
    expect(rollingTake(before.slots, 1, QUOTA, after.resetAt)).toMatchObject({ granted: true, used: 1 });
  });

  it('quota comes back slot by slot, oldest first, and old slots are dropped from the item', () => {
    const counts = { [String(0)]: 1, [String(10 * SLOT)]: 1, [String(20 * SLOT)]: 1 };
    const now = 30 * SLOT;
    const refused = rollingTake(counts, 2, QUOTA, now);
    // Two must leave for a take of 2: the slot at 10·SLOT is the second oldest.
    expect(refused).toMatchObject({ granted: false, used: 3, resetAt: 10 * SLOT + SLOT + SIX_HOURS * 1000 });
    const later = rollingTake(counts, 1, QUOTA, SLOT + SIX_HOURS * 1000);
    expect(later).toMatchObject({ granted: true, used: 3 });
    expect(Object.keys(later.slots)).not.toContain('0');
  });

  it('a cost above the limit never fits: refused for a whole window', () => {
    expect(rollingTake({}, 4, QUOTA, 1000)).toMatchObject({ granted: false, used: 0, resetAt: 1000 + SIX_HOURS * 1000 });
  });
});

describe('DynamoPullBudget', () => {
  let db: DynaliteHandle;
  let clock = Date.UTC(2026, 11, 2, 5, 58, 0);
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(() => db.stop());
  // Separate instances over the same table: separate invocations.
  const invocation = (maxConflicts?: number): DynamoPullBudget =>
    new DynamoPullBudget({ docClient: db.docClient, tableName: db.tableNames.replicationState, now: () => clock, ...(maxConflicts !== undefined ? { maxConflicts } : {}) });
  const stored = async (key: string): Promise<Record<string, number>> =>
    ((await db.docClient.send(new GetCommand({ TableName: db.tableNames.replicationState, Key: { pk: `budget#${key}`, sk: `rolling#${SIX_HOURS}` } }))).Item?.slots ?? {}) as Record<string, number>;

  it('grants the quota once between all invocations, refuses past it across the 06:00 boundary, and counts per credential', async () => {
    const [a, b] = [invocation(), invocation()];
    const key = 'registry-1.docker.io|ci';
    const first = clock;
    expect((await a.take(key, 1, QUOTA)).granted).toBe(true);
    expect(await b.take(key, 2, QUOTA)).toMatchObject({ granted: true, used: 3 });
    // 06:01: a fixed six-hour window would start afresh here; Hub's rolling one does not.
    clock = Date.UTC(2026, 11, 2, 6, 1, 0);
    const refused = await a.take(key, 1, QUOTA);
    expect(refused).toEqual({ granted: false, used: 3, resetAt: Math.floor(first / SLOT) * SLOT + SLOT + SIX_HOURS * 1000 });
    expect((await b.take(key, 1, QUOTA)).granted).toBe(false);
    // Another account has its own budget.
    expect((await b.take('registry-1.docker.io|other', 3, QUOTA)).granted).toBe(true);
    // Once the first pulls are a window old, the budget is back.
    clock = refused.resetAt;
    expect(await a.take(key, 1, QUOTA)).toMatchObject({ granted: true, used: 1 });
    expect(Object.values(await stored(key))).toEqual([1]);
  });

  it('concurrent takes from many invocations never spend more than the quota, and no take is lost', async () => {
    const key = 'registry-1.docker.io|race';
    const quota = { limit: 5, windowSeconds: SIX_HOURS };
    const results = await Promise.all(Array.from({ length: 12 }, () => invocation(30).take(key, 1, quota)));
    expect(results.filter((r) => r.granted)).toHaveLength(5);
    expect(Object.values(await stored(key)).reduce((s, n) => s + n, 0)).toBe(5);
    // The refusals all name the same moment: when the slot of those five pulls leaves the window.
    expect(new Set(results.filter((r) => !r.granted).map((r) => r.resetAt))).toEqual(new Set([Math.floor(clock / SLOT) * SLOT + SLOT + SIX_HOURS * 1000]));
  });
});
