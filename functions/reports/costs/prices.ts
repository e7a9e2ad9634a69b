// Published list prices per registry kind (USD), with the source and the date they were read; overridable per registry in the config.
import { ReportError } from '../errors.ts';

export type RegistryKind = 'ecr' | 'gar' | 'acr' | 'dockerhub' | 'oci';

/** How a registry counts stored bytes: a blob stored once per registry, or once per repository. */
export type DedupeScope = 'registry' | 'repository';

export interface PriceSheet {
  readonly kind: RegistryKind;
  /** USD per GB-month of storage (GB = 2^30 bytes) beyond what is included. */
  readonly storagePerGbMonth: number;
  /** GB-month included free (Artifact Registry's free tier, an ACR tier's included storage, a Docker Hub plan). */
  readonly includedGb: number;
  /** A fixed fee per month: ACR's tier at its daily price times the days, a Docker Hub plan. */
  readonly fixedPerMonth: number;
  /** USD per GB moved to the same region (usually free), another region of the provider, or out to the internet. */
  readonly transferPerGb: { readonly sameRegion: number; readonly crossRegion: number; readonly internet: number };
  readonly dedupe: DedupeScope;
  /** Why the dedupe scope is what it is, with a link. */
  readonly dedupeSource: string;
  readonly source: { readonly url: string; readonly read: string; readonly note?: string };
  /** The config keys (`pricing.…`) that replaced a list price, when any did. */
  readonly overridden?: readonly string[];
}

const DAYS_PER_MONTH = 30;

/**
 * List prices as published on the date in `source.read`. Regions differ; these are the US/EU list
 * prices of the first tier. Override any of them per registry in the config's `pricing:` block
 * (functions/config/schema-pricing.ts; `storagePricePerGbMonth` is the older name of `pricing.storagePerGbMonth`).
 */
export const LIST_PRICES: Readonly<Record<RegistryKind, PriceSheet>> = {
  ecr: {
    kind: 'ecr',
    storagePerGbMonth: 0.1,
    includedGb: 0,
    fixedPerMonth: 0,
    // Same region: free; inter-region: $0.02/GB (EC2 data transfer between regions); internet: $0.09/GB (first 10 TB).
    transferPerGb: { sameRegion: 0, crossRegion: 0.02, internet: 0.09 },
    dedupe: 'repository',
    dedupeSource: 'ECR bills "storage of images in your repositories" (https://aws.amazon.com/ecr/pricing/); DescribeImages reports each image\'s size per repository, so a layer shared by two repositories is counted in each (conservative).',
    source: { url: 'https://aws.amazon.com/ecr/pricing/', read: '2026-11-30' },
  },
  gar: {
    kind: 'gar',
    storagePerGbMonth: 0.1,
    // "Up to 0.5 GB per month free" per billing account.
    includedGb: 0.5,
    fixedPerMonth: 0,
    transferPerGb: { sameRegion: 0, crossRegion: 0.01, internet: 0.12 },
    dedupe: 'repository',
    dedupeSource: 'Artifact Registry reports and bills storage per repository (https://cloud.google.com/artifact-registry/pricing); a blob shared by two repositories is stored in each.',
    source: { url: 'https://cloud.google.com/artifact-registry/pricing', read: '2026-11-30', note: 'internet egress: Premium Tier worldwide first tier' },
  },
  acr: {
    kind: 'acr',
    // Standard tier: $0.667/day with 100 GiB included; extra storage $0.003/GiB-day.
    storagePerGbMonth: 0.003 * DAYS_PER_MONTH,
    includedGb: 100,
    fixedPerMonth: 0.667 * DAYS_PER_MONTH,
    transferPerGb: { sameRegion: 0, crossRegion: 0.02, internet: 0.087 },
    dedupe: 'registry',
    dedupeSource: 'ACR stores layers once per registry and shares them across repositories (https://learn.microsoft.com/azure/container-registry/container-registry-storage).',
    source: { url: 'https://azure.microsoft.com/pricing/details/container-registry/', read: '2026-11-30', note: 'Standard tier; Basic $0.167/day with 10 GiB, Premium $1.667/day with 500 GiB' },
  },
  dockerhub: {
    kind: 'dockerhub',
    // Team plan: $15 per user per month (one seat modelled); storage is within the plan's allowance.
    storagePerGbMonth: 0,
    includedGb: Number.POSITIVE_INFINITY,
    fixedPerMonth: 15,
    transferPerGb: { sameRegion: 0, crossRegion: 0, internet: 0 },
    dedupe: 'registry',
    dedupeSource: 'Docker Hub stores content-addressed blobs once (https://docs.docker.com/docker-hub/usage/storage/).',
    source: { url: 'https://www.docker.com/pricing/', read: '2026-11-30', note: 'Team plan, one seat; pulls and storage within the plan allowance' },
  },
  oci: {
    kind: 'oci',
    storagePerGbMonth: 0,
    includedGb: 0,
    fixedPerMonth: 0,
    transferPerGb: { sameRegion: 0, crossRegion: 0, internet: 0 },
    dedupe: 'registry',
    dedupeSource: 'CNCF distribution keeps one blob store per registry: blobs under /docker/registry/v2/blobs, linked into repositories (https://distribution.github.io/distribution/storage-drivers/).',
    source: { url: 'https://distribution.github.io/distribution/', read: '2026-11-30', note: 'self-hosted: set pricing.storagePerGbMonth to your storage cost' },
  },
};

