// Replicates one pushed image to every matching target, in parallel, with one audit record and metrics per target.
import type { AuditRecordInput } from '../audit/index.ts';
import { copyImage, type CopyResult } from '../oci/copy.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { mapLimit } from '../registries/map-limit.ts';
import { repositoryPath } from '../registries/sync.ts';
import { ReplicationError, ReplicationFailedError } from './errors.ts';
import { fanOutIfLarge } from './large/fanout.ts';
import type { ReplicateImageInput, ReplicationDeps, ReplicationEvent, ReplicationOutcome, TargetOutcome } from './types.ts';
import { ReplicationMetric, errorCodeOf, errorMessageOf, noMetrics, silentLogger, type MetricsLike } from './observability.ts';
import { planReplication, type ReplicationTargetMatch } from './rules.ts';

export type { ReplicationCopyOptions, ReplicationDeps, ReplicationEvent, TargetOutcome, ReplicationOutcome, ReplicateImageInput, ReplicationFanout } from './types.ts';

const NO_BLOBS = { uploaded: 0, mounted: 0, skipped: 0 } as const;

/** `event.repository` is the OCI path; rules match the name relative to the source's namespace. */
export function relativeRepository(source: Pick<RegistryAdapter, 'namespace'>, repository: string): string {
  const prefix = source.namespace ? `${source.namespace}/` : '';
  return prefix && repository.startsWith(prefix) ? repository.slice(prefix.length) : repository;
}

function safeEmit(deps: ReplicationDeps, event: ReplicationEvent): void {
  try {
    deps.onEvent?.(event);
  } catch {
    // A progress display must never decide whether a replication succeeds.
  }
}

/**
 * Copies a pushed image (by digest, then tagged) from the source to every target its rules match:
 * blobs skipped / mounted / streamed, children and referrers included, tag last (copyImage). Targets
 * run in parallel (`targetConcurrency`); a failing target does not stop the others. Each target gets
 * one audit record (`replicate`) and its metrics. Events that are not a tagged PUSH/SUCCESS are
 * skipped with a reason (not audited: each multi-arch push emits one per child). With `deps.fanout`, an
 * image too large for this invocation is handed to the replicate-large state machine (`deferred`).
 *
 * @throws ReplicationFailedError (a `ReplicationError`, retryable) AFTER auditing, when any target failed
 *   or its audit record could not be written; ReplicationError `SOURCE_UNKNOWN` (not retryable) when
 *   `sourceRegistry` has no adapter.
 * @example
 * const outcome = await replicateImage({ event: parseImageActionEvent(raw), sourceRegistry: 'ecr-main',
 *   correlationId: raw.id, actor: 'event:aws.ecr' }, { config, adapters, audit });
 */
export async function replicateImage(input: ReplicateImageInput, deps: ReplicationDeps): Promise<ReplicationOutcome> {
  const { event, sourceRegistry, correlationId } = input;
  const logger = deps.logger ?? silentLogger;
  const source = deps.adapters.get(sourceRegistry);
  if (!source) {
    throw new ReplicationError(`Source registry "${sourceRegistry}" of ${event.repository}@${event.digest} has no adapter: check the config's registries`, {
      code: 'SOURCE_UNKNOWN',
      retryable: false,
    });
  }
  const base = { correlationId, source: sourceRegistry, repository: event.repository, digest: event.digest, ...(event.tag !== undefined ? { tag: event.tag } : {}) };
  const plan = planReplication(deps.config, sourceRegistry, event, relativeRepository(source, event.repository));
  if (plan.kind === 'skip') {
    logger.info('Image event skipped', { ...base, reason: plan.reason });
    safeEmit(deps, { type: 'skipped', correlationId, repository: event.repository, digest: event.digest, reason: plan.reason });
    return { status: 'skipped', reason: plan.reason, ...base, targets: [] };
  }
  // A referrer tag is small and travels with its subject: never fanned out.
  if (deps.fanout && plan.referrerOf === undefined) {
    const deferred = await fanOutIfLarge(input, source, plan.tag, plan.targets, deps.fanout, deps);
    if (deferred) {
      for (const outcome of deferred.targets) safeEmit(deps, { type: 'target-finished', correlationId, outcome });
      return deferred;
    }
  }

  const auditFailures: { target: string; error: unknown }[] = [];
  const targets = await mapLimit(plan.targets, deps.targetConcurrency ?? 4, async (match) => {
    const outcome = await replicateToTarget(input, source, match, plan.tag, plan.referrerOf, deps);
    recordMetrics(deps.metrics ?? noMetrics, outcome);
    try {
      await deps.audit.append(auditRecord(input, outcome, plan.tag, deps));
    } catch (err) {
      logger.error('Audit record could not be written', { ...base, target: outcome.target, error: errorMessageOf(err) });
      auditFailures.push({ target: outcome.target, error: err });
    }
    safeEmit(deps, { type: 'target-finished', correlationId, outcome });
    const log = outcome.status === 'failed' ? logger.error : logger.info;
    log.call(logger, `Replication to ${outcome.target} ${outcome.status}`, { ...base, ...outcome, repository: base.repository, targetRepository: outcome.repository });
    return outcome;
  });

  const failed = targets.filter((t) => t.status === 'failed');
  const status: ReplicationOutcome['status'] =
    failed.length === 0 ? (targets.some((t) => t.status === 'replicated') ? 'replicated' : 'skipped') : failed.length === targets.length ? 'failed' : 'partial';
  const outcome: ReplicationOutcome = { status, ...base, tag: plan.tag, targets };
  if (failed.length > 0 || auditFailures.length > 0) {
    const failures = [
      ...failed.map((t) => ({ target: t.target, errorCode: t.errorCode ?? 'UNKNOWN', message: t.error ?? '' })),
      ...auditFailures.map((a) => ({ target: a.target, errorCode: errorCodeOf(a.error), message: `audit: ${errorMessageOf(a.error)}` })),
    ];
    throw new ReplicationFailedError(
      `Replication of ${event.repository}:${plan.tag} (${event.digest}) failed for ${failures.map((f) => `${f.target} (${f.errorCode}: ${f.message})`).join(', ')}; it will be retried`,
      failures,
      { outcome, cause: auditFailures[0]?.error },
    );
  }
  return outcome;
}

