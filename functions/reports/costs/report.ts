// The cost report: storage per registry and repository, transfer per pair, savings and reduction achieved, from inventories and audit records.
import type { CostRecord } from './records.ts';
import { TransferAccumulator, findSavings, reductionFromBytesFreed, registryStorageCost, type CostRegistryInput, type RegistryCost, type Saving, type TransferPair } from './model.ts';

/** Why a registry's reduction achieved is null: its audit log has no `retention.delete` record (of any outcome) in the period. */
export const NO_RETENTION_APPLY = 'no retention apply in this period';

/**
 * "Cost reduction achieved" of one registry (`reductionFromBytesFreed`). With no retention apply in the
 * period there is nothing to compare: `before`, `after` and `saved` are null and `reason` says why
 * (rather than `$0.00 → $0.00`, or today's cost twice, which read as "a sweep saved nothing").
 */
export type CostReduction =
  | { readonly before: number; readonly after: number; readonly saved: number; readonly bytesFreed: number }
  | { readonly before: null; readonly after: null; readonly saved: null; readonly bytesFreed: 0; readonly reason: string };

export interface CostReport {
  readonly kind: 'regman.cost-report';
  readonly generatedAt: string;
  /** Start of the period transfer and reductions were read from (ISO), when the report was built from an audit log. */
  readonly since?: string;
  readonly registries: readonly (RegistryCost & { readonly reduction: CostReduction })[];
  readonly transfer: { readonly pairs: readonly TransferPair[]; readonly total: number; readonly unpricedBytes: number };
  readonly savings: readonly Saving[];
  readonly totalPerMonth: number;
  readonly savingsPerMonth: number;
}

/**
 * Assembles the report; `records` are the transfer and `retention.delete` records (full records or
 * just their COST_FIELDS), a list or streamed in pages (`costRecords`), summed as they come: none is kept.
 */
export async function buildCostReport(
  registries: readonly CostRegistryInput[],
  records: Iterable<CostRecord> | AsyncIterable<readonly CostRecord[]>,
  options: { readonly now: Date; readonly since?: string; readonly needed?: (registry: string, repository: string) => boolean; readonly unpulledDays?: number },
): Promise<CostReport> {
  const byName = new Map(registries.map((r) => [r.name, r]));
  const transfer = new TransferAccumulator(byName);
  const freed = new Map<string, number>();
  /** Registries a retention apply touched in the period: any `retention.delete`, even one skipped or failed. */
  const applied = new Set<string>();
  const add = (r: CostRecord): void => {
    transfer.add(r);
    if (r.action !== 'retention.delete' || r.registry === undefined) return;
    applied.add(r.registry);
    if (r.outcome === 'success') freed.set(r.registry, (freed.get(r.registry) ?? 0) + (r.bytes ?? 0));
  };
  if (Symbol.asyncIterator in records) {
    for await (const page of records) for (const r of page) add(r);
  } else {
    for (const r of records) add(r);
  }
  const costs = registries.map((r) => {
    const cost = registryStorageCost(r);
    const reduction: CostReduction = applied.has(r.name)
      ? reductionFromBytesFreed(cost, r.sheet, freed.get(r.name) ?? 0)
      : { before: null, after: null, saved: null, bytesFreed: 0, reason: NO_RETENTION_APPLY };
    return { ...cost, reduction };
  });
  const savings = findSavings(registries, { now: options.now, ...(options.needed ? { needed: options.needed } : {}), ...(options.unpulledDays !== undefined ? { unpulledDays: options.unpulledDays } : {}) });
  const t = transfer.finish();
  const round = (n: number): number => Math.round(n * 100) / 100;
  return {
    kind: 'regman.cost-report',
    generatedAt: options.now.toISOString(),
    ...(options.since !== undefined ? { since: options.since } : {}),
    registries: costs,
    transfer: t,
    savings,
    totalPerMonth: round(costs.reduce((n, c) => n + c.totalPerMonth, 0) + t.total),
    savingsPerMonth: round(savings.reduce((n, s) => n + s.perMonth, 0)),
  };
}
