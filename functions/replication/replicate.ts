// Replicates one pushed image to every matching target, in parallel, with one audit record and metrics per target.
import type { PushedBy } from './pusher/pusher.ts';
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
import { openBlobResume } from './blob-progress.ts';
import { protectedVerdict } from './quarantine-guard.ts';
import { DEFERRED_ACTION, MAX_DEFERRALS, deferralOf, type DeferredReplication } from './deferral.ts';
import { blocksApply, doneKey, eventTimeMs, type AppliedTag, type EventKey, type InFlightCopy, type TagKey } from './tag-state.ts';

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

  // Who pushed (CloudTrail PutImage on AWS): looked up once per event, named in every target's record.
  const pushedBy = deps.pusher ? await deps.pusher.pusherOf(event) : undefined;
  const auditFailures: { target: string; error: unknown }[] = [];
  const eventKey: EventKey = { correlationId, digest: event.digest };
  const done = await targetsDone(deps, eventKey, logger, base);
  const targets = await mapLimit(plan.targets, deps.targetConcurrency ?? 4, async (match) => {
    const key = doneKey(match.rule, match.targetRegistry);
    const earlier = done.get(key);
    // A deferred target is done for the retries of its event, and runs again when its deferral comes back.
    const rerun = earlier?.status === 'deferred' && input.deferred?.targets.includes(key) === true;
    if (earlier !== undefined && !rerun) {
      // Finished by an earlier attempt of this event (and audited then): retry only what failed.
      const outcome: TargetOutcome = { ...earlier, earlierAttempt: true };
      safeEmit(deps, { type: 'target-finished', correlationId, outcome });
      logger.info(`Replication to ${outcome.target} was done by an earlier attempt`, { ...base, target: outcome.target });
      return outcome;
    }
    const outcome = await replicateToTarget(input, source, match, plan.tag, plan.referrerOf, deps);
    if (outcome.status !== 'deferred') recordMetrics(deps.metrics ?? noMetrics, outcome);
    let audited = false;
    try {
      await deps.audit.append(auditRecord(input, outcome, plan.tag, deps, pushedBy));
      audited = true;
    } catch (err) {
      logger.error('Audit record could not be written', { ...base, target: outcome.target, error: errorMessageOf(err) });
      auditFailures.push({ target: outcome.target, error: err });
    }
    // A deferred target is marked once its deferral is queued (below).
    if (audited && deps.state && outcome.status !== 'failed' && outcome.status !== 'deferred') {
      await deps.state.markTargetDone(eventKey, outcome).catch((err: unknown) => {
        // Only costs a repeat (cheap: HEAD checks) if this event is retried for another target.
        logger.warn('Could not record the target as done', { ...base, target: outcome.target, error: errorMessageOf(err) });
      });
    }
    safeEmit(deps, { type: 'target-finished', correlationId, outcome });
    const log = outcome.status === 'failed' ? logger.error : logger.info;
    log.call(logger, `Replication to ${outcome.target} ${outcome.status}`, { ...base, ...outcome, repository: base.repository, targetRepository: outcome.repository });
    return outcome;
  });

  const failed = targets.filter((t) => t.status === 'failed');
  const deferredNow = targets.filter((t) => t.status === 'deferred' && !t.earlierAttempt);
  if (deferredNow.length > 0 && deps.deferrals) {
    const delaySeconds = Math.max(...deferredNow.map((t) => t.retryAfterSeconds ?? 60));
    const work: DeferredReplication = {
      kind: 'regman.deferred-replication',
      id: correlationId,
      correlationId,
      sourceRegistry,
      actor: input.actor,
      event,
      notBefore: new Date(Date.now() + delaySeconds * 1000).toISOString(),
      deferrals: (input.deferred?.deferrals ?? 0) + 1,
      targets: deferredNow.map((t) => doneKey(t.rule, t.target)),
    };
    try {
      await deps.deferrals.defer(work, delaySeconds);
      // Retries of this event (for another target) leave them to the deferral.
      for (const t of deferredNow) {
        await deps.state?.markTargetDone(eventKey, t).catch((err: unknown) => logger.warn('Could not record the deferred target', { ...base, target: t.target, error: errorMessageOf(err) }));
      }
      logger.info(`Deferred ${deferredNow.length} target(s) for ${delaySeconds} s (rate budget)`, { ...base, targets: work.targets, notBefore: work.notBefore });
    } catch (err) {
      // Not queued: fail the event so that it is retried (the deferred targets are not marked done).
      for (const t of deferredNow) auditFailures.push({ target: t.target, error: err });
    }
  }
  const status: ReplicationOutcome['status'] =
    failed.length === 0
      ? deferredNow.length > 0 ? 'deferred' : targets.some((t) => t.status === 'replicated') ? 'replicated' : 'skipped'
      : failed.length === targets.length ? 'failed' : 'partial';
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

