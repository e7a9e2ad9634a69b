// Copies a dead process left unfinished: each is audited as `replicate.interrupted`, so an auditor sees the gap that reconcile then closes.
import type { AuditLog } from '../audit/index.ts';
import { errorMessageOf, silentLogger, type LoggerLike } from './observability.ts';
import type { InFlightCopy, ReplicationStateStore } from './tag-state.ts';

export interface AuditInterruptedOptions {
  readonly state: ReplicationStateStore;
  readonly audit: AuditLog;
  /** @default `system:recovery` */
  readonly actor?: string;
  /**
   * Only markers older than this are interrupted copies (a younger one may be running now, in another
   * Lambda). The local stack passes 0: its previous process is gone. @default 15 minutes (Lambda's limit)
   */
  readonly olderThanMs?: number;
  readonly now?: () => number;
  readonly logger?: LoggerLike;
}

/**
 * Audits every interrupted copy (outcome `failure`, errorCode `INTERRUPTED`, the start time in
 * `details.startedAt`) and removes its marker. Nothing was published half-done (the engine tags last);
 * the next reconcile repairs the target. Returns the copies audited.
 *
 * @example
 * const interrupted = await auditInterruptedCopies({ state, audit, olderThanMs: 0 });
 */
export async function auditInterruptedCopies(options: AuditInterruptedOptions): Promise<InFlightCopy[]> {
  const logger = options.logger ?? silentLogger;
  const now = (options.now ?? Date.now)();
  const olderThan = options.olderThanMs ?? 15 * 60_000;
  const stale = (await options.state.copiesInFlight()).filter((c) => now - Date.parse(c.startedAt) >= olderThan);
  const audited: InFlightCopy[] = [];
  for (const copy of stale) {
    try {
      await options.audit.append({
        actor: options.actor ?? 'system:recovery',
        action: 'replicate.interrupted',
        outcome: 'failure',
        correlationId: copy.correlationId,
        source: copy.source,
        target: copy.target,
        repository: copy.repository,
        digest: copy.digest,
        tags: [copy.tag],
        errorCode: 'INTERRUPTED',
        errorMessage: `the copy to ${copy.target} (${copy.targetRepository}:${copy.tag}) started at ${copy.startedAt} and never finished: its process stopped; nothing was tagged, and reconcile repairs the target`,
        details: { rule: copy.rule, targetRepository: copy.targetRepository, startedAt: copy.startedAt },
      });
      await options.state.copyEnded(copy);
      audited.push(copy);
    } catch (err) {
      // Left in place: the next start-up tries again.
      logger.error('Could not audit an interrupted copy', { correlationId: copy.correlationId, target: copy.target, error: errorMessageOf(err) });
    }
  }
  return audited;
}
