// The audit records the cost report reads: transfers and retention deletions since a time, one index query per action, the six in parallel, only the fields the model sums.
import type { AuditLog } from '../../audit/audit-log.ts';
import type { StoredAuditRecord } from '../../audit/types.ts';
import { TRANSFER_ACTIONS } from './model.ts';

/** Actions the cost report sums: every transfer action, and `retention.delete` for the reduction achieved. */
export const COST_ACTIONS: readonly string[] = [...TRANSFER_ACTIONS, 'retention.delete'];

/** The fields of a record the cost model reads (TransferAccumulator and the bytes freed); the query projects only these. */
export const COST_FIELDS = ['action', 'outcome', 'bytes', 'source', 'target', 'registry'] as const satisfies readonly (keyof StoredAuditRecord)[];

/** What the cost report knows of one audit record. */
export type CostRecord = Pick<StoredAuditRecord, (typeof COST_FIELDS)[number]>;

/**
 * One byActionTime Query per action (`action = :a AND timeKey >= :since`, ProjectionExpression of
 * COST_FIELDS): the index serves each, no scan, and DynamoDB sends six attributes per record instead
 * of the whole item. The six queries run together, each one page ahead of the report, and pages are
 * handed over as they arrive (the sums do not depend on the order). Nothing is hashed or verified:
 * the cost report trusts the log as `audit query` does; `audit verify` is the chain's check.
 *
 * @example
 * const report = await buildCostReport(registries, costRecords(log, '30d'), { now });
 */
export function costRecords(log: Pick<AuditLog, 'pages'>, since: string): AsyncIterable<readonly CostRecord[]> {
  return interleave(COST_ACTIONS.map((action) => log.pages({ action, since, order: 'any' }, COST_FIELDS)));
}

/**
 * Pages of every source as each arrives: each source has its next page requested as soon as its
 * previous one is handed over, so all of them download while the consumer works.
 */
async function* interleave<T>(sources: readonly AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const pull = (i: number): void => {
    pending.set(i, iterators[i]!.next().then((r) => ({ i, r })));
  };
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      pending.delete(i);
      if (r.done) continue;
      pull(i);
      yield r.value;
    }
  } finally {
    // Stopped early or failed: end the other queries too (their pending pages are dropped).
    for (const [i, p] of pending) {
      p.catch(() => undefined);
      await iterators[i]!.return?.();
    }
  }
}
