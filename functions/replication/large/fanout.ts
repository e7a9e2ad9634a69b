// The fan-out branch of replicateImage: estimate the copy, and hand a large image to the replicate-large state machine.
import type { RegistryAdapter } from '../../registries/adapter.ts';
import { repositoryPath } from '../../registries/sync.ts';
import { ReplicationFailedError } from '../errors.ts';
import { DEFAULT_FANOUT_POLICY, decideFanout, estimateCopy, fanoutLimitBytes } from './decision.ts';
import { largeImageInput } from './image.ts';
import type { LargeImageTarget } from './types.ts';
import { errorCodeOf, errorMessageOf, silentLogger } from '../observability.ts';
import type { ReplicateImageInput, ReplicationDeps, ReplicationFanout, ReplicationOutcome, TargetOutcome } from '../types.ts';
import type { ReplicationTargetMatch } from '../rules.ts';

/** How replicateImage fans out: the starter, the policy, and the invocation's remaining time. */

/** Who the deferral is attributed to: the same actor as the copy. */
export const FANOUT_ACTION = 'replicate.fanout';

/**
 * Fans the image out when the bytes still missing at its targets exceed this invocation's budget:
 * starts the execution, audits `replicate.fanout` per target, and returns a `deferred` outcome.
 * Returns undefined to copy inline (small image, an unknown target, or an estimate that failed: the
 * inline copy then reports the real error).
 *
 * @throws ReplicationFailedError (retryable) when the execution cannot be started or audited.
 */
export async function fanOutIfLarge(
  input: ReplicateImageInput,
  source: RegistryAdapter,
  tag: string,
  matches: readonly ReplicationTargetMatch[],
  fanout: ReplicationFanout,
  deps: ReplicationDeps,
): Promise<ReplicationOutcome | undefined> {
  const logger = deps.logger ?? silentLogger;
  const { event, correlationId } = input;
  const adapters = matches.map((m) => deps.adapters.get(m.targetRegistry));
  if (adapters.some((a) => a === undefined)) return undefined;
  const targets: LargeImageTarget[] = matches.map((m, i) => ({
    rule: m.rule,
    registry: m.targetRegistry,
    repository: repositoryPath(adapters[i] as RegistryAdapter, m.targetRepository),
    referrers: m.referrers,
    ...(m.platforms !== undefined ? { platforms: m.platforms } : {}),
  }));
  const policy = fanout.policy ?? DEFAULT_FANOUT_POLICY;
  const remainingMs = fanout.remainingTimeMs?.();
  let decision;
  try {
    const estimate = await estimateCopy(
      { registry: source.oci, repository: event.repository, digest: event.digest },
      targets.map((t, i) => ({ registry: (adapters[i] as RegistryAdapter).oci, repository: t.repository })),
      fanoutLimitBytes(policy, remainingMs),
    );
    decision = decideFanout(estimate, policy, remainingMs);
  } catch (err) {
    logger.warn('Copy estimate failed; copying inline', { correlationId, error: errorMessageOf(err) });
    return undefined;
  }
  logger.info(decision.fanout ? 'Large image: fanning out' : 'Copying inline', { correlationId, digest: event.digest, reason: decision.reason });
  if (!decision.fanout) return undefined;

  const executionInput = largeImageInput({
    correlationId,
    actor: input.actor,
    sourceRegistry: input.sourceRegistry,
    repository: event.repository,
    digest: event.digest,
    tag,
    eventTime: event.time,
    targets,
    ...(deps.now ? { now: deps.now() } : {}),
  });
  let execution: { executionName: string; executionArn?: string };
  try {
    execution = await fanout.starter.start(executionInput);
  } catch (err) {
    throw new ReplicationFailedError(
      `Replication of ${event.repository}:${tag} (${event.digest}) could not start the large-image state machine: ${errorMessageOf(err)}; it will be retried`,
      targets.map((t) => ({ target: t.registry, errorCode: errorCodeOf(err), message: errorMessageOf(err) })),
      { cause: err },
    );
  }
  const outcomes: TargetOutcome[] = targets.map((t) => ({
    rule: t.rule,
    target: t.registry,
    repository: t.repository,
    status: 'deferred',
    bytes: 0,
    blobs: { uploaded: 0, mounted: 0, skipped: 0 },
    durationMs: 0,
    reason: `fanned out to execution ${execution.executionName} (${decision.reason})`,
  }));
  for (const t of targets) {
    await deps.audit.append({
      actor: input.actor,
      action: FANOUT_ACTION,
      outcome: 'success',
      correlationId,
      ...(deps.now ? { time: deps.now() } : {}),
      source: input.sourceRegistry,
      target: t.registry,
      repository: event.repository,
      digest: event.digest,
      tags: [tag],
      details: {
        rule: t.rule,
        targetRepository: t.repository,
        executionName: execution.executionName,
        ...(execution.executionArn !== undefined ? { executionArn: execution.executionArn } : {}),
        reason: decision.reason,
      },
    });
  }
  return {
    status: 'deferred',
    reason: `fanned out to execution ${execution.executionName}`,
    correlationId,
    source: input.sourceRegistry,
    repository: event.repository,
    digest: event.digest,
    tag,
    targets: outcomes,
    execution,
  };
}
