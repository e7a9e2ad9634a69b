// The audit records the cost report reads: transfers and retention deletions since a time, one index query per action, the six in parallel, only the fields the model sums.
import type { AuditLog } from '../../audit/audit-log.ts';
import type { StoredAuditRecord } from '../../audit/types.ts';
import { TRANSFER_ACTIONS } from './model.ts';

/** Actions the cost report sums: every transfer action, and `retention.delete` for the reduction achieved. */
export const COST_ACTIONS: readonly string[] = [...TRANSFER_ACTIONS, 'retention.delete'];

/** The fields of a record the cost model reads (TransferAccumulator and the bytes freed). */
export const COST_FIELDS = ['action', 'outcome', 'bytes', 'source', 'target', 'registry'] as const satisfies readonly (keyof StoredAuditRecord)[];

/**
 * What each query projects: `action` is the query's own key (set on each record here, not sent), a
 * transfer needs no `registry` and a retention deletion no `source`/`target`. Fewer bytes to parse.
 */
const PROJECTED = {
  transfer: ['outcome', 'bytes', 'source', 'target'],
  'retention.delete': ['outcome', 'bytes', 'registry'],
} as const satisfies Record<string, readonly (typeof COST_FIELDS)[number][]>;

/** What the cost report knows of one audit record. */
export type CostRecord = Pick<StoredAuditRecord, (typeof COST_FIELDS)[number]>;

/**
 * One byActionTime Query per action (`action = :a AND timeKey >= :since`, a ProjectionExpression of
 * the fields that action's records are summed by): the index serves each, no scan, and DynamoDB sends
 * three or four attributes per record instead of the whole item (about 20). The six queries run together, each one page ahead of the report, and pages are
 * handed over as they arrive (the sums do not depend on the order). Nothing is hashed or verified:
 * the cost report trusts the log as `audit query` does; `audit verify` is the chain's check.
 *
 * @example
 * const report = await buildCostReport(registries, costRecords(log, '30d'), { now });
 */
export function costRecords(log: Pick<AuditLog, 'pages'>, since: string): AsyncIterable<readonly CostRecord[]> {
  return interleave(COST_ACTIONS.map((action) => withAction(action, log.pages({ action, since, order: 'any' }, action === 'retention.delete' ? PROJECTED['retention.delete'] : PROJECTED.transfer))));
}

/** Puts the queried action back on each record of `pages`. */
async function* withAction(action: string, pages: AsyncIterable<Partial<CostRecord>[]>): AsyncIterable<CostRecord[]> {
  for await (const page of pages) {
    for (const r of page) (r as { action?: string }).action = action;
    yield page as CostRecord[];
  }
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
