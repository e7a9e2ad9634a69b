// Gathers what the cost report needs (inventories through the adapters, transfer and retention records from the audit log) and builds it: shared by the CLI and the console.
import type { AuditLog } from '../../audit/index.ts';
import { parseTimeBound } from '../../audit/time-bounds.ts';
import { storagePriceOf, type RegmanConfig } from '../../config/index.ts';
import type { RegistryAdapter } from '../../registries/adapter.ts';
import { loadRegistryInventory } from './inventory.ts';
import { pickRegistries, type CostRegistryInput } from './model.ts';
import { ReportError } from '../errors.ts';
import { AUDITED_ACTIONS, anyRecordSince } from './period-records.ts';
import { COST_ACTIONS, costRecords, type CostRecord } from './records.ts';
import { priceSheetFor, type PriceOverride, type RegistryKind } from './prices.ts';
import { buildCostReport, type CostReport } from './report.ts';

export interface CollectCostsOptions {
  readonly config: RegmanConfig;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  /** Where transfer and retention records come from; without one, transfer and reductions are empty. */
  readonly log?: Pick<AuditLog, 'pages' | 'iterate'>;
  /**
   * Refuse a period in which `log` holds no record at all (`regman report costs`, whose `--since` the
   * message says to widen). The console's page has no period to widen: it shows the storage anyway.
   * @throws ReportError REPORT_EMPTY_PERIOD
   * @default false
   */
  readonly refuseEmptyPeriod?: boolean;
  /** Only these registries (empty: all). @throws ReportError REPORT_UNKNOWN_REGISTRY */
  readonly registries?: readonly string[];
  /** Transfer and reductions since (ISO time or a duration such as 30d). @default 30d */
  readonly since?: string;
  readonly unpulledDays?: number;
  readonly now?: Date;
  /** Aborted: stop reading the inventories (the console's deadline). */
  readonly signal?: AbortSignal;
}

/**
 * Every configured registry with its price sheet: the kind's list prices with the config's `pricing:`
 * overrides (`storagePricePerGbMonth`, the older name of `pricing.storagePerGbMonth`, still counts).
 * Container Registry (`gcr`) is priced as Artifact Registry, which serves gcr.io today.
 */
export function costRegistries(config: RegmanConfig): CostRegistryInput[] {
  return Object.entries(config.registries).map(([name, cfg]) => {
    const c = cfg as { kind: RegistryKind | 'gcr'; region?: string; location?: string; pricing?: PriceOverride };
    const kind: RegistryKind = c.kind === 'gcr' ? 'gar' : c.kind;
    const region = c.region ?? c.location;
    const storage = storagePriceOf(cfg);
    const override: PriceOverride = { ...c.pricing, ...(storage !== undefined ? { storagePerGbMonth: storage } : {}) };
    return { name, kind, ...(region ? { region } : {}), sheet: priceSheetFor(name, kind, override), repositories: [] };
  });
}

/** The registries a replication rule or an environment needs: duplicates there are not savings. */
export function neededRegistries(config: RegmanConfig): Set<string> {
  const needed = new Set<string>();
  for (const rule of config.replication ?? []) {
    needed.add(rule.source);
    for (const t of rule.targets) needed.add(t.registry);
  }
  for (const env of Object.values(config.environments ?? {})) for (const r of env.registries) needed.add(r);
  return needed;
}

/**
 * Reads every repository of each chosen registry (one manifest GET per digest for the blob lists) and
 * the audit records (streamed: one byActionTime query per action, records.ts), then builds the report.
 * With `refuseEmptyPeriod`, a period in which the log holds no record at all is an error, as for the
 * compliance and usage reports: there is nothing to report transfer or reductions from. "No record"
 * is checked per action (`anyRecordSince`: one byActionTime Query with `Limit: 1` for each action
 * regman writes that the cost queries did not cover), so an empty period on a large table costs a few
 * dozen small requests, not a Scan.
 */
export async function collectCostReport(o: CollectCostsOptions): Promise<CostReport> {
  const now = o.now ?? new Date();
  let since: string;
  try {
    since = parseTimeBound(o.since ?? '30d', now, 'since');
  } catch (err) {
    throw new ReportError((err as Error).message, { code: 'REPORT_INVALID', cause: err });
  }
  const chosen = pickRegistries(costRegistries(o.config), o.registries ?? []);
  const withInventory: CostRegistryInput[] = [];
  for (const r of chosen) withInventory.push({ ...r, repositories: await loadRegistryInventory(o.adapters.get(r.name)!, o.signal ? { signal: o.signal } : {}) });
  const needed = neededRegistries(o.config);
  let read = 0;
  async function* counted(pages: AsyncIterable<readonly CostRecord[]>): AsyncIterable<readonly CostRecord[]> {
    for await (const page of pages) {
      read += page.length;
      yield page;
    }
  }
  const report = await buildCostReport(withInventory, o.log ? counted(costRecords(o.log, since)) : [], {
    now,
    ...(o.log ? { since } : {}),
    needed: (registry) => needed.has(registry),
    ...(o.unpulledDays !== undefined ? { unpulledDays: o.unpulledDays } : {}),
  });
  // The cost actions' queries came back empty; the other actions are one `Limit: 1` index Query each, not a Scan.
  if (o.refuseEmptyPeriod && o.log && read === 0 && !(await anyRecordSince(o.log, since, { actions: OTHER_ACTIONS }))) throw emptyCostPeriod(since, now);
  return report;
}

/** The actions whose records the cost report does not read already. */
const OTHER_ACTIONS = AUDITED_ACTIONS.filter((a) => !COST_ACTIONS.includes(a));

function emptyCostPeriod(since: string, now: Date): ReportError {
  return new ReportError(
    `No audit records from ${since} until now (${now.toISOString()}): no transfer or retention to report for this period. Widen it with --since (e.g. --since 90d), or check the log with \`regman audit query\``,
    { code: 'REPORT_EMPTY_PERIOD' },
  );
}
