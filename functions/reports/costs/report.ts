// The cost report: storage per registry and repository, transfer per pair, savings and reduction achieved, from inventories and audit records.
import type { CostRecord } from './records.ts';
import { TransferAccumulator, findSavings, reductionFromBytesFreed, registryStorageCost, type CostRegistryInput, type RegistryCost, type Saving, type TransferPair } from './model.ts';

export interface CostReport {
  readonly kind: 'regman.cost-report';
  readonly generatedAt: string;
  readonly registries: readonly (RegistryCost & { readonly reduction: ReturnType<typeof reductionFromBytesFreed> })[];
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
  options: { readonly now: Date; readonly needed?: (registry: string, repository: string) => boolean; readonly unpulledDays?: number },
): Promise<CostReport> {
  const byName = new Map(registries.map((r) => [r.name, r]));
  const transfer = new TransferAccumulator(byName);
  const freed = new Map<string, number>();
  const add = (r: CostRecord): void => {
    transfer.add(r);
    if (r.action === 'retention.delete' && r.outcome === 'success' && r.registry !== undefined) freed.set(r.registry, (freed.get(r.registry) ?? 0) + (r.bytes ?? 0));
  };
  if (Symbol.asyncIterator in records) {
    for await (const page of records) for (const r of page) add(r);
  } else {
    for (const r of records) add(r);
  }
  const costs = registries.map((r) => {
    const cost = registryStorageCost(r);
    return { ...cost, reduction: reductionFromBytesFreed(cost, r.sheet, freed.get(r.name) ?? 0) };
  });
  const savings = findSavings(registries, { now: options.now, ...(options.needed ? { needed: options.needed } : {}), ...(options.unpulledDays !== undefined ? { unpulledDays: options.unpulledDays } : {}) });
  const t = transfer.finish();
  const round = (n: number): number => Math.round(n * 100) / 100;
  return {
    kind: 'regman.cost-report',
    generatedAt: options.now.toISOString(),
    registries: costs,
    transfer: t,
    savings,
    totalPerMonth: round(costs.reduce((n, c) => n + c.totalPerMonth, 0) + t.total),
    savingsPerMonth: round(savings.reduce((n, s) => n + s.perMonth, 0)),
  };
}
