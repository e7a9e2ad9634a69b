// Gathers what the usage report needs (inventories, pull counters, the period's audit records, dead letters) and builds it: shared by the CLI and the console.
import type { AuditLog } from '../../audit/index.ts';
import type { RegmanConfig } from '../../config/index.ts';
import type { RegistryAdapter } from '../../registries/adapter.ts';
import type { DeadLetterRecord } from '../../replication/dlq.ts';
import type { PullStatsStore } from '../../retention/pull-stats.ts';
import { pullStatsScopeOf } from '../../retention/sweep-run.ts';
import { loadRegistryInventory } from '../costs/inventory.ts';
import { pickRegistries } from '../costs/model.ts';
import { ReportError } from '../errors.ts';
import { UsageAccumulator, seriesDays, type UsageRegistryInput, type UsageReport } from './model.ts';
import { pullsOfInventory } from './pulls.ts';

export interface CollectUsageOptions {
  readonly config: RegmanConfig;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  /** ISO bounds of the period: [since, until). */
  readonly since: string;
  readonly until: string;
  /** The period's records are streamed from it (the time scan of docs/AUDIT.md); without one, pushes and replication are empty. */
  readonly log?: Pick<AuditLog, 'iterate'>;
  /** Pull counters (ECR registries only: CloudTrail `BatchGetImage`). */
  readonly pullStats?: PullStatsStore;
  /** Dead letters waiting; undefined when none could be read. */
  readonly deadLetters?: () => Promise<readonly DeadLetterRecord[]>;
  /** Only these registries (empty: all). @throws ReportError REPORT_UNKNOWN_REGISTRY */
  readonly registries?: readonly string[];
  readonly top?: number;
  /** Aborted: stop reading the inventories and the audit records (the console's deadline). */
  readonly signal?: AbortSignal;
}

/**
 * Reads the period's audit records first, then each registry's inventory and pulls. With a log, a period
 * that holds no record is an error, as for the compliance report (an empty report would read as "nothing
 * happened" when the period was probably mistyped); without one, pushes and replication are empty.
 *
 * @throws ReportError REPORT_EMPTY_PERIOD naming the period and how to widen it
 */
export async function collectUsageReport(o: CollectUsageOptions): Promise<UsageReport> {
  const days = seriesDays(o.since, o.until).length;
  const names = pickRegistries(Object.keys(o.config.registries).map((name) => ({ name })), o.registries ?? []).map((r) => r.name);
  const acc = new UsageAccumulator({ since: o.since, until: o.until, ...(o.top !== undefined ? { top: o.top } : {}) });
  // A period names no repository, actor or action: the time scan of docs/AUDIT.md, streamed in page order (`any`).
  if (o.log) {
    for await (const r of o.log.iterate({ since: o.since, until: o.until, order: 'any' })) {
      o.signal?.throwIfAborted();
      acc.add(r);
    }
    if (acc.recordCount === 0) throw emptyUsagePeriod(o.since, o.until);
  }
  const registries: UsageRegistryInput[] = [];
  for (const name of names) {
    const adapter = o.adapters.get(name)!;
    const repositories = await loadRegistryInventory(adapter, o.signal ? { signal: o.signal } : {});
    const scope = pullStatsScopeOf(o.config, name);
    const pulls = o.pullStats && scope ? await pullsOfInventory(o.pullStats, scope, repositories, days, new Date(o.until)) : undefined;
    registries.push({ name, kind: adapter.kind, repositories, ...(pulls ? { pulls } : {}) });
  }
  return acc.finish(registries, o.deadLetters ? await o.deadLetters() : undefined);
}

function emptyUsagePeriod(since: string, until: string): ReportError {
  return new ReportError(
    `No audit records from ${since} until ${until}: no pushes, replication or promotions to report for this period. Widen it with --since (e.g. --since 90d) or --until, or check the log with \`regman audit query\``,
    { code: 'REPORT_EMPTY_PERIOD' },
  );
}
