// Retention locks from the promotions history: what each environment serves and its rollback target are kept, and the plan says why.
import { describe, expect, it } from 'vitest';
import type { PromotionHistoryEntry } from '../../../functions/promotion/types.ts';
import { promotionLockedDigests } from '../../../functions/promotion/retention-locks.ts';
import { parsePolicy, planRetention } from '../../../functions/retention/index.ts';
import { NOW, d, img } from '../retention/helpers.ts';

const entry = (environment: string, digest: string, time: string, kind: PromotionHistoryEntry['kind'] = 'promote'): PromotionHistoryEntry => ({
  environment,
  repository: 'team/app',
  digest,
  tag: 'v1',
  time,
  executionId: `exec-${time}`,
  requester: 'cli:rita',
  approvers: [],
  gates: [],
  kind,
});

describe('promotionLockedDigests', () => {
  it('locks the current and the previous digest per environment, with the reason, and nothing older', async () => {
    // Prepare: prod went a → b → c; staging serves c too.
    const history = [
      entry('prod', d('a'), '2026-11-01T00:00:00Z'),
      entry('prod', d('b'), '2026-11-02T00:00:00Z'),
      entry('prod', d('c'), '2026-11-03T00:00:00Z'),
      entry('staging', d('c'), '2026-11-02T12:00:00Z'),
    ];
    // Act
    const locks = await promotionLockedDigests({ allHistory: async () => history });
    // Assess
    expect([...locks.keys()].sort()).toEqual([d('b'), d('c')].sort());
    expect(locks.get(d('c'))).toBe('the promotion to prod (team/app): what it serves now; the promotion to staging (team/app): what it serves now');
    expect(locks.get(d('b'))).toBe('the promotion history of prod (team/app): its rollback target');
  });

  it('feeds the planner, which keeps a promoted old digest and repeats why', async () => {
    // Prepare: two old images, one of them promoted to prod; the policy deletes everything older than a day.
    const images = [img('promoted', ['v1'], 90), img('stale', ['v0'], 90)];
    const lockedDigests = await promotionLockedDigests({ allHistory: async () => [entry('prod', d('promoted'), '2026-10-01T00:00:00Z')] });
    // Act
    const plan = planRetention({ repository: 'team/app', images }, parsePolicy({ delete: { olderThanDays: 1 } }), { now: NOW, force: true, lockedDigests });
    // Assess
    expect(plan.expire.map((e) => e.digest)).toEqual([d('stale')]);
    expect(plan.keep.find((k) => k.digest === d('promoted'))).toMatchObject({ rule: 'lock', reason: 'locked by the promotion to prod (team/app): what it serves now' });
  });
});
