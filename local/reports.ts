// The local stack's report pages: compliance, costs, usage and lineage over its own audit log, registries and dead-letter file.
import type { AuditLog } from '../functions/audit/index.ts';
import type { RegmanConfig } from '../functions/config/types.ts';
import { parseReference, referenceTarget } from '../functions/oci/reference.ts';
import type { RegistryAdapter } from '../functions/registries/adapter.ts';
import { listDeadLetters } from '../functions/replication/dlq.ts';
import { complianceReport } from '../functions/reports/compliance-query.ts';
import { collectCostReport } from '../functions/reports/costs/collect.ts';
import { ReportError } from '../functions/reports/errors.ts';
import { collectLineage } from '../functions/reports/lineage/collect.ts';
import { auditRepositoriesFor, registryForHost } from '../functions/reports/lineage/resolve.ts';
import { collectUsageReport } from '../functions/reports/usage/collect.ts';
import type { PullStatsStore } from '../functions/retention/pull-stats.ts';
import type { ConsoleReports } from '../functions/web/reports/console-reports.ts';

export interface LocalReportsOptions {
  readonly config: RegmanConfig;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly log: AuditLog;
  readonly dlqPath: string;
  readonly pullStats?: PullStatsStore;
}

/**
 * The same collectors as `regman report …` and `regman lineage`. Lineage reaches only the stack's
 * own registries: a visitor's reference naming any other host is refused, never fetched.
 */
export function createLocalReports(o: LocalReportsOptions): ConsoleReports {
  return {
    compliance: (p) => complianceReport(o.log, p),
    costs: (p) => collectCostReport({ config: o.config, adapters: o.adapters, log: o.log, registries: p.registries }),
    usage: (p) => collectUsageReport({ config: o.config, adapters: o.adapters, log: o.log, since: p.since, until: p.until, registries: p.registries, deadLetters: () => listDeadLetters(o.dlqPath), ...(o.pullStats ? { pullStats: o.pullStats } : {}) }),
    async lineage(image) {
      const ref = parseReference(image);
      const configured = [...o.adapters.values()].map((a) => ({ name: a.name, host: a.host }));
      const name = registryForHost(ref.registry, configured);
      if (name === undefined) {
        throw new ReportError(`${ref.registry} is not a registry of this stack (registries: ${configured.map((c) => `${c.name} ${c.host}`).join(', ')})`, { code: 'REPORT_UNKNOWN_REGISTRY' });
      }
      return collectLineage({
        registry: o.adapters.get(name)!.oci,
        registryName: name,
        repository: ref.repository,
        reference: referenceTarget(ref),
        display: image,
        log: o.log,
        auditRepositories: auditRepositoriesFor(o.config, name, ref.repository),
      });
    },
  };
}