async function replicateToTarget(
  input: ReplicateImageInput,
  source: RegistryAdapter,
  match: ReplicationTargetMatch,
  tag: string,
  referrerOf: string | undefined,
  deps: ReplicationDeps,
): Promise<TargetOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const common = { rule: match.rule, target: match.targetRegistry };
  const target = deps.adapters.get(match.targetRegistry);
  if (!target) {
    return {
      ...common,
      repository: match.targetRepository,
      status: 'failed',
      bytes: 0,
      blobs: NO_BLOBS,
      durationMs: elapsed(),
      errorCode: 'TARGET_UNKNOWN',
      error: `target registry "${match.targetRegistry}" of rule "${match.rule}" has no adapter`,
    };
  }
  const repository = repositoryPath(target, match.targetRepository);
  safeEmit(deps, { type: 'target-started', correlationId: input.correlationId, target: target.name, repository, tag });
  try {
    if (referrerOf !== undefined && match.referrers && (await target.oci.manifestHead(repository, referrerOf)) === undefined) {
      // The subject's own replication copies this referrer with it (referrers after their subject).
      return { ...common, repository, status: 'skipped', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), reason: `subject ${referrerOf} is not at the target: the referrer travels with it` };
    }
    const result: CopyResult = await copyImage(
      { registry: source.oci, repository: input.event.repository, reference: input.event.digest },
      { registry: target.oci, repository, tag },
      {
        ...deps.copyOptions,
        referrers: match.referrers,
        ...(match.platforms !== undefined ? { platforms: match.platforms } : {}),
        onEvent: (event) => safeEmit(deps, { type: 'copy', correlationId: input.correlationId, target: target.name, event }),
      },
    );
    return {
      ...common,
      repository,
      status: 'replicated',
      digest: result.digest,
      noop: result.noop,
      bytes: result.bytesUploaded,
      blobs: { ...result.blobs },
      durationMs: elapsed(),
    };
  } catch (err) {
    return { ...common, repository, status: 'failed', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), errorCode: errorCodeOf(err), error: errorMessageOf(err) };
  }
}

function recordMetrics(metrics: MetricsLike, outcome: TargetOutcome): void {
  const dims = { target: outcome.target };
  metrics.record(ReplicationMetric.bytes, 'Bytes', outcome.bytes, dims);
  metrics.record(ReplicationMetric.blobsUploaded, 'Count', outcome.blobs.uploaded, dims);
  metrics.record(ReplicationMetric.blobsMounted, 'Count', outcome.blobs.mounted, dims);
  metrics.record(ReplicationMetric.blobsSkipped, 'Count', outcome.blobs.skipped, dims);
  metrics.record(ReplicationMetric.duration, 'Milliseconds', outcome.durationMs, dims);
  metrics.record(ReplicationMetric.failures, 'Count', outcome.status === 'failed' ? 1 : 0, dims);
}

function auditRecord(input: ReplicateImageInput, outcome: TargetOutcome, tag: string, deps: ReplicationDeps): AuditRecordInput {
  return {
    actor: input.actor,
    action: 'replicate',
    outcome: outcome.status === 'replicated' ? 'success' : outcome.status === 'skipped' ? 'skipped' : 'failure',
    correlationId: input.correlationId,
    ...(deps.now ? { time: deps.now() } : {}),
    source: input.sourceRegistry,
    target: outcome.target,
    repository: input.event.repository,
    digest: input.event.digest,
    tags: [tag],
    bytes: outcome.bytes,
    blobs: outcome.blobs,
    durationMs: outcome.durationMs,
    ...(outcome.errorCode !== undefined ? { errorCode: outcome.errorCode } : {}),
    ...(outcome.error !== undefined ? { errorMessage: outcome.error } : {}),
    details: {
      rule: outcome.rule,
      targetRepository: outcome.repository,
      eventTime: input.event.time,
      ...(outcome.noop !== undefined ? { noop: outcome.noop } : {}),
      ...(outcome.digest !== undefined && outcome.digest !== input.event.digest ? { targetDigest: outcome.digest } : {}),
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    },
  };
}
