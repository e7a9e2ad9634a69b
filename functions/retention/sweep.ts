// Retention sweeps: inventory → plan → (with apply) delete by digest in plan order, audited, then check every kept tag.
import type { AuditLog } from '../audit/audit-log.ts';
import { isOciError } from '../oci/errors.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { mapLimit } from '../registries/map-limit.ts';
import { toPlanJson, type PlanJson } from './plan-json.ts';
import { planRetention } from './planner.ts';
import type { PullStatsScope, PullStatsStore } from './pull-stats.ts';
import { buildSweepInventory, type PushTimeSource } from './sweep-inventory.ts';
import { SweepRecheck } from './sweep-recheck.ts';
import type { Inventory, LockedDigests, RetentionPlan, RetentionPolicy, SafetyBlock } from './types.ts';

export type SweepMode = 'dry-run' | 'apply';

/** What a sweep reports as it goes (the CLI prints these on stderr; the library never prints). */
export type SweepEvent =
  | { readonly type: 'listed'; readonly repository: string; readonly images: number }
  | { readonly type: 'planned'; readonly repository: string; readonly expire: number; readonly keep: number; readonly blocked: boolean }
  | { readonly type: 'deleted'; readonly repository: string; readonly digest: string; readonly rule: string }
  | { readonly type: 'delete-failed'; readonly repository: string; readonly digest: string; readonly error: string }
  | { readonly type: 'delete-skipped'; readonly repository: string; readonly digest: string; readonly reason: string }
  | { readonly type: 'verified'; readonly repository: string; readonly tags: number; readonly missing: number };

export interface SweepRepositoryOptions {
  readonly adapter: RegistryAdapter;
  readonly repository: string;
  readonly policy: RetentionPolicy;
  /** The policy's name in the config (audited and reported). */
  readonly policyName: string;
  /** @default new Date() */
  readonly now?: Date;
  readonly mode: SweepMode;
  /** Apply a plan the safety valve blocked. @default false */
  readonly force?: boolean;
  /** @default the planner's 0.5 */
  readonly maxDeleteShare?: number;
  /** @default the planner's 24 */
  readonly untaggedGraceHours?: number;
  /** Digests locked by an active promotion. */
  readonly lockedDigests?: LockedDigests;
  /** Pull counters, and the registry/region they are kept under. */
  readonly pullStats?: { readonly store: PullStatsStore; readonly scope: PullStatsScope };
  /** Push times (and untagged manifests) the registry API does not give. */
  readonly pushTimes?: PushTimeSource;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly correlationId: string;
  /** Audited as the actor: `cli:<user>`, `system:retention`. */
  readonly actor: string;
  /** USD per GB-month (the registry's `storagePricePerGbMonth`); the saving is null without it. */
  readonly pricePerGbMonth?: number;
  readonly onEvent?: (event: SweepEvent) => void;
  /** Test seam: runs right before each digest's recheck (a tag pushed here is what a racing push looks like). */
  readonly beforeRecheck?: (digest: string) => Promise<void>;
}

/** One digest the sweep deleted, or failed to. */
export interface SweepDeletion {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly rule: string;
  readonly reason: string;
  readonly error?: string;
}

/** A kept tag that no longer resolves to its planned digest after the sweep. */
export interface KeptTagProblem {
  readonly tag: string;
  readonly digest: string;
  readonly problem: string;
}

export type SweepStatus = 'planned' | 'applied' | 'blocked' | 'partial' | 'failed';

