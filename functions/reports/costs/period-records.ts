// Whether the audit log holds any record since a time, cheaply: one byActionTime Query with `Limit: 1` per action regman writes, never a Scan of the table.
import type { AuditLog } from '../../audit/index.ts';

/**
 * Every action regman appends (docs/AUDIT.md), most frequent first: replication, the CLI's copies,
 * retention, the promotion workflow's steps (functions/promotion/deps.ts `auditStep`), approvals
 * (functions/approvals/service.ts), holds and quarantine releases, rejected events and webhooks.
 * The record schema accepts any dotted name, so a new action must be added here to be seen by
 * `anyRecordSince`.
 */
export const AUDITED_ACTIONS: readonly string[] = [
  'replicate', 'replicate.deferred', 'replicate.fanout', 'replicate.interrupted', 'reconcile', 'event.rejected',
  'copy', 'sync', 'tag', 'delete',
  'retention.plan', 'retention.delete',
  'promote.validate', 'promote.scan', 'promote.signature', 'promote.tests', 'promote.quarantine', 'promote.request-approval',
  'promote.apply-tags', 'promote.sync', 'promote.rollback', 'promote.record', 'promote.rollback-env',
  'promote.quarantine-release', 'promote.hold-set', 'promote.hold-release',
  'approval.request', 'approval.notify', 'approval.approve', 'approval.reject', 'approval.refused', 'approval.complete',
  'webhook.request',
];

export interface AnyRecordOptions {
  /** The actions to look for. @default AUDITED_ACTIONS */
  readonly actions?: readonly string[];
  /** Queries in flight at a time. @default 4 */
  readonly concurrency?: number;
}

/**
 * True as soon as one action has a record at or after `since`. Each action is one Query of the
 * byActionTime index (`action = :a AND timeKey >= :since`, `Limit: 1`): over an empty period each
 * answers with no item after reading none, so the check costs one small request per action however
 * large the table is, where a time-only read (`iterate({ since })`) is a Scan of the whole table. A
 * few run at a time; once one finds a record no other is started.
 *
 * Records of an action not in `actions` are not looked for (the record schema accepts any name).
 *
 * @example
 * if (!(await anyRecordSince(log, '2026-05-01T00:00:00.000Z'))) throw emptyPeriod();
 */
export async function anyRecordSince(log: Pick<AuditLog, 'iterate'>, since: string, options: AnyRecordOptions = {}): Promise<boolean> {
  const queue = [...(options.actions ?? AUDITED_ACTIONS)];
  let found = false;
  const worker = async (): Promise<void> => {
    for (let action = queue.shift(); action !== undefined && !found; action = queue.shift()) {
      for await (const _ of log.iterate({ action, since, order: 'any', limit: 1 })) {
        found = true;
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) }, worker));
  return found;
}
