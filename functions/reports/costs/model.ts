// Cost models, pure: storage per registry and repository (each blob once per dedupe scope), transfer per source → target pair, savings, reduction achieved.
import type { StoredAuditRecord } from '../../audit/types.ts';
import type { Inventory, InventoryImage } from '../../retention/types.ts';
import { ReportError } from '../errors.ts';
import { GB, cents, type PriceSheet, type RegistryKind } from './prices.ts';

export interface CostRegistryInput {
  readonly name: string;
  readonly kind: RegistryKind;
  /** Cloud region (ECR, GAR, ACR location); undefined for Docker Hub and self-hosted. */
  readonly region?: string;
  readonly sheet: PriceSheet;
  readonly repositories: readonly Inventory[];
}

export interface RepositoryCost {
  readonly repository: string;
  /** Bytes of the repository's blobs, each once. */
  readonly bytes: number;
  /** Bytes of blobs no other repository of the registry references: what deleting the repository frees. */
  readonly uniqueBytes: number;
  /** This repository's share of the registry's storage cost (shared blobs split evenly among their repositories). */
  readonly storagePerMonth: number;
}

export interface RegistryCost {
  readonly registry: string;
  readonly kind: RegistryKind;
  readonly dedupe: PriceSheet['dedupe'];
  readonly dedupeSource: string;
  readonly priceSource: PriceSheet['source'];
  /** The config keys that replaced a list price (`pricing.…`), when any did. */
  readonly priceOverrides?: readonly string[];
  /** Bytes billed: blobs counted once per registry or once per repository, per the dedupe scope. */
  readonly storedBytes: number;
  readonly storagePerMonth: number;
  readonly fixedPerMonth: number;
  readonly totalPerMonth: number;
  readonly repositories: readonly RepositoryCost[];
}

/**
 * Calls `each(digest, size)` for every blob of an image (a manifest without blob list counts its
 * `sizeBytes` under its own digest). A callback rather than a list of pairs: the models walk every
 * blob of a 100k-tag inventory several times, and a pair array per image was most of their garbage.
 */
function forEachBlob(image: InventoryImage, each: (digest: string, size: number) => void): void {
  const blobs = image.blobs;
  if (blobs && blobs.length > 0) {
    for (let i = 0; i < blobs.length; i++) each(blobs[i]!.digest, blobs[i]!.size);
  } else if (image.sizeBytes !== undefined) {
    each(image.digest, image.sizeBytes);
  }
}

function repositoryBlobs(inv: Inventory): Map<string, number> {
  const blobs = new Map<string, number>();
  const set = (d: string, s: number): void => void blobs.set(d, s);
  for (const image of inv.images) forEachBlob(image, set);
  return blobs;
}

/** Storage cost of one registry. Money is rounded to the cent once, at the end of each figure. */
export function registryStorageCost(reg: CostRegistryInput): RegistryCost {
  const perRepo = reg.repositories.map((inv) => ({ repository: inv.repository, blobs: repositoryBlobs(inv) }));
  const holders = new Map<string, { size: number; repos: number }>();
  // Map.forEach, not for…of over entries: no [digest, size] pair per blob (a 100k-tag inventory has ~300k).
  for (const r of perRepo) {
    r.blobs.forEach((s, d) => {
      const h = holders.get(d);
      if (h) h.repos += 1;
      else holders.set(d, { size: s, repos: 1 });
    });
  }
  let storedBytes = 0;
  if (reg.sheet.dedupe === 'registry') holders.forEach((h) => void (storedBytes += h.size));
  else for (const r of perRepo) storedBytes += sum(r.blobs.values());
  const billableGb = Math.max(0, storedBytes / GB - reg.sheet.includedGb);
  const storageRaw = billableGb * reg.sheet.storagePerGbMonth;
  const repositories = perRepo.map((r) => {
    const bytes = sum(r.blobs.values());
    let uniqueBytes = 0;
    let attributed = 0;
    r.blobs.forEach((s, d) => {
      const h = holders.get(d) as { repos: number };
      if (h.repos === 1) uniqueBytes += s;
      attributed += reg.sheet.dedupe === 'registry' ? s / h.repos : s;
    });
    return { repository: r.repository, bytes, uniqueBytes, storagePerMonth: storedBytes > 0 ? cents((storageRaw * attributed) / storedBytes) : 0 };
  });
  return {
    registry: reg.name,
    kind: reg.kind,
    dedupe: reg.sheet.dedupe,
    dedupeSource: reg.sheet.dedupeSource,
    priceSource: reg.sheet.source,
    ...(reg.sheet.overridden ? { priceOverrides: reg.sheet.overridden } : {}),
    storedBytes,
    storagePerMonth: cents(storageRaw),
    fixedPerMonth: cents(reg.sheet.fixedPerMonth),
    totalPerMonth: cents(storageRaw + reg.sheet.fixedPerMonth),
    repositories: repositories.sort((a, b) => b.storagePerMonth - a.storagePerMonth || (a.repository < b.repository ? -1 : 1)),
  };
}

