// The `pricing:` block of a registry entry: overrides of every price the cost model uses (functions/reports/costs/prices.ts).
import * as z from 'zod';
import { addProblem, strict } from './schema-helpers.ts';

const usd = (what: string) => z.number({ error: `a price in USD ${what}` }).nonnegative({ error: 'a price >= 0' }).finite({ error: 'a finite price' });

/** USD per GB moved from this registry, by relation to the target (the sender pays egress). */
const transferPerGbSchema = strict({
  /** Same provider and region (usually free). */
  sameRegion: usd('per GB').optional(),
  /** Same provider, another region. */
  crossRegion: usd('per GB').optional(),
  /** To another provider or the internet. */
  internet: usd('per GB').optional(),
});

/**
 * Every field is optional: what is not given keeps the kind's list price. GB = 2^30 bytes.
 * `fixedPerDay` is for prices published per day (ACR's tiers); the model bills 30 days a month.
 */
export const pricingSchema = strict({
  storagePerGbMonth: usd('per GB-month').optional(),
  includedGb: z.number({ error: 'GB-month included, a number >= 0' }).nonnegative({ error: 'a number >= 0' }).finite({ error: 'a finite number of GB' }).optional(),
  fixedPerMonth: usd('per month').optional(),
  fixedPerDay: usd('per day').optional(),
  transferPerGb: transferPerGbSchema.optional(),
}).superRefine((p, ctx) => {
  if (p.fixedPerMonth !== undefined && p.fixedPerDay !== undefined) {
    addProblem(ctx, 'sets both fixedPerMonth and fixedPerDay', 'one of fixedPerMonth or fixedPerDay (30 days a month)', ['fixedPerDay']);
  }
});

export type PricingConfig = z.output<typeof pricingSchema>;

/**
 * `storagePricePerGbMonth` is the older name of `pricing.storagePerGbMonth` and still read; giving
 * both with different values is an error at the newer key.
 */
export function checkPriceAlias(r: { storagePricePerGbMonth?: number | undefined; pricing?: PricingConfig | undefined }, ctx: z.RefinementCtx): void {
  const newer = r.pricing?.storagePerGbMonth;
  if (newer !== undefined && r.storagePricePerGbMonth !== undefined && newer !== r.storagePricePerGbMonth) {
    addProblem(
      ctx,
      `${newer} disagrees with storagePricePerGbMonth ${r.storagePricePerGbMonth} (its older name)`,
      'one storage price: keep pricing.storagePerGbMonth and remove storagePricePerGbMonth',
      ['pricing', 'storagePerGbMonth'],
    );
  }
}

/** The registry's storage price in USD per GB-month, from `pricing.storagePerGbMonth` or its older name; undefined when neither is set. */
export function storagePriceOf(r: { storagePricePerGbMonth?: number | undefined; pricing?: PricingConfig | undefined }): number | undefined {
  return r.pricing?.storagePerGbMonth ?? r.storagePricePerGbMonth;
}
