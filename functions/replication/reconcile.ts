// Reconcile: compares every replicated tag at the source and at each target (digest, completeness, referrers) and copies what is missing or different.
import { randomUUID } from 'node:crypto';
import type { AuditRecordInput } from '../audit/index.ts';
import type { ReplicationRule } from '../config/types.ts';
import { copyImage, type CopyRepairs } from '../oci/copy.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { mapLimit } from '../registries/map-limit.ts';
import { repositoryPath } from '../registries/sync.ts';
import { compilePattern } from '../config/patterns.ts';
import { ReplicationError } from './errors.ts';
import { auditInterruptedCopies } from './interrupted.ts';
import { openBlobResume } from './blob-progress.ts';
import { protectedVerdict } from './quarantine-guard.ts';
import { ReplicationMetric, errorCodeOf, errorMessageOf, noMetrics, silentLogger } from './observability.ts';
import type { ReplicationDeps } from './replicate.ts';
import { matchReplicationTargets, selectReconcileTags } from './rules.ts';

export interface ReconcileOptions {
  /** Only these rules (by name). @default every rule */
  readonly rules?: readonly string[];
  /** Written into every audit record and log line. @default a new UUID */
  readonly correlationId?: string;
  /** @default `system:reconcile` */
  readonly actor?: string;
  /** (tag × target) comparisons in flight. @default 4 */
  readonly concurrency?: number;
}

/** One tag at one target that was not in sync. */
export interface ReconcileItem {
  readonly rule: string;
  readonly source: string;
  readonly target: string;
  /** Source OCI repository path. */
  readonly repository: string;
  /** Target OCI repository path. */
  readonly targetRepository: string;
  readonly tag: string;
  readonly sourceDigest?: string;
  /** What the target had before (undefined: nothing under that tag). */
  readonly targetDigest?: string;
  /** `skipped`: a protected rule and a quarantined digest (`reason` says which). */
  readonly status: 'repaired' | 'failed' | 'skipped';
  readonly reason?: string;
  /**
   * What was missing under a tag whose digest was already right: child manifests, blobs, referrers
   * (signatures, SBOMs, attestations and their cosign / fallback tags).
   */
  readonly repairs?: CopyRepairs;
  readonly bytes?: number;
  readonly errorCode?: string;
  readonly error?: string;
}

/** A failure above the tag level: a source that cannot be listed, an unknown registry. */
export interface ReconcileError {
  readonly rule: string;
  readonly repository?: string;
  readonly errorCode: string;
  readonly message: string;
}

export interface ReconcileReport {
  readonly correlationId: string;
  /** (tag × target) pairs compared. */
  readonly checked: number;
  /** Pairs that were in sync already (or whose copy was a no-op). */
  readonly inSync: number;
  readonly repaired: number;
  /** Pairs that could not be repaired, plus rule / repository level errors. */
  readonly failed: number;
  /** Every pair that was repaired or failed. */
  readonly items: ReconcileItem[];
  readonly errors: ReconcileError[];
  readonly durationMs: number;
}

interface Job {
  readonly rule: ReplicationRule;
  readonly source: RegistryAdapter;
  readonly repository: string;
  readonly tag: string;
  readonly target: string;
  readonly targetRepository: string;
  readonly referrers: boolean;
  readonly platforms?: readonly string[];
}

/**
 * For each rule (or those named), lists the source repositories its patterns match and their tags
 * its filters select, compares each tag's digest with every target (manifestHead), and copies what is
 * missing or different (copyImage; referrers travel with their subject). Each repair or failed repair
 * is audited as `reconcile`; pairs already in sync are counted, not audited. Nothing throws for a
 * failed pair: the report says what happened.
 *
 * @throws ReplicationError `RULE_UNKNOWN` when `options.rules` names a rule the config does not have.
 * @example
 * const report = await reconcile(deps, { rules: ['mirror-releases'] });
 * if (report.failed > 0) logger.warn('drift not repaired', report);
 */
