// The console's report data from a config, its registry adapters and an audit log: the collectors of `regman report …` and `regman lineage`, shared by the local stack and the console Lambda.
import type { AuditLog } from '../../audit/index.ts';
import type { RegmanConfig } from '../../config/types.ts';
import { parseReference, referenceTarget } from '../../oci/reference.ts';
import type { RegistryAdapter } from '../../registries/adapter.ts';
import type { DeadLetterRecord } from '../../replication/dlq.ts';
import { complianceReport } from '../../reports/compliance-query.ts';
import { collectCostReport } from '../../reports/costs/collect.ts';
import { ReportError } from '../../reports/errors.ts';
import { collectLineage } from '../../reports/lineage/collect.ts';
import { auditRepositoriesFor, registryForHost } from '../../reports/lineage/resolve.ts';
import { collectUsageReport } from '../../reports/usage/collect.ts';
import type { PullStatsStore } from '../../retention/pull-stats.ts';
import type { ConsoleReports } from './console-reports.ts';

export interface CollectedReportsOptions {
  readonly config: RegmanConfig;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly log: AuditLog;
  readonly pullStats?: PullStatsStore;
  /** Dead letters waiting (the local stack's file); the usage page says none could be read without it. */
  readonly deadLetters?: () => Promise<readonly DeadLetterRecord[]>;
  /**
   * A report still running after this many milliseconds is given up with REPORT_TOO_LARGE, naming the CLI command
   * that makes it without a time limit (a Lambda has one). @default no limit
   */
  readonly deadlineMs?: number;
  /** The CLI's connection flags for that message, e.g. `--table regman-audit --region eu-west-1`. */
  readonly cliFlags?: string;
}

/**
 * Races `work` against the deadline; on time-out the signal aborts it, so a frozen Lambda does not carry the
 * collection into its next request. The timer never keeps the process alive.
 */
async function withDeadline<T>(ms: number | undefined, command: string, work: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  if (ms === undefined) return work();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ReportError(`This report did not finish within the console's ${(ms / 1000).toFixed(0)} s (the registries' inventory or the period is too large for one request). Make it with the CLI instead: ${command}`, { code: 'REPORT_TOO_LARGE' }));
    }, ms);
    timer.unref();
  });
  const running = work(controller.signal);
  // The aborted collection's own rejection is not the page's answer.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, late]);
  } finally {
    clearTimeout(timer);
  }
}

const registryFlags = (registries: readonly string[]): string => registries.map((r) => ` --registry ${r}`).join('');

/**
 * The same collectors as `regman report …` and `regman lineage`. Lineage reaches only the configured
 * registries: a visitor's reference naming any other host is refused, never fetched.
 *
 * @example
 * const reports = collectedReports({ config, adapters, log, deadlineMs: 20_000, cliFlags: '--table regman-audit' });
 */
export function collectedReports(o: CollectedReportsOptions): ConsoleReports {
  const flags = o.cliFlags ? ` ${o.cliFlags}` : '';
  return {
    compliance: (p) =>
      withDeadline(o.deadlineMs, `regman report compliance --since ${p.since} --until ${p.until}${p.protectedEnvironments.map((e) => ` --protected ${e}`).join('')}${flags}`, () => complianceReport(o.log, p)),
    costs: (p) =>
      withDeadline(o.deadlineMs, `regman report costs${registryFlags(p.registries)}${flags}`, (signal) =>
        collectCostReport({ config: o.config, adapters: o.adapters, log: o.log, registries: p.registries, ...(signal ? { signal } : {}) }),
      ),
    usage: (p) =>
      withDeadline(o.deadlineMs, `regman report usage --since ${p.since} --until ${p.until}${registryFlags(p.registries)}${flags}`, (signal) =>
        collectUsageReport({
          config: o.config,
          adapters: o.adapters,
          log: o.log,
          since: p.since,
          until: p.until,
          registries: p.registries,
          ...(o.deadLetters ? { deadLetters: o.deadLetters } : {}),
          ...(o.pullStats ? { pullStats: o.pullStats } : {}),
          ...(signal ? { signal } : {}),
        }),
      ),
    async lineage(image) {
      const ref = parseReference(image);
      const configured = [...o.adapters.values()].map((a) => ({ name: a.name, host: a.host }));
      const name = registryForHost(ref.registry, configured);
      if (name === undefined) {
        throw new ReportError(`${ref.registry} is not a registry of this stack (registries: ${configured.map((c) => `${c.name} ${c.host}`).join(', ')})`, { code: 'REPORT_UNKNOWN_REGISTRY' });
      }
      return withDeadline(o.deadlineMs, `regman lineage ${image}${flags}`, () =>
        collectLineage({
          registry: o.adapters.get(name)!.oci,
          registryName: name,
          repository: ref.repository,
          reference: referenceTarget(ref),
          display: image,
          log: o.log,
          auditRepositories: auditRepositoriesFor(o.config, name, ref.repository),
        }),
      );
    },
  };
}
