// What retention must keep because promotion put it there: per environment and repository, the digest promoted last and the one before it.
import { promotionLocks } from './policy.ts';
import type { PromotionStore } from './store.ts';

/**
 * The digests retention must keep, each with the reason the plan repeats: the digest an environment
 * serves now and its rollback target. Locks are by digest across registries: the same bytes stay
 * wherever they are, so a rollback never finds its target swept from the registry it syncs from.
 *
 * @example
 * const lockedDigests = await promotionLockedDigests(store);
 * await runRetentionSweep({ ...options, lockedDigests });
 */
export async function promotionLockedDigests(store: Pick<PromotionStore, 'allHistory'>): Promise<Map<string, string>> {
  const locks = promotionLocks(await store.allHistory());
  const reasons = new Map<string, string>();
  for (const [digest, roles] of locks) {
    reasons.set(digest, roles.map((r) => (r.role === 'current' ? `the promotion to ${r.environment} (${r.repository}): what it serves now` : `the promotion history of ${r.environment} (${r.repository}): its rollback target`)).join('; '));
  }
  return reasons;
}
