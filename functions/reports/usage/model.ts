// The usage report, pure: storage per repository over time, pushes and pulls per repository and image, the most pulled images, replication lag and failures per target, the DLQ backlog.
import type { StoredAuditRecord } from '../../audit/types.ts';
import type { DeadLetterRecord } from '../../replication/dlq.ts';
import type { Inventory, InventoryImage, PullCount } from '../../retention/types.ts';
import { ReportError } from '../errors.ts';
import { environmentOf, isPromotionRunRecord } from '../promotion-records.ts';

/** Actions whose records are copies to a target (replication lag and failures are counted per target). */
export const COPY_ACTIONS: readonly string[] = ['replicate', 'reconcile', 'sync', 'copy', 'promote.sync'];

/** One registry's inventory, and its pulls when the registry knows them (ECR, through CloudTrail `BatchGetImage` counters). */
export interface UsageRegistryInput {
  readonly name: string;
  readonly kind: string;
  readonly repositories: readonly Inventory[];
  /**
   * Pulls per `repository@digest` over the report's period, by UTC day; undefined when this registry has
   * no pull statistics (then the inventory's `lastPulledAt` is all there is).
   */
  readonly pulls?: ReadonlyMap<string, readonly PullCount[]>;
}

export interface UsageOptions {
  /** Inclusive ISO lower bound of the period. */
  readonly since: string;
  /** Exclusive ISO upper bound. */
  readonly until: string;
  /** How many images the most-pulled list holds. @default 10 */
  readonly top?: number;
}

export interface StoragePoint {
  /** UTC day, YYYY-MM-DD: the bytes held at its end. */
  readonly day: string;
  readonly bytes: number;
}

export interface RepositoryStorage {
  readonly registry: string;
  readonly repository: string;
  /** Today's bytes, each blob once. */
  readonly bytes: number;
  readonly series: readonly StoragePoint[];
}

export interface ImagePushes {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushes: number;
}

export interface RepositoryPushes {
  readonly registry: string;
  readonly repository: string;
  readonly pushes: number;
  readonly images: readonly ImagePushes[];
}

export interface ImagePulls {
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly tags: readonly string[];
  /** Pulls in the period; null when the registry does not count pulls. */
  readonly pulls: number | null;
  readonly lastPulledAt: string | null;
}

export interface RepositoryPulls {
  readonly registry: string;
  readonly repository: string;
  /** null when the registry does not count pulls. */
  readonly pulls: number | null;
  /** Images with no pull in the period (only where pulls are counted). */
  readonly unpulled: number;
  readonly images: readonly ImagePulls[];
}

