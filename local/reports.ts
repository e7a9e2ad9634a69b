// The local stack's report pages: compliance, costs, usage and lineage over its own audit log, registries and dead-letter file.
import type { AuditLog } from '../functions/audit/index.ts';
import type { RegmanConfig } from '../functions/config/types.ts';
import type { RegistryAdapter } from '../functions/registries/adapter.ts';
import { listDeadLetters } from '../functions/replication/dlq.ts';
import type { PullStatsStore } from '../functions/retention/pull-stats.ts';
import { collectedReports } from '../functions/web/reports/collected-reports.ts';
import type { ConsoleReports } from '../functions/web/reports/console-reports.ts';

export interface LocalReportsOptions {
  readonly config: RegmanConfig;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly log: AuditLog;
  readonly dlqPath: string;
  readonly pullStats?: PullStatsStore;
}

/** The console Lambda's collectors (functions/web/reports/collected-reports.ts) with the stack's dead-letter file; no time limit. */
export function createLocalReports(o: LocalReportsOptions): ConsoleReports {
  return collectedReports({ config: o.config, adapters: o.adapters, log: o.log, deadLetters: () => listDeadLetters(o.dlqPath), ...(o.pullStats ? { pullStats: o.pullStats } : {}) });
}