export type TransferRelation = 'sameRegion' | 'crossRegion' | 'internet';

export interface TransferPair {
  readonly source: string;
  readonly target: string;
  readonly relation: TransferRelation;
  readonly bytes: number;
  readonly copies: number;
  readonly pricePerGb: number;
  readonly cost: number;
}

/** Same provider and region: free-ish; same provider, other region: inter-region; anything else leaves the provider. */
export function relationOf(a: Pick<CostRegistryInput, 'kind' | 'region'>, b: Pick<CostRegistryInput, 'kind' | 'region'>): TransferRelation {
  if (a.kind === b.kind && a.kind !== 'dockerhub' && a.kind !== 'oci') return a.region !== undefined && a.region === b.region ? 'sameRegion' : 'crossRegion';
  if (a.kind === 'oci' && b.kind === 'oci') return 'sameRegion';
  return 'internet';
}

/** Audit actions that move bytes between registries. */
export const TRANSFER_ACTIONS = new Set(['replicate', 'reconcile', 'sync', 'copy', 'promote.sync']);

/**
 * Bytes moved per source → target pair, from the audit records, priced at the source's egress for
 * that relation (the sender pays egress). Records naming a registry not in `registries` are counted
 * under `unpriced` (e.g. `regman copy` between hosts).
 */
export class TransferAccumulator {
  /** source → target → sums: two lookups per record, no key string built for each. */
  private readonly pairs = new Map<string, Map<string, { source: string; target: string; bytes: number; copies: number }>>();
  private unpricedBytes = 0;

  constructor(private readonly registries: ReadonlyMap<string, CostRegistryInput>) {}

  add(r: Pick<StoredAuditRecord, 'action' | 'outcome' | 'bytes' | 'source' | 'target'>): void {
    if (!TRANSFER_ACTIONS.has(r.action) || r.outcome !== 'success' || !r.bytes || !r.source || !r.target) return;
    if (!this.registries.has(r.source) || !this.registries.has(r.target)) {
      this.unpricedBytes += r.bytes;
      return;
    }
    let targets = this.pairs.get(r.source);
    if (!targets) this.pairs.set(r.source, (targets = new Map()));
    const p = targets.get(r.target);
    if (p) {
      p.bytes += r.bytes;
      p.copies += 1;
    } else {
      targets.set(r.target, { source: r.source, target: r.target, bytes: r.bytes, copies: 1 });
    }
  }