export interface LagSummary {
  /** Replications with an event time. */
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

export interface TargetUsage {
  readonly target: string;
  /** Successful copies to this target. */
  readonly copies: number;
  readonly bytes: number;
  readonly failures: number;
  /** From the push event's time to the replicated record (successful `replicate` records with `details.eventTime`). */
  readonly lag: LagSummary;
  readonly lastFailure?: { readonly time: string; readonly repository: string; readonly errorCode: string };
}

export interface EnvironmentPromotions {
  readonly environment: string;
  /** Promotion runs (executions) in the period, by outcome as the compliance report decides it. */
  readonly runs: number;
  readonly promoted: number;
  readonly rejected: number;
  readonly failed: number;
  readonly inProgress: number;
  /** From the request to the promoted record, over promoted runs. */
  readonly leadTime: LagSummary;
  /** From the push event (the digest's first replication record in the period) to promoted. */
  readonly pushToPromoted: LagSummary;
}

export interface DeadLetterBacklog {
  readonly backlog: number;
  readonly oldest: string | null;
  readonly byError: Readonly<Record<string, number>>;
}

export interface UsageReport {
  readonly since: string;
  readonly until: string;
  /** Audit records read for the period. */
  readonly records: number;
  readonly storage: readonly RepositoryStorage[];
  readonly pushes: readonly RepositoryPushes[];
  readonly pulls: readonly RepositoryPulls[];
  readonly mostPulled: readonly ImagePulls[];
  readonly replication: readonly TargetUsage[];
  readonly promotions: readonly EnvironmentPromotions[];
  /** Dead letters waiting; null when no dead-letter file was read (on AWS the DLQ depth alarm watches the queue). */
  readonly deadLetters: DeadLetterBacklog | null;
  /** Registries without pull statistics: their pull columns are unknown, not zero. */
  readonly pullsUnknown: readonly string[];
}

const DAY_MS = 86_400_000;
/** The storage series is daily; a longer period than this would be a wall of points, so it is refused. */
export const MAX_SERIES_DAYS = 400;

/** Nearest-rank percentile of sorted values (https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** UTC days from the day of `since` to the day before `until` (or `until`'s own day when it is not midnight). */
export function seriesDays(since: string, until: string): string[] {
  const start = Date.parse(since.slice(0, 10));
  const endMs = Date.parse(until) - 1;
  const days: string[] = [];
  for (let t = start; t <= endMs; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  if (days.length > MAX_SERIES_DAYS) throw new ReportError(`the period ${since} .. ${until} has ${days.length} days; the storage series holds at most ${MAX_SERIES_DAYS}: give a later --since`, { code: 'REPORT_INVALID' });
  return days;
}

function blobsOf(image: InventoryImage): [string, number][] {
  if (image.blobs && image.blobs.length > 0) return image.blobs.map((b) => [b.digest, b.size]);
  return image.sizeBytes !== undefined ? [[image.digest, image.sizeBytes]] : [];
}

/** Bytes of the images pushed by `endMs` (each blob once); images without a push time count from the start. */
function bytesAt(images: readonly InventoryImage[], endMs: number): number {
  const blobs = new Map<string, number>();
  for (const image of images) {
    const pushed = image.pushedAt ? Date.parse(image.pushedAt) : Number.NaN;
    if (!Number.isNaN(pushed) && pushed > endMs) continue;
    for (const [d, s] of blobsOf(image)) blobs.set(d, s);
  }
  return [...blobs.values()].reduce((n, s) => n + s, 0);
}

/** How many dead letters wait, the oldest, and how many per error code. */
export function deadLetterBacklog(deadLetters: readonly DeadLetterRecord[]): DeadLetterBacklog {
  const byError: Record<string, number> = {};
  for (const d of deadLetters) byError[d.error.code] = (byError[d.error.code] ?? 0) + 1;
  const oldest = deadLetters.map((d) => d.time).filter((t): t is string => t !== undefined).sort()[0] ?? null;
  return { backlog: deadLetters.length, oldest, byError };
}

const key = (...parts: string[]): string => parts.join('\u0000');

/** Steps that end a promotion run (promotion-records.ts). */
const FINAL_STEPS = new Set(['promote.record', 'promote.apply-tags', 'promote.sync', 'promote.rollback']);

interface RunAcc {
  environment?: string;
  digest?: string;
  requested?: number;
  promoted?: number;
  rejected: boolean;
  failed: boolean;
  /** The run's `promote.record` status, when it has ended: it decides over the steps. */
  final?: 'promoted' | 'rejected' | 'failed';
}

function summary(values: readonly number[]): LagSummary {
  const sorted = [...values].sort((x, y) => x - y);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), maxMs: sorted.at(-1) ?? null };
}

interface TargetAcc {
  copies: number;
  bytes: number;
  failures: number;
  lags: number[];
  lastFailure?: { time: string; repository: string; errorCode: string };
}

/**
 * Streams the period's audit records (in any order) and keeps only counters: pushes per image, copies,
 * bytes, failures and lags per target, and retention deletes per repository (to rebuild storage over time).
 *
 * @example
 * const acc = new UsageAccumulator({ since, until });
 * for await (const r of log.iterate({ since, until, order: 'any' })) acc.add(r);
 * const report = acc.finish(registries, await listDeadLetters(dlqPath));
 */
export class UsageAccumulator {
  private records = 0;
  /** Push events per source registry, repository and digest: one correlation id per push event, whether its copies succeeded or failed. */
  private readonly pushEvents = new Map<string, Set<string>>();
  private readonly pushTags = new Map<string, Set<string>>();
  private readonly targets = new Map<string, TargetAcc>();
  /** Deleted bytes per registry and repository, with the time of each delete. */
  private readonly deletes = new Map<string, { time: number; bytes: number }[]>();
  /** Promotion runs by execution (correlation id): a few fields each. */
  private readonly runs = new Map<string, RunAcc>();
  /** The earliest push event time of each digest. */
  private readonly pushedAt = new Map<string, number>();

  constructor(private readonly options: UsageOptions) {}

  /** Records added so far that fall inside the period. */
  get recordCount(): number {
    return this.records;
  }