export interface SweepReport {
  readonly registry: string;
  readonly repository: string;
  readonly policyName: string;
  readonly mode: SweepMode;
  /**
   * planned: a dry run; applied: every planned deletion done and every kept tag checked; blocked: the
   * safety valve stopped it; partial: some deletions failed or a kept tag did not check out; failed: the
   * sweep could not plan (listing failed).
   */
  readonly status: SweepStatus;
  readonly now: string;
  readonly counts: { readonly images: number; readonly expired: number; readonly kept: number; readonly deleted: number; readonly failed: number; readonly skipped: number };
  /** Unique blob bytes no kept image references. Distribution and ECR delete manifests; blobs go at garbage collection. */
  readonly bytesFreed: number;
  readonly bytesFreedEstimated: boolean;
  readonly pricePerGbMonth: number | null;
  /** USD per month at `pricePerGbMonth` (GB = 2^30 bytes, as AWS bills), or null when no price is configured. */
  readonly estimatedMonthlySaving: number | null;
  readonly blocked: SafetyBlock | null;
  readonly forced: boolean;
  readonly deleted: readonly SweepDeletion[];
  readonly failures: readonly SweepDeletion[];
  /** Planned deletions not done because the registry changed since the plan (`error` starts with `skipped: changed since plan`). */
  readonly skipped: readonly SweepDeletion[];
  /** Tags checked after an apply: every tag seen before or during it (the registry's, not the plan's), and each kept index's children. */
  readonly verified: { readonly tags: number; readonly children: number; readonly problems: readonly KeptTagProblem[] } | null;
  readonly warnings: readonly string[];
  /** The plan in the `retention plan --json` contract. */
  readonly plan: PlanJson;
  readonly error?: string;
}

const GIB = 1024 ** 3;