/** The targets an earlier attempt of this event finished; none when there is no state or it cannot be read (then all run: safe). */
async function targetsDone(deps: ReplicationDeps, event: EventKey, logger: NonNullable<ReplicationDeps['logger']>, base: object): Promise<Map<string, TargetOutcome>> {
  if (!deps.state) return new Map();
  try {
    return await deps.state.targetsDone(event);
  } catch (err) {
    logger.warn('Could not read which targets an earlier attempt finished; running all', { ...base, error: errorMessageOf(err) });
    return new Map();
  }
}

/** Why the tag was not published: the event is older than what the tag names now. */
function supersededReason(tag: string, s: NonNullable<TargetOutcome['superseded']>): string {
  const now = s.currentDigest ?? 'nothing (deleted)';
  return s.by === 'source'
    ? `superseded: the source tag ${tag} now names ${now}, not the event's ${s.eventDigest}; the tag was not moved back (the newer event publishes it)`
    : `superseded: a newer event already published ${now} under ${tag}; the event's ${s.eventDigest} was not published`;
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
  const logger = deps.logger ?? silentLogger;
  // A protected rule (e.g. to prod mirrors) never carries a quarantined digest, nor its signatures.
  const guard = await protectedVerdict(deps.quarantine, { name: match.rule, ...(match.protected ? { protected: true } : {}) }, [input.event.digest, ...(referrerOf !== undefined ? [referrerOf] : [])]);
  if (guard.kind === 'skip') return { ...common, repository, status: 'skipped', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), reason: guard.reason };
  if (guard.kind === 'unknown') return { ...common, repository, status: 'failed', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), errorCode: 'QUARANTINE_UNKNOWN', error: guard.error };
  const tagKey: TagKey = { target: target.name, repository, tag };
  const incoming: AppliedTag = { eventTime: eventTimeMs(input.event.time), digest: input.event.digest, correlationId: input.correlationId };
  const skippedAs = (superseded: NonNullable<TargetOutcome['superseded']>, extra: Partial<TargetOutcome> = {}): TargetOutcome => ({
    ...common, repository, status: 'skipped', bytes: 0, blobs: NO_BLOBS, ...extra, durationMs: elapsed(), reason: supersededReason(tag, superseded), superseded,
  });
  if (deps.state) {
    // A newer event already applied here: skip before touching the source (it may be unreachable).
    const last = await deps.state.lastApplied(tagKey).catch((err: unknown) => {
      logger.warn('Could not read the replication state of the tag; the source check still guards it', { target: target.name, repository, tag, error: errorMessageOf(err) });
      return undefined;
    });
    if (last !== undefined && last.eventTime > incoming.eventTime && last.digest !== incoming.digest) {
      return skippedAs({ eventDigest: incoming.digest, currentDigest: last.digest, by: 'newer-event' });
    }
  }
  let superseded: TargetOutcome['superseded'];
  // Just before the tag PUT: does the source still name this digest, and is no newer event recorded?
  const confirmTag = async (): Promise<boolean> => {
    let sourceConfirmed = false;
    try {
      const now = await source.oci.manifestHead(input.event.repository, tag);
      if (now?.digest !== input.event.digest) {
        superseded = { eventDigest: input.event.digest, ...(now ? { currentDigest: now.digest } : {}), by: 'source' };
        return false;
      }
      sourceConfirmed = true;
    } catch (err) {
      logger.warn('The source could not be asked before publishing the tag; the replication state decides', { target: target.name, repository, tag, error: errorMessageOf(err) });
    }
    if (deps.state) {
      const newer = await deps.state.recordApplied(tagKey, incoming, { sourceConfirmed });
      if (newer !== undefined && blocksApply(newer, incoming, { sourceConfirmed })) {
        superseded = { eventDigest: input.event.digest, currentDigest: newer.digest, by: 'newer-event' };
        return false;
      }
    }
    return true;
  };
  const copyToTarget = async (): Promise<TargetOutcome> => {
    try {
      if (referrerOf !== undefined && match.referrers && (await target.oci.manifestHead(repository, referrerOf)) === undefined) {
        // The subject's own replication copies this referrer with it (referrers after their subject).
        return { ...common, repository, status: 'skipped', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), reason: `subject ${referrerOf} is not at the target: the referrer travels with it` };
      }
      // What an earlier attempt of this copy verified at the target (a crash, a timeout): skipped without a HEAD.
      const progress = deps.blobProgress ? await openBlobResume(deps.blobProgress, { target: target.name, repository, digest: input.event.digest }, { logger }) : undefined;
      let result: CopyResult;
      try {
        result = await copyImage(
          { registry: source.oci, repository: input.event.repository, reference: input.event.digest },
          { registry: target.oci, repository, tag },
          {
            ...deps.copyOptions,
            referrers: match.referrers,
            ...(match.platforms !== undefined ? { platforms: match.platforms } : {}),
            onEvent: (event) => safeEmit(deps, { type: 'copy', correlationId: input.correlationId, target: target.name, event }),
            confirmTag,
            ...(progress ? { resume: progress.resume } : {}),
          },
        );
      } catch (err) {
        await progress?.close(err);
        throw err;
      }
      await progress?.close();
      if (superseded !== undefined) {
        return skippedAs(superseded, { digest: result.digest, noop: result.noop, bytes: result.bytesUploaded, blobs: { ...result.blobs } });
      }
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
      const wait = deps.deferrals && (input.deferred?.deferrals ?? 0) < MAX_DEFERRALS ? deferralOf(err) : undefined;
      if (wait) {
        // Out of rate budget: waiting is the cure, so the work is re-queued instead of failed (see replicateImage).
        const retryAt = new Date(Date.now() + wait.retryAfterSeconds * 1000).toISOString();
        return {
          ...common, repository, status: 'deferred', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), errorCode: 'RATE_LIMITED', error: errorMessageOf(err),
          reason: `out of rate budget${wait.budgetKey !== undefined ? ` (${wait.budgetKey})` : ''}: deferred ${wait.retryAfterSeconds} s, until ${retryAt}`,
          retryAt, retryAfterSeconds: wait.retryAfterSeconds,
        };
      }
      return { ...common, repository, status: 'failed', bytes: 0, blobs: NO_BLOBS, durationMs: elapsed(), errorCode: errorCodeOf(err), error: errorMessageOf(err) };
    }
  };
  const inFlight: InFlightCopy = {
    correlationId: input.correlationId, rule: match.rule, source: input.sourceRegistry, target: target.name,
    repository: input.event.repository, targetRepository: repository, digest: input.event.digest, tag, startedAt: new Date().toISOString(),
  };
  // A marker the next start-up (or reconcile) finds if this process dies mid-copy: the interruption gets audited.
  const marked = await deps.state?.copyStarted(inFlight).then(
    () => true,
    (err: unknown) => {
      logger.warn('Could not record the start of the copy', { target: target.name, repository, tag, error: errorMessageOf(err) });
      return false;
    },
  );
  safeEmit(deps, { type: 'target-started', correlationId: input.correlationId, target: target.name, repository, tag });
  try {
    return await copyToTarget();
  } finally {
    if (marked) {
      await deps.state?.copyEnded(inFlight).catch((err: unknown) => {
        logger.warn('Could not clear the in-flight marker of the copy', { target: target.name, repository, tag, error: errorMessageOf(err) });
      });
    }
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
  metrics.record(ReplicationMetric.successes, 'Count', outcome.status === 'replicated' ? 1 : 0, dims);
}

function auditRecord(input: ReplicateImageInput, outcome: TargetOutcome, tag: string, deps: ReplicationDeps, pushedBy?: PushedBy): AuditRecordInput {
  const deferred = outcome.status === 'deferred';
  return {
    actor: input.actor,
    action: deferred ? DEFERRED_ACTION : 'replicate',
    outcome: outcome.status === 'replicated' ? 'success' : outcome.status === 'skipped' || deferred ? 'skipped' : 'failure',
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
      ...(pushedBy !== undefined ? { pushedBy: { ...pushedBy } } : {}),
      ...(outcome.noop !== undefined ? { noop: outcome.noop } : {}),
      ...(outcome.digest !== undefined && outcome.digest !== input.event.digest ? { targetDigest: outcome.digest } : {}),
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(outcome.superseded !== undefined ? { superseded: { ...outcome.superseded } } : {}),
      ...(deferred ? { retryAt: outcome.retryAt ?? null, retryAfterSeconds: outcome.retryAfterSeconds ?? null, deferrals: (input.deferred?.deferrals ?? 0) + 1 } : {}),
    },
  };
}