  add(r: StoredAuditRecord): void {
    const t = Date.parse(r.time);
    if (t < Date.parse(this.options.since) || t >= Date.parse(this.options.until)) return;
    this.records += 1;
    // A push is the push event, not a copy: the replicate handler runs only for successful pushes (ECR
    // `PUSH`/`SUCCESS`, or the local registry's push notification) and writes one record per target, each
    // with the event's id as correlation id; a retry, a deferral or a redrive of the event keeps that id.
    // So a correlation id is one push whether its copies succeeded or failed (a push whose every copy
    // failed is still a push); the failed copies are counted per target below. Skipped records are left
    // out: they are mostly referrer tags (`sha256-….sig`, the fallback index) waiting for their subject.
    if (r.action === 'replicate' && r.source && r.repository && r.digest && r.outcome !== 'skipped') {
      const k = key(r.source, r.repository, r.digest);
      const events = this.pushEvents.get(k) ?? new Set<string>();
      events.add(r.correlationId);
      this.pushEvents.set(k, events);
      const tags = this.pushTags.get(k) ?? new Set<string>();
      for (const tag of r.tags ?? []) tags.add(tag);
      this.pushTags.set(k, tags);
    }
    if (COPY_ACTIONS.includes(r.action) && r.target) {
      const acc = this.targets.get(r.target) ?? { copies: 0, bytes: 0, failures: 0, lags: [] };
      if (r.outcome === 'success') {
        acc.copies += 1;
        acc.bytes += r.bytes ?? 0;
        const eventTime = typeof r.details?.eventTime === 'string' ? Date.parse(r.details.eventTime) : Number.NaN;
        if (r.action === 'replicate' && !Number.isNaN(eventTime)) acc.lags.push(Math.max(0, t - eventTime));
        if (r.action === 'replicate' && r.digest && !Number.isNaN(eventTime)) this.pushedAt.set(r.digest, Math.min(this.pushedAt.get(r.digest) ?? eventTime, eventTime));
      } else if (r.outcome === 'failure') {
        acc.failures += 1;
        // Records may arrive in any order (a streamed scan): keep the newest failure.
        if (!acc.lastFailure || acc.lastFailure.time <= r.time) acc.lastFailure = { time: r.time, repository: r.repository ?? '', errorCode: r.errorCode ?? 'UNKNOWN' };
      }
      this.targets.set(r.target, acc);
    }
    if (isPromotionRunRecord(r)) {
      const run = this.runs.get(r.correlationId) ?? { rejected: false, failed: false };
      run.environment ??= environmentOf(r);
      run.digest ??= r.digest;
      if (r.action === 'promote.validate' || r.action === 'promote.request') run.requested = t;
      // The approvals engine's refusals (`approval.refused`: not an approver, ...) do not end a run; an approver's rejection does.
      if (r.action === 'approval.reject' || (r.action.startsWith('promote.') && r.outcome === 'rejected')) run.rejected = true;
      if (r.action.startsWith('promote.') && r.outcome === 'failure') run.failed = true;
      if (r.action === 'promote.record') run.final = r.outcome === 'success' ? 'promoted' : r.outcome === 'rejected' ? 'rejected' : 'failed';
      if (FINAL_STEPS.has(r.action) && r.outcome === 'success') run.promoted = Math.max(run.promoted ?? t, t);
      this.runs.set(r.correlationId, run);
    }
    if (r.action === 'retention.delete' && r.outcome === 'success' && r.registry && r.repository) {
      const k = key(r.registry, r.repository);
      const list = this.deletes.get(k) ?? [];
      list.push({ time: t, bytes: r.bytes ?? 0 });
      this.deletes.set(k, list);
    }
  }

  private promotionsByEnvironment(): EnvironmentPromotions[] {
    const byEnv = new Map<string, RunAcc[]>();
    for (const run of this.runs.values()) {
      const env = run.environment ?? 'unknown';
      byEnv.set(env, [...(byEnv.get(env) ?? []), run]);
    }
    return [...byEnv]
      .map(([environment, runs]) => {
        const outcome = (x: RunAcc): string => x.final ?? (x.rejected ? 'rejected' : x.failed ? 'failed' : x.promoted !== undefined ? 'promoted' : 'in-progress');
        const promoted = runs.filter((x) => outcome(x) === 'promoted');
        return {
          environment,
          runs: runs.length,
          promoted: promoted.length,
          rejected: runs.filter((x) => outcome(x) === 'rejected').length,
          failed: runs.filter((x) => outcome(x) === 'failed').length,
          inProgress: runs.filter((x) => outcome(x) === 'in-progress').length,
          leadTime: summary(promoted.flatMap((x) => (x.requested !== undefined ? [Math.max(0, x.promoted! - x.requested)] : []))),
          pushToPromoted: summary(promoted.flatMap((x) => {
            const pushed = x.digest !== undefined ? this.pushedAt.get(x.digest) : undefined;
            return pushed !== undefined ? [Math.max(0, x.promoted! - pushed)] : [];
          })),
        };
      })
      .sort((a, b) => a.environment.localeCompare(b.environment));
  }

