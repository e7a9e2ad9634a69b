// Reads a period of the audit log into the compliance model as a stream: the chain verification's one pass over every chain feeds the accumulator.
import type { AuditLog } from '../audit/audit-log.ts';
import { parseTimeBound } from '../audit/time-bounds.ts';
import { ComplianceAccumulator, type ComplianceReport } from './compliance.ts';
import { scanInWorkers, type ParallelScanSource } from './parallel-audit-scan.ts';

export interface ComplianceQueryOptions {
  /** Inclusive: an ISO time, a date, or a duration before now (`30d`). */
  readonly since: string;
  /** Exclusive, same forms. */
  readonly until: string;
  readonly protectedEnvironments: readonly string[];
  /** @default new Date() */
  readonly now?: Date;
  /**
   * Read the table in worker threads (functions/reports/parallel-audit-scan.ts: each checks and
   * folds its own Scan segments), instead of the log's own one-thread scan. The CLI's `--table` reads.
   */
  readonly parallel?: ParallelScanSource;
}

/**
 * The compliance report of a period, in one pass over the log: the chain verification reads every
 * chain (one parallel Scan of the table, functions/audit/dynamo-store.ts scanChains, or worker
 * threads' segments), and each record inside the period goes into the accumulator on the way. A
 * period names no repository, actor or action, so no index serves it; reading the chains once,
 * rather than a time-filtered Scan and then the chains again for the verification, halves the
 * reads. Nothing is kept but the accumulator's counters, the open promotion runs, the protected
 * runs' evidence and security events, and its output does not depend on the order.
 *
 * @example
 * const report = await complianceReport(log, { since: '30d', until: new Date().toISOString(), protectedEnvironments: ['prod'] });
 */
export async function complianceReport(log: Pick<AuditLog, 'verify'>, options: ComplianceQueryOptions): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const since = parseTimeBound(options.since, now, 'since');
  const until = parseTimeBound(options.until, now, 'until');
  const fresh = () => new ComplianceAccumulator({ since, until, protectedEnvironments: options.protectedEnvironments });
  const parallel = options.parallel;
  if (!parallel) {
    const acc = fresh();
    // The same records the time scan selects: chain records (with a seq) with since <= time < until.
    const chain = await log.verify({ visit: (r) => (r.seq !== undefined && r.time >= since && r.time < until ? acc.add(r) : undefined) });
    return acc.finish(chain);
  }
  const inWorkers = async (closeChains: boolean) => {
    const acc = fresh();
    const chain = await log.verify({
      scan: async (anchors) => {
        const out = await scanInWorkers(parallel, anchors, { since, until, protectedEnvironments: options.protectedEnvironments, closeChains });
        for (const part of out.compliance) acc.merge(part);
        return out.chains;
      },
    });
    return { acc, chain };
  };
  let { acc, chain } = await inWorkers(true);
  // A promotion run with records in two chains was finished early by one of them: read again, holding every run to the end.
  if (acc.spansChains) ({ acc, chain } = await inWorkers(false));
  return acc.finish(chain);
}