  finish(): { pairs: TransferPair[]; total: number; unpricedBytes: number } {
    const pairs = [...this.pairs.values()].flatMap((targets) => [...targets.values()]).map((p) => {
      const src = this.registries.get(p.source) as CostRegistryInput;
      const relation = relationOf(src, this.registries.get(p.target) as CostRegistryInput);
      const pricePerGb = src.sheet.transferPerGb[relation];
      return { ...p, relation, pricePerGb, cost: cents((p.bytes / GB) * pricePerGb) };
    });
    // Names last: the parallel queries deliver records in any order, and a tie must not depend on it.
    pairs.sort((a, b) => b.cost - a.cost || b.bytes - a.bytes || (a.source < b.source ? -1 : a.source > b.source ? 1 : a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
    return { pairs, total: cents(pairs.reduce((n, p) => n + p.cost, 0)), unpricedBytes: this.unpricedBytes };
  }
}

export interface Saving {
  readonly kind: 'retention-plan' | 'untagged' | 'not-pulled' | 'duplicate';
  readonly registry: string;
  readonly repository: string;
  readonly bytes: number;
  readonly perMonth: number;
  readonly what: string;
  /** The command that realises it. */
  readonly command: string;
}

/** Bytes of `images`' blobs that no other image of the repository references. */
export function uniqueBytesOf(images: readonly InventoryImage[], inv: Inventory): number {
  const leaving = new Set<string>();
  for (const i of images) leaving.add(i.digest);
  const kept = new Set<string>();
  const keep = (d: string): void => void kept.add(d);
  for (const other of inv.images) if (!leaving.has(other.digest)) forEachBlob(other, keep);
  const freed = new Map<string, number>();
  const free = (d: string, s: number): void => void (kept.has(d) || freed.set(d, s));
  for (const image of images) forEachBlob(image, free);
  return sum(freed.values());
}

const perMonth = (bytes: number, sheet: PriceSheet): number => cents((bytes / GB) * sheet.storagePerGbMonth);

export interface SavingsOptions {
  readonly now: Date;
  /** Images not pulled in this many days (default 90). */
  readonly unpulledDays?: number;
  /** Retention plans' bytes freed (unique blobs), per registry and repository. */
  readonly plans?: readonly { readonly registry: string; readonly repository: string; readonly bytesFreed: number }[];
  /** (registry, repository) pairs a replication rule or environment needs: duplicates there are not savings. */
  readonly needed?: (registry: string, repository: string) => boolean;
}

/** Savings opportunities with $/month and the command that realises each. Pure. */
export function findSavings(registries: readonly CostRegistryInput[], options: SavingsOptions): Saving[] {
  const out: Saving[] = [];
  const days = options.unpulledDays ?? 90;
  const cutoff = options.now.getTime() - days * 86_400_000;
  const byName = new Map(registries.map((r) => [r.name, r]));
  for (const plan of options.plans ?? []) {
    const reg = byName.get(plan.registry);
    if (!reg || plan.bytesFreed <= 0) continue;
    out.push({ kind: 'retention-plan', registry: plan.registry, repository: plan.repository, bytes: plan.bytesFreed, perMonth: perMonth(plan.bytesFreed, reg.sheet), what: 'the retention plan expires these images (unique blobs only)', command: `regman retention run --registry ${plan.registry} --apply` });
  }
  for (const reg of registries) {
    for (const inv of reg.repositories) {
      const referenced = new Set<string>();
      for (const i of inv.images) {
        if (i.manifests) for (const m of i.manifests) referenced.add(m);
        if (i.subject) referenced.add(i.digest);
      }
      const untagged = inv.images.filter((i) => i.tags.length === 0 && !referenced.has(i.digest) && i.subject === undefined);
      if (untagged.length > 0) {
        const bytes = uniqueBytesOf(untagged, inv);
        if (bytes > 0) out.push({ kind: 'untagged', registry: reg.name, repository: inv.repository, bytes, perMonth: perMonth(bytes, reg.sheet), what: `${untagged.length} untagged manifest(s) nothing references`, command: `regman retention plan --registry ${reg.name} --repository ${inv.repository} (rule: untagged)` });
      }
      const unpulled = inv.images.filter((i) => i.tags.length > 0 && i.lastPulledAt !== null && Date.parse(i.lastPulledAt) < cutoff);
      if (unpulled.length > 0) {
        const bytes = uniqueBytesOf(unpulled, inv);
        if (bytes > 0) out.push({ kind: 'not-pulled', registry: reg.name, repository: inv.repository, bytes, perMonth: perMonth(bytes, reg.sheet), what: `${unpulled.length} image(s) not pulled in ${days} days`, command: `regman retention plan --registry ${reg.name} --repository ${inv.repository} (rule: pulls inDays ${days})` });
      }
    }
  }
  // The same digest in several registries, where no rule needs the extra copies.
  const where = new Map<string, { reg: CostRegistryInput; inv: Inventory; image: InventoryImage }[]>();
  for (const reg of registries) {
    for (const inv of reg.repositories) {
      for (const image of inv.images) {
        if (image.tags.length === 0) continue;
        const list = where.get(image.digest);
        if (list) list.push({ reg, inv, image });
        else where.set(image.digest, [{ reg, inv, image }]);
      }
    }
  }
  for (const [digest, copies] of where) {
    // Most digests are in one place: no set to build for them.
    if (copies.length < 2) continue;
    const regs = new Set(copies.map((c) => c.reg.name));
    if (regs.size < 2) continue;
    for (const c of copies.slice(1)) {
      if (options.needed?.(c.reg.name, c.inv.repository)) continue;
      const bytes = uniqueBytesOf([c.image], c.inv);
      if (bytes <= 0) continue;
      out.push({ kind: 'duplicate', registry: c.reg.name, repository: c.inv.repository, bytes, perMonth: perMonth(bytes, c.reg.sheet), what: `${digest.slice(0, 19)} is also in ${copies[0]?.reg.name}/${copies[0]?.inv.repository}; no replication rule needs it here`, command: `regman retention plan --registry ${c.reg.name} --repository ${c.inv.repository}` });
    }
  }
  return out.sort((a, b) => b.perMonth - a.perMonth || b.bytes - a.bytes);
}

/**
 * "Cost reduction achieved": storage cost before and after the retention deletes in the audit log
 * (`retention.delete` success records carry the unique bytes freed), against today's stored bytes.
 */
export function reductionAchieved(reg: RegistryCost, sheet: PriceSheet, deletes: readonly StoredAuditRecord[]): { before: number; after: number; saved: number; bytesFreed: number } {
  const bytesFreed = deletes.filter((r) => r.action === 'retention.delete' && r.outcome === 'success' && r.registry === reg.registry).reduce((n, r) => n + (r.bytes ?? 0), 0);
  return reductionFromBytesFreed(reg, sheet, bytesFreed);
}

/** `reductionAchieved` from the bytes the registry's successful `retention.delete` records freed (summed while streaming). */
export function reductionFromBytesFreed(reg: RegistryCost, sheet: PriceSheet, bytesFreed: number): { before: number; after: number; saved: number; bytesFreed: number } {
  const cost = (bytes: number): number => Math.max(0, bytes / GB - sheet.includedGb) * sheet.storagePerGbMonth + sheet.fixedPerMonth;
  const before = cents(cost(reg.storedBytes + bytesFreed));
  const after = cents(cost(reg.storedBytes));
  return { before, after, saved: cents(before - after), bytesFreed };
}

/** @throws ReportError `REPORT_UNKNOWN_REGISTRY` naming the registries there are. */
export function pickRegistries<T extends { readonly name: string }>(all: readonly T[], wanted: readonly string[]): T[] {
  if (wanted.length === 0) return [...all];
  return wanted.map((w) => {
    const found = all.find((r) => r.name === w);
    if (!found) throw new ReportError(`--registry ${w}: no such registry in the config (there are: ${all.map((r) => r.name).join(', ') || 'none'})`, { code: 'REPORT_UNKNOWN_REGISTRY' });
    return found;
  });
}

const sum = (values: Iterable<number>): number => {
  let n = 0;
  for (const v of values) n += v;
  return n;
};