  /** The report over the registries' inventories (and pulls) and the dead letters waiting. */
  finish(registries: readonly UsageRegistryInput[], deadLetters?: readonly DeadLetterRecord[]): UsageReport {
    const { since, until } = this.options;
    const days = seriesDays(since, until);
    const storage: RepositoryStorage[] = [];
    const pulls: RepositoryPulls[] = [];
    for (const reg of registries) {
      for (const inv of reg.repositories) {
        const deletes = this.deletes.get(key(reg.name, inv.repository)) ?? [];
        const series = days.map((day) => {
          const endMs = Date.parse(day) + DAY_MS - 1;
          // What was deleted after that day was still stored on it.
          const deletedLater = deletes.filter((d) => d.time > endMs).reduce((n, d) => n + d.bytes, 0);
          return { day, bytes: bytesAt(inv.images, endMs) + deletedLater };
        });
        storage.push({ registry: reg.name, repository: inv.repository, bytes: bytesAt(inv.images, Number.POSITIVE_INFINITY), series });
        const images: ImagePulls[] = inv.images.map((image) => {
          const counts = reg.pulls?.get(`${inv.repository}@${image.digest}`);
          return {
            registry: reg.name,
            repository: inv.repository,
            digest: image.digest,
            tags: image.tags,
            pulls: reg.pulls ? (counts ?? []).reduce((n, c) => n + c.count, 0) : null,
            lastPulledAt: image.lastPulledAt ?? null,
          };
        });
        pulls.push({
          registry: reg.name,
          repository: inv.repository,
          pulls: reg.pulls ? images.reduce((n, i) => n + (i.pulls ?? 0), 0) : null,
          unpulled: reg.pulls ? images.filter((i) => i.pulls === 0).length : 0,
          images,
        });
      }
    }
    const pushes = new Map<string, { registry: string; repository: string; images: ImagePushes[] }>();
    for (const [k, events] of this.pushEvents) {
      const [registry, repository, digest] = k.split('\u0000') as [string, string, string];
      const entry = pushes.get(key(registry, repository)) ?? { registry, repository, images: [] };
      entry.images.push({ digest, tags: [...(this.pushTags.get(k) ?? [])].sort(), pushes: events.size });
      pushes.set(key(registry, repository), entry);
    }
    const mostPulled = pulls
      .flatMap((p) => p.images)
      .filter((i) => (i.pulls ?? 0) > 0)
      .sort((a, b) => (b.pulls ?? 0) - (a.pulls ?? 0) || a.repository.localeCompare(b.repository) || a.digest.localeCompare(b.digest))
      .slice(0, this.options.top ?? 10);
    return {
      since,
      until,
      records: this.records,
      storage: storage.sort((a, b) => a.registry.localeCompare(b.registry) || a.repository.localeCompare(b.repository)),
      pushes: [...pushes.values()]
        .map((p) => ({ ...p, pushes: p.images.reduce((n, i) => n + i.pushes, 0), images: p.images.sort((a, b) => b.pushes - a.pushes || a.digest.localeCompare(b.digest)) }))
        .sort((a, b) => b.pushes - a.pushes || a.repository.localeCompare(b.repository)),
      pulls: pulls.sort((a, b) => (b.pulls ?? -1) - (a.pulls ?? -1) || a.registry.localeCompare(b.registry) || a.repository.localeCompare(b.repository)),
      mostPulled,
      replication: [...this.targets]
        .map(([target, a]) => {
          const sorted = [...a.lags].sort((x, y) => x - y);
          return {
            target,
            copies: a.copies,
            bytes: a.bytes,
            failures: a.failures,
            lag: { count: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), maxMs: sorted.at(-1) ?? null },
            ...(a.lastFailure ? { lastFailure: a.lastFailure } : {}),
          };
        })
        .sort((a, b) => a.target.localeCompare(b.target)),
      promotions: this.promotionsByEnvironment(),
      deadLetters: deadLetters ? deadLetterBacklog(deadLetters) : null,
      pullsUnknown: registries.filter((r) => !r.pulls).map((r) => r.name),
    };
  }
}
