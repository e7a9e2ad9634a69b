// Reads a period of the audit log into the compliance model as a stream: one scan in page order, aggregated as it goes, then the chain verification.
import type { AuditLog } from '../audit/audit-log.ts';
import { parseTimeBound } from '../audit/time-bounds.ts';
import { ComplianceAccumulator, type ComplianceReport } from './compliance.ts';

export interface ComplianceQueryOptions {
  /** Inclusive: an ISO time, a date, or a duration before now (`30d`). */
  readonly since: string;
  /** Exclusive, same forms. */
  readonly until: string;
  readonly protectedEnvironments: readonly string[];
  /** @default new Date() */
  readonly now?: Date;
}

/**
 * The compliance report of a period. A period names no repository, actor or action, so no index
 * serves it: the audit store scans with a time filter. `order: 'any'` keeps that scan a stream (one
 * page in memory at a time) instead of sorting the period first; the accumulator's output does not
 * depend on the order. The chains are then verified partition by partition (a Query each).
 *
 * @example
 * const report = await complianceReport(log, { since: '30d', until: new Date().toISOString(), protectedEnvironments: ['prod'] });
 */
export async function complianceReport(log: Pick<AuditLog, 'iterate' | 'verify'>, options: ComplianceQueryOptions): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const since = parseTimeBound(options.since, now, 'since');
  const until = parseTimeBound(options.until, now, 'until');
  const acc = new ComplianceAccumulator({ since, until, protectedEnvironments: options.protectedEnvironments });
  for await (const r of log.iterate({ since, until, order: 'any' })) acc.add(r);
  return acc.finish(await log.verify());
}