/** USD per month for `bytes` at `price` per GB-month, rounded to the cent; null without a price. */
export function monthlySaving(bytes: number, price: number | undefined): number | null {
  if (price === undefined) return null;
  return Math.round((bytes / GIB) * price * 100) / 100;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * What each kept digest needs to stay whole: itself, the children of kept indexes and the subjects of
 * kept referrers (transitively). The planner already guarantees none of these expire; the sweep
 * checks again before each delete, as a safety net against a planner bug.
 */
export function protectedDigests(inventory: Inventory, plan: RetentionPlan): Set<string> {
  const byDigest = new Map(inventory.images.map((i) => [i.digest, i]));
  const out = new Set<string>();
  const visit = (d: string): void => {
    if (out.has(d)) return;
    out.add(d);
    const i = byDigest.get(d);
    for (const c of i?.manifests ?? []) visit(c);
    if (i?.subject) visit(i.subject);
  };
  for (const k of plan.keep) visit(k.digest);
  return out;
}

function baseReport(o: SweepRepositoryOptions, now: Date, plan: RetentionPlan, warnings: readonly string[]): Omit<SweepReport, 'status' | 'counts' | 'deleted' | 'failures' | 'skipped' | 'verified'> {
  return {
    registry: o.adapter.name,
    repository: o.repository,
    policyName: o.policyName,
    mode: o.mode,
    now: now.toISOString(),
    bytesFreed: plan.bytesFreed,
    bytesFreedEstimated: plan.bytesFreedEstimated,
    pricePerGbMonth: o.pricePerGbMonth ?? null,
    estimatedMonthlySaving: monthlySaving(plan.bytesFreed, o.pricePerGbMonth),
    blocked: plan.blocked,
    forced: plan.forced,
    warnings: [...plan.warnings, ...warnings],
    plan: toPlanJson(plan),
  };
}

/**
 * Sweeps one repository:
 * 1. builds the inventory (buildSweepInventory) and plans with the policy;
 * 2. a dry run (the default mode) audits one `retention.plan` record and stops;
 * 3. a plan blocked by the safety valve audits `retention.plan` (outcome `rejected`) and stops;
 * 4. an apply deletes by digest in `plan.deleteOrder` (referrers and indexes before what they point
 *    at). Before each delete it checks again that nothing kept needs the digest; after a failed
 *    delete, nothing the failed digest points at is deleted (that would break it). Each deletion is
 *    audited as `retention.delete` with the rule and reason;
 * 5. then HEADs every kept tag (it must still name its planned digest) and every child of a kept index.
 *
 * Never throws for a registry failure: the report says `failed` or `partial`.
 *
 * @example
 * const report = await sweepRepository({ adapter, repository: 'team/app', policy, policyName: 'default', mode: 'dry-run',
 *   audit, correlationId: randomUUID(), actor: 'cli:alice', pricePerGbMonth: 0.1 });
 */
export async function sweepRepository(o: SweepRepositoryOptions): Promise<SweepReport> {
  const now = o.now ?? new Date();
  let built;
  try {
    built = await buildSweepInventory({
      adapter: o.adapter,
      repository: o.repository,
      policy: o.policy,
      now,
      ...(o.pushTimes ? { pushTimes: o.pushTimes } : {}),
      ...(o.pullStats ? { pullStats: o.pullStats } : {}),
    });
  } catch (err) {
    await o.audit.append({
      actor: o.actor, action: 'retention.plan', outcome: 'failure', correlationId: o.correlationId, registry: o.adapter.name, repository: o.repository,
      errorMessage: message(err), details: { policy: o.policyName, mode: o.mode },
    });
    return failedReport(o, now, message(err));
  }
  const { inventory } = built;
  o.onEvent?.({ type: 'listed', repository: o.repository, images: inventory.images.length });
  const plan = planRetention(inventory, o.policy, {
    now,
    ...(o.lockedDigests ? { lockedDigests: o.lockedDigests } : {}),
    ...(o.maxDeleteShare !== undefined ? { maxDeleteShare: o.maxDeleteShare } : {}),
    ...(o.untaggedGraceHours !== undefined ? { untaggedGraceHours: o.untaggedGraceHours } : {}),
    ...(o.force ? { force: true } : {}),
  });
  o.onEvent?.({ type: 'planned', repository: o.repository, expire: plan.expire.length, keep: plan.keep.length, blocked: plan.blocked !== null });
  const base = baseReport(o, now, plan, built.warnings);
  const counts = { images: inventory.images.length, expired: plan.expire.length, kept: plan.keep.length, deleted: 0, failed: 0, skipped: 0 };
  const planDetails = { policy: o.policyName, mode: o.mode, expire: plan.expire.length, keep: plan.keep.length, bytesFreed: plan.bytesFreed, forced: plan.forced, orderBlocked: plan.orderBlocked.length };

  if (o.mode === 'dry-run' || plan.blocked) {
    await o.audit.append({
      actor: o.actor, action: 'retention.plan', outcome: plan.blocked ? 'rejected' : 'success', correlationId: o.correlationId,
      registry: o.adapter.name, repository: o.repository, bytes: plan.bytesFreed,
      ...(plan.blocked ? { errorCode: 'SAFETY_VALVE', errorMessage: plan.blocked.reason } : {}),
      details: planDetails,
    });
    return { ...base, status: plan.blocked ? 'blocked' : 'planned', counts, deleted: [], failures: [], skipped: [], verified: null };
  }

  const recheck = new SweepRecheck(o.adapter, o.repository, inventory);
  const { deleted, failures, skipped } = await applyPlan(o, inventory, plan, recheck);
  counts.deleted = deleted.length;
  counts.failed = failures.length;
  counts.skipped = skipped.length;
  const verified = await verifyKept(o, inventory, plan, recheck, deleted);
  o.onEvent?.({ type: 'verified', repository: o.repository, tags: verified.tags, missing: verified.problems.length });
  // A skipped deletion is the sweep working as meant (the registry changed): the rest was applied.
  const status: SweepStatus = failures.length > 0 || verified.problems.length > 0 ? 'partial' : 'applied';
  return { ...base, status, counts, deleted, failures, skipped, verified };
}

async function applyPlan(
  o: SweepRepositoryOptions,
  inventory: Inventory,
  plan: RetentionPlan,
  recheck: SweepRecheck,
): Promise<{ deleted: SweepDeletion[]; failures: SweepDeletion[]; skipped: SweepDeletion[] }> {
  const decisions = new Map(plan.expire.map((d) => [d.digest, d]));
  const byDigest = new Map(inventory.images.map((i) => [i.digest, i]));
  const keep = protectedDigests(inventory, plan);
  const deleted: SweepDeletion[] = [];
  const failures: SweepDeletion[] = [];
  const skipped: SweepDeletion[] = [];
  /** Digests still present that point at something: a failed delete leaves them, so their targets must stay. */
  const stillPointing = new Set<string>();
  for (const digest of plan.deleteOrder) {
    const d = decisions.get(digest);
    if (!d) continue;
    const entry: Omit<SweepDeletion, 'error'> = { digest, tags: d.tags, rule: d.rule, reason: d.reason };
    const blocker = keep.has(digest)
      ? 'a kept image needs it (safety net: the plan should never expire it)'
      : [...stillPointing].some((p) => byDigest.get(p)?.manifests?.includes(digest) || byDigest.get(p)?.subject === digest)
        ? 'a manifest that could not be deleted still points at it'
        : undefined;
    let error = blocker;
    let changed: string | undefined;
    if (!error) {
      try {
        await o.beforeRecheck?.(digest);
        changed = await recheck.changed(digest, d.tags);
      } catch (err) {
        error = `could not recheck the registry before deleting: ${message(err)}`;
      }
    }
    if (changed) {
      await o.audit.append({
        actor: o.actor, action: 'retention.delete', outcome: 'skipped', correlationId: o.correlationId,
        registry: o.adapter.name, repository: o.repository, digest, tags: d.tags, errorMessage: changed,
        details: { rule: d.rule, reason: d.reason, policy: o.policyName, role: d.role },
      });
      stillPointing.add(digest);
      skipped.push({ ...entry, error: changed });
      o.onEvent?.({ type: 'delete-skipped', repository: o.repository, digest, reason: changed });
      continue;
    }
    if (!error) {
      try {
        await o.adapter.deleteImage(o.repository, digest);
      } catch (err) {
        // Already gone (a concurrent sweep, a user): the goal is reached.
        if (!(isOciError(err, 'MANIFEST_UNKNOWN') || isOciError(err, 'NOT_FOUND'))) error = message(err);
      }
    }
    await o.audit.append({
      actor: o.actor, action: 'retention.delete', outcome: error ? (blocker ? 'skipped' : 'failure') : 'success', correlationId: o.correlationId,
      registry: o.adapter.name, repository: o.repository, digest, tags: d.tags,
      ...(byDigest.get(digest)?.sizeBytes !== undefined ? { bytes: byDigest.get(digest)?.sizeBytes } : {}),
      ...(error ? { errorMessage: error } : {}),
      details: { rule: d.rule, reason: d.reason, policy: o.policyName, role: d.role },
    });
    if (error) {
      stillPointing.add(digest);
      failures.push({ ...entry, error });
      o.onEvent?.({ type: 'delete-failed', repository: o.repository, digest, error });
    } else {
      deleted.push(entry);
      o.onEvent?.({ type: 'deleted', repository: o.repository, digest, rule: d.rule });
    }
  }
  return { deleted, failures, skipped };
}

/**
 * Checks the registry as it is now, not as planned: every tag seen before or during the apply must
 * still exist unless the sweep deleted it on purpose (a planned tag of a deleted digest); a tag that
 * moved is fine (someone pushed). Then HEADs every child of a kept index.
 */
async function verifyKept(
  o: SweepRepositoryOptions,
  inventory: Inventory,
  plan: RetentionPlan,
  recheck: SweepRecheck,
  deleted: readonly SweepDeletion[],
): Promise<{ tags: number; children: number; problems: KeptTagProblem[] }> {
  const byDigest = new Map(inventory.images.map((i) => [i.digest, i]));
  const children = [...new Set(plan.keep.flatMap((k) => byDigest.get(k.digest)?.manifests ?? []))];
  const problems: KeptTagProblem[] = [];
  const expectedGone = new Set(deleted.flatMap((d) => d.tags.map((t) => `${t}@${d.digest}`)));
  const seen = new Map(recheck.seen);
  let current: ReadonlyMap<string, string>;
  try {
    current = await recheck.currentTags();
  } catch (err) {
    return { tags: 0, children: 0, problems: [{ tag: '', digest: '', problem: `could not list the tags after the sweep: ${message(err)}` }] };
  }
  for (const [tag, digest] of seen) {
    if (current.has(tag) || expectedGone.has(`${tag}@${digest}`)) continue;
    problems.push({ tag, digest, problem: 'the tag is gone' });
  }
  await mapLimit(children, 8, async (digest) => {
    try {
      if (!(await o.adapter.oci.manifestHead(o.repository, digest))) problems.push({ tag: '', digest, problem: 'a child of a kept index is gone' });
    } catch (err) {
      problems.push({ tag: '', digest, problem: message(err) });
    }
  });
  return { tags: current.size, children: children.length, problems };
}

function failedReport(o: SweepRepositoryOptions, now: Date, error: string): SweepReport {
  return {
    registry: o.adapter.name, repository: o.repository, policyName: o.policyName, mode: o.mode, status: 'failed', now: now.toISOString(),
    counts: { images: 0, expired: 0, kept: 0, deleted: 0, failed: 0, skipped: 0 },
    bytesFreed: 0, bytesFreedEstimated: false, pricePerGbMonth: o.pricePerGbMonth ?? null, estimatedMonthlySaving: o.pricePerGbMonth === undefined ? null : 0,
    blocked: null, forced: false, deleted: [], failures: [], skipped: [], verified: null, warnings: [],
    plan: { expire: [], keep: [], bytesFreed: 0, bytesFreedEstimated: false, repository: o.repository, blocked: null, warnings: [], orderBlocked: [], timeSources: {} },
    error,
  };
}

/** The part of a report a Step Functions state can carry (no per-digest lists beyond the first failures). */
export interface SweepSummary {
  readonly registry: string;
  readonly repository: string;
  readonly policy: string;
  readonly mode: SweepMode;
  readonly status: SweepStatus;
  readonly counts: SweepReport['counts'];
  readonly bytesFreed: number;
  readonly estimatedMonthlySaving: number | null;
  readonly blocked: string | null;
  readonly failures: readonly { readonly digest: string; readonly error: string }[];
  readonly keptProblems: number;
  readonly error?: string;
}

/** Projects a report onto its summary (the retention-sweep Lambda's result). */
export function summarizeSweep(report: SweepReport): SweepSummary {
  return {
    registry: report.registry,
    repository: report.repository,
    policy: report.policyName,
    mode: report.mode,
    status: report.status,
    counts: report.counts,
    bytesFreed: report.bytesFreed,
    estimatedMonthlySaving: report.estimatedMonthlySaving,
    blocked: report.blocked?.reason ?? null,
    failures: report.failures.slice(0, 10).map((f) => ({ digest: f.digest, error: f.error ?? '' })),
    keptProblems: report.verified?.problems.length ?? 0,
    ...(report.error ? { error: report.error } : {}),
  };
}

export interface SweepRegistryOptions extends Omit<SweepRepositoryOptions, 'repository' | 'policy' | 'policyName' | 'maxDeleteShare' | 'untaggedGraceHours'> {
  /** Repositories and the policy that governs each (listSweepItems / governingPolicy). */
  readonly items: readonly {
    readonly repository: string;
    readonly policyName: string;
    readonly policy: RetentionPolicy;
    readonly maxDeleteShare?: number;
    readonly untaggedGraceHours?: number;
  }[];
  /** Repositories swept at once. @default 4 */
  readonly concurrency?: number;
}

/**
 * Sweeps several repositories of one registry (bounded concurrency); one repository failing does
 * not stop the others (its report says `failed`).
 */
export async function sweepRegistry(o: SweepRegistryOptions): Promise<SweepReport[]> {
  const { items, concurrency, ...common } = o;
  return mapLimit([...items], concurrency ?? 4, (item) =>
    sweepRepository({
      ...common,
      repository: item.repository,
      policy: item.policy,
      policyName: item.policyName,
      ...(item.maxDeleteShare !== undefined ? { maxDeleteShare: item.maxDeleteShare } : {}),
      ...(item.untaggedGraceHours !== undefined ? { untaggedGraceHours: item.untaggedGraceHours } : {}),
    }),
  );
}
