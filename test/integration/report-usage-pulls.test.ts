// Pulls for the usage report from the pullStats table (dynalite): digest and tag counters of an inventory, summed over the period, into the most-pulled list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PULL_STATS_TABLE } from '../../functions/dynamo/tables.ts';
import { UsageAccumulator } from '../../functions/reports/usage/model.ts';
import { pullsOfInventory } from '../../functions/reports/usage/pulls.ts';
import { DynamoPullStatsStore } from '../../functions/retention/pull-stats.ts';
import type { Inventory } from '../../functions/retention/types.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const scope = { registryId: '111122223333', region: 'eu-west-1' };
const d = (n: number): string => `sha256:${String(n).padStart(64, '0')}`;

describe('usage pulls from the pullStats table', () => {
  let db: DynaliteHandle;
  beforeAll(async () => {
    db = await startDynalite({ tables: { pullStats: PULL_STATS_TABLE } });
  });
  afterAll(() => db?.stop());

  it('adds digest and current-tag counters inside the period and ranks the images', async () => {
    // Prepare: v1's digest pulled 2 + 3 times (by digest, then by tag), once before the period; v2 never.
    const store = new DynamoPullStatsStore({ docClient: db.docClient, tableName: db.tableNames.pullStats });
    await store.increment(scope, 'team/app', d(1), '2026-03-02', 2);
    await store.increment(scope, 'team/app', 'tag:v1', '2026-03-03', 3);
    await store.increment(scope, 'team/app', d(1), '2026-02-01', 9);
    await store.increment(scope, 'team/other', d(1), '2026-03-02', 50);
    const inventory: Inventory[] = [{ repository: 'team/app', images: [{ digest: d(1), tags: ['v1'], pushedAt: '2026-01-01T00:00:00Z', lastPulledAt: null }, { digest: d(2), tags: ['v2'], pushedAt: '2026-01-01T00:00:00Z', lastPulledAt: null }] }];
    // Act
    const pulls = await pullsOfInventory(store, scope, inventory, 3, new Date('2026-03-03T12:00:00Z'));
    const report = new UsageAccumulator({ since: '2026-03-01T00:00:00.000Z', until: '2026-03-04T00:00:00.000Z' }).finish([{ name: 'ecr', kind: 'ecr', repositories: inventory, pulls }]);
    // Assess
    expect(pulls.get(`team/app@${d(1)}`)).toEqual([{ day: '2026-03-02', count: 2 }, { day: '2026-03-03', count: 3 }]);
    expect(pulls.get(`team/app@${d(2)}`)).toEqual([]);
    expect(report.pulls).toEqual([expect.objectContaining({ registry: 'ecr', repository: 'team/app', pulls: 5, unpulled: 1 })]);
    expect(report.mostPulled.map((i) => [i.digest, i.tags, i.pulls])).toEqual([[d(1), ['v1'], 5]]);
  });
});