/** The config's `pricing:` block of one registry (functions/config/schema-pricing.ts); unknown-typed so a bad value is reported, not trusted. */
export interface PriceOverride {
  readonly storagePerGbMonth?: unknown;
  readonly includedGb?: unknown;
  readonly fixedPerMonth?: unknown;
  /** A fee published per day (ACR's tiers): `fixedPerMonth` = 30 × this. */
  readonly fixedPerDay?: unknown;
  readonly transferPerGb?: { readonly sameRegion?: unknown; readonly crossRegion?: unknown; readonly internet?: unknown };
}

/**
 * The sheet for one registry: the kind's list prices with the config's overrides; `overridden`
 * names the config keys that replaced a list price (the report shows them next to the source).
 *
 * @throws ReportError `REPORT_BAD_PRICE` when an override is not a non-negative number.
 */
export function priceSheetFor(registry: string, kind: RegistryKind, override: PriceOverride = {}): PriceSheet {
  const base = LIST_PRICES[kind];
  const overridden: string[] = [];
  const num = (field: string, v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ReportError(`registries.${registry}: price override ${field} must be a number >= 0 (USD), got ${JSON.stringify(v)}`, { code: 'REPORT_BAD_PRICE' });
    }
    overridden.push(`pricing.${field}`);
    return v;
  };
  const storage = num('storagePerGbMonth', override.storagePerGbMonth);
  const included = num('includedGb', override.includedGb);
  const perMonth = num('fixedPerMonth', override.fixedPerMonth);
  const perDay = num('fixedPerDay', override.fixedPerDay);
  if (perMonth !== undefined && perDay !== undefined) {
    throw new ReportError(`registries.${registry}: give one of pricing.fixedPerMonth and pricing.fixedPerDay, not both`, { code: 'REPORT_BAD_PRICE' });
  }
  const fixed = perMonth ?? (perDay !== undefined ? perDay * DAYS_PER_MONTH : undefined);
  const t = override.transferPerGb ?? {};
  const transfer = {
    sameRegion: num('transferPerGb.sameRegion', t.sameRegion) ?? base.transferPerGb.sameRegion,
    crossRegion: num('transferPerGb.crossRegion', t.crossRegion) ?? base.transferPerGb.crossRegion,
    internet: num('transferPerGb.internet', t.internet) ?? base.transferPerGb.internet,
  };
  return {
    ...base,
    storagePerGbMonth: storage ?? base.storagePerGbMonth,
    includedGb: included ?? base.includedGb,
    fixedPerMonth: fixed ?? base.fixedPerMonth,
    transferPerGb: transfer,
    ...(overridden.length > 0 ? { overridden } : {}),
  };
}

/** Where a registry's prices come from, for the report: the list's link and date, then the config keys that replaced some. */
export function priceSourceText(c: { readonly priceSource: PriceSheet['source']; readonly priceOverrides?: readonly string[] | undefined }): string {
  const list = `${c.priceSource.url} (${c.priceSource.read})`;
  return c.priceOverrides && c.priceOverrides.length > 0 ? `${list}; config: ${c.priceOverrides.join(', ')}` : list;
}

/** Cents, rounded half away from zero, as dollars. */
export const cents = (usd: number): number => Math.round(usd * 100 + Number.EPSILON) / 100;

export const GB = 2 ** 30;
