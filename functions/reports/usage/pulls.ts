// Pulls for the usage report: the pullStats counters (CloudTrail `BatchGetImage`, ECR only) of every image of an inventory.
import type { PullStatsScope, PullStatsStore } from '../../retention/pull-stats.ts';
import type { Inventory, PullCount } from '../../retention/types.ts';

/**
 * Pulls per `repository@digest` over the `days` UTC days ending on `until`'s day: digest counters plus
 * the counters of the tags each digest has now (CloudTrail does not record what a tag resolved to).
 * One Query per digest and tag on the table's key (`pk` = scope/repository#ref, `sk` >= the first day).
 */
export async function pullsOfInventory(store: PullStatsStore, scope: PullStatsScope, inventories: readonly Inventory[], days: number, until: Date): Promise<Map<string, PullCount[]>> {
  const out = new Map<string, PullCount[]>();
  for (const inv of inventories) {
    const tags = new Map(inv.images.map((i) => [i.digest, i.tags]));
    const counts = await store.pullsFor(scope, inv.repository, inv.images.map((i) => i.digest), days, { now: until, tags });
    for (const [digest, list] of counts) out.set(`${inv.repository}@${digest}`, list);
  }
  return out;
}
