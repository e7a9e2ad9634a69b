// The audit records the cost report reads: transfers and retention deletions since a time, one index query per action, streamed.
import type { AuditLog } from '../../audit/audit-log.ts';
import type { StoredAuditRecord } from '../../audit/types.ts';
import { TRANSFER_ACTIONS } from './model.ts';

/** Actions the cost report sums: every transfer action, and `retention.delete` for the reduction achieved. */
export const COST_ACTIONS: readonly string[] = [...TRANSFER_ACTIONS, 'retention.delete'];

/**
 * One byActionTime Query per action (`action = :a AND timeKey >= :since`): the index serves each,
 * no scan, and pages are read only as the report consumes them.
 *
 * @example
 * const report = await buildCostReport(registries, costRecords(log, '30d'), { now });
 */
export async function* costRecords(log: Pick<AuditLog, 'iterate'>, since: string): AsyncIterable<StoredAuditRecord> {
  for (const action of COST_ACTIONS) yield* log.iterate({ action, since, order: 'any' });
}