export async function reconcile(deps: ReplicationDeps, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const started = performance.now();
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? noMetrics;
  const correlationId = options.correlationId ?? randomUUID();
  const actor = options.actor ?? 'system:reconcile';
  const known = new Set(deps.config.replication.map((r) => r.name));
  const unknown = (options.rules ?? []).filter((r) => !known.has(r));
  if (unknown.length > 0) {
    throw new ReplicationError(`Unknown replication rule ${unknown.map((r) => `"${r}"`).join(', ')}: the config has ${[...known].join(', ') || 'none'}`, {
      code: 'RULE_UNKNOWN',
      retryable: false,
    });
  }
  const rules = deps.config.replication.filter((r) => options.rules === undefined || options.rules.includes(r.name));
  if (deps.state) {
    // Copies whose Lambda died (timeout, crash) more than 15 minutes ago: audited, then repaired below.
    await auditInterruptedCopies({ state: deps.state, audit: deps.audit, logger, actor }).catch((err: unknown) => {
      logger.warn('Could not look for interrupted copies', { correlationId, error: errorMessageOf(err) });
    });
  }
  const errors: ReconcileError[] = [];
  const fail = async (source: string, error: ReconcileError): Promise<void> => {
    errors.push(error);
    logger.error('Reconcile could not list', { correlationId, ...error });
    await appendQuietly({
      actor,
      action: 'reconcile',
      outcome: 'failure',
      correlationId,
      source,
      ...(error.repository ? { repository: error.repository } : {}),
      errorCode: error.errorCode,
      errorMessage: error.message,
      details: { rule: error.rule },
    });
  };
  const appendQuietly = async (record: AuditRecordInput): Promise<void> => {
    try {
      await deps.audit.append({ ...record, ...(deps.now ? { time: deps.now() } : {}) });
    } catch (err) {
      logger.error('Audit record could not be written', { correlationId, error: errorMessageOf(err) });
      errors.push({ rule: String(record.details?.rule ?? ''), errorCode: errorCodeOf(err), message: `audit: ${errorMessageOf(err)}` });
    }
  };

  const jobs: Job[] = [];
  for (const rule of rules) {
    const source = deps.adapters.get(rule.source);
    if (!source) {
      await fail(rule.source, { rule: rule.name, errorCode: 'SOURCE_UNKNOWN', message: `source registry "${rule.source}" has no adapter` });
      continue;
    }
    let repositories: string[];
    try {
      const matchers = rule.repositories.map(compilePattern);
      repositories = (await source.listRepositories()).filter((r) => matchers.some((m) => m(r)));
    } catch (err) {
      await fail(rule.source, { rule: rule.name, errorCode: errorCodeOf(err), message: `listing repositories of "${rule.source}": ${errorMessageOf(err)}` });
      continue;
    }
    for (const repository of repositories) {
      let tags: string[];
      try {
        tags = selectReconcileTags(rule, await source.oci.tagList(repositoryPath(source, repository)));
      } catch (err) {
        await fail(rule.source, { rule: rule.name, repository, errorCode: errorCodeOf(err), message: `listing tags of ${repository} in "${rule.source}": ${errorMessageOf(err)}` });
        continue;
      }
      for (const tag of tags) {
        for (const m of matchReplicationTargets({ replication: [rule] }, rule.source, repository, tag)) {
          jobs.push({ rule, source, repository, tag, target: m.targetRegistry, targetRepository: m.targetRepository, referrers: m.referrers, ...(m.platforms ? { platforms: m.platforms } : {}) });
        }
      }
    }
  }

  const sourceHeads = new Map<string, Promise<string | undefined>>();
  const sourceDigest = (job: Job, path: string): Promise<string | undefined> => {
    const key = `${job.source.name}\u0000${path}\u0000${job.tag}`;
    let head = sourceHeads.get(key);
    if (!head) {
      head = job.source.oci.manifestHead(path, job.tag).then((d) => d?.digest);
      sourceHeads.set(key, head);
    }
    return head;
  };

  let inSync = 0;
  const items: ReconcileItem[] = [];
  // Blobs and manifests verified at a target during this run: a layer shared by many tags is HEADed once.
  const verifiedCache = new Set<string>();
  await mapLimit(jobs, options.concurrency ?? 4, async (job) => {
    const started = performance.now();
    const srcPath = repositoryPath(job.source, job.repository);
    const target = deps.adapters.get(job.target);
    const dstPath = target ? repositoryPath(target, job.targetRepository) : job.targetRepository;
    const base = { rule: job.rule.name, source: job.source.name, target: job.target, repository: srcPath, targetRepository: dstPath, tag: job.tag };
    let digest: string | undefined;
    let before: string | undefined;
    try {
      if (!target) throw Object.assign(new Error(`target registry "${job.target}" has no adapter`), { code: 'TARGET_UNKNOWN' });
      digest = await sourceDigest(job, srcPath);
      // The tag was deleted since it was listed: nothing to compare.
      if (digest === undefined) return;
      const guard = await protectedVerdict(deps.quarantine, job.rule, [digest]);
      if (guard.kind === 'unknown') throw Object.assign(new Error(guard.error), { code: 'QUARANTINE_UNKNOWN' });
      if (guard.kind === 'skip') {
        const item: ReconcileItem = { ...base, sourceDigest: digest, status: 'skipped', reason: guard.reason };
        items.push(item);
        logger.info(`Reconcile skipped ${dstPath}:${job.tag} at ${job.target}: quarantined`, { correlationId, ...item });
        await appendQuietly({
          actor, action: 'reconcile', outcome: 'skipped', correlationId, source: job.source.name, target: job.target,
          repository: srcPath, digest, tags: [job.tag], details: { rule: job.rule.name, targetRepository: dstPath, reason: guard.reason },
        });
        return;
      }
      before = (await target.oci.manifestHead(dstPath, job.tag))?.digest;
      // Even when the tag's digest matches, the image may be incomplete (a child or a layer deleted by a
      // cleanup) or miss referrers (a .sig pushed while the target was down): copyImage checks both,
      // and is a no-op when everything is there.
      const sourceDigestNow = digest;
      let moved = false;
      // An interrupted copy of this digest (a crash, a Lambda timeout) resumes from what it verified.
      const progress = deps.blobProgress ? await openBlobResume(deps.blobProgress, { target: job.target, repository: dstPath, digest }, { logger }) : undefined;
      const result = await copyImage(
        { registry: job.source.oci, repository: srcPath, reference: digest },
        { registry: target.oci, repository: dstPath, tag: job.tag },
        {
          ...deps.copyOptions,
          referrers: job.referrers,
          ...(job.platforms ? { platforms: job.platforms } : {}),
          verifiedCache,
          // The tag may have moved since it was read: never publish a digest the source no longer names.
          confirmTag: async () => {
            moved = (await job.source.oci.manifestHead(srcPath, job.tag))?.digest !== sourceDigestNow;
            return !moved;
          },
          ...(progress ? { resume: progress.resume } : {}),
        },
      ).catch(async (err: unknown) => {
        await progress?.close(err);
        throw err;
      });
      await progress?.close();
      const repairs = result.repaired;
      const repairedParts = repairs.children.length + repairs.blobs.length + repairs.referrers.length;
      if (moved || (result.noop && before === result.digest && repairedParts === 0)) {
        inSync += 1;
        return;
      }
      const item: ReconcileItem = {
        ...base,
        sourceDigest: digest,
        ...(before ? { targetDigest: before } : {}),
        status: 'repaired',
        ...(repairedParts > 0 ? { repairs } : {}),
        bytes: result.bytesUploaded,
      };
      items.push(item);
      metrics.record(ReplicationMetric.reconcileRepaired, 'Count', 1, { target: job.target });
      logger.info(`Reconcile repaired ${dstPath}:${job.tag} at ${job.target}`, { correlationId, ...item });
      await appendQuietly({
        actor,
        action: 'reconcile',
        outcome: 'success',
        correlationId,
        source: job.source.name,
        target: job.target,
        repository: srcPath,
        digest,
        tags: [job.tag],
        bytes: result.bytesUploaded,
        blobs: { ...result.blobs },
        durationMs: Math.round(performance.now() - started),
        details: {
          rule: job.rule.name,
          targetRepository: dstPath,
          previousDigest: before ?? null,
          ...(repairedParts > 0 ? { repaired: { children: [...repairs.children], blobs: [...repairs.blobs], referrers: [...repairs.referrers] } } : {}),
        },
      });
    } catch (err) {
      const item: ReconcileItem = {
        ...base,
        ...(digest ? { sourceDigest: digest } : {}),
        ...(before ? { targetDigest: before } : {}),
        status: 'failed',
        errorCode: errorCodeOf(err),
        error: errorMessageOf(err),
      };
      items.push(item);
      metrics.record(ReplicationMetric.reconcileFailures, 'Count', 1, { target: job.target });
      logger.error(`Reconcile failed for ${dstPath}:${job.tag} at ${job.target}`, { correlationId, ...item });
      await appendQuietly({
        actor,
        action: 'reconcile',
        outcome: 'failure',
        correlationId,
        source: job.source.name,
        target: job.target,
        repository: srcPath,
        ...(digest ? { digest } : {}),
        tags: [job.tag],
        durationMs: Math.round(performance.now() - started),
        errorCode: item.errorCode ?? 'UNKNOWN',
        errorMessage: item.error ?? '',
        details: { rule: job.rule.name, targetRepository: dstPath },
      });
    }
  });

  const repaired = items.filter((i) => i.status === 'repaired').length;
  const failedItems = items.filter((i) => i.status === 'failed').length;
  return {
    correlationId,
    checked: inSync + items.length,
    inSync,
    repaired,
    failed: failedItems + errors.length,
    items,
    errors,
    durationMs: Math.round(performance.now() - started),
  };
}
