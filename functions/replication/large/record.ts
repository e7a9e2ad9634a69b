// The Record / RecordFailure steps of a large image: one `replicate` audit record per target, its outcome read from the target.
import type { AuditLog, AuditRecordInput } from '../../audit/index.ts';
import { failureDetails } from './errors.ts';
import { adapterOf, type LargeImageStepDeps } from './plan.ts';
import type { LargeImageState, LargeImageSummary, LargeImageTargetOutcome } from './types.ts';
import { errorCodeOf, errorMessageOf } from '../observability.ts';

export interface RecordStepDeps extends LargeImageStepDeps {
  readonly audit: AuditLog;
  /** Clock of the audit records. @default the audit log's */
  readonly now?: () => Date;
}

/** Per-target blob counts and bytes from the Map's results (empty when the Map did not finish). */
function blobStats(state: LargeImageState): { uploaded: number; mounted: number; skipped: number; bytes: number }[] {
  const stats = state.targets.map(() => ({ uploaded: 0, mounted: 0, skipped: 0, bytes: 0 }));
  const blobs = state.plan?.blobs ?? [];
  for (const [i, result] of (state.copied ?? []).entries()) {
    const blob = blobs[i];
    if (!blob || blob.digest !== result.digest) continue;
    result.outcomes.forEach((outcome, k) => {
      const s = stats[blob.targets[k] as number];
      if (!s) return;
      s[outcome]++;
      if (outcome === 'uploaded') s.bytes += blob.size;
    });
  }
  return stats;
}

/**
 * Writes one `replicate` audit record per target and returns the execution's summary. A target is
 * `replicated` when its tag points at the planned digest; otherwise `failed`, with the step error
 * (`state.error`, from a Catch) or TAG_MISSING. The target is asked rather than the state trusted, so
 * a failure after some targets were tagged is recorded truthfully; without a plan (Plan failed) the
 * pushed digest is expected.
 *
 * @throws the audit log's error (Step Functions retries the step).
 * @example
 * const summary = await recordLargeImage(state, { adapters, audit });
 */
export async function recordLargeImage(state: LargeImageState, deps: RecordStepDeps, durationMs?: number): Promise<LargeImageSummary> {
  const duration = durationMs ?? (state.startedAt !== undefined ? Math.max(0, (deps.now?.() ?? new Date()).getTime() - Date.parse(state.startedAt)) : undefined);
  const failure = state.error ? failureDetails(state.error) : undefined;
  const stats = blobStats(state);
  const outcomes: LargeImageTargetOutcome[] = await Promise.all(
    state.targets.map(async (target, i): Promise<LargeImageTargetOutcome> => {
      // `plan` is the Plan step's deferral when Plan waited and then failed: no plan, the pushed digest is expected.
      const expected = state.plan?.targets?.[i]?.root ?? state.digest;
      const s = stats[i] ?? { uploaded: 0, mounted: 0, skipped: 0, bytes: 0 };
      const base = { target: target.registry, repository: target.repository, bytes: s.bytes, blobs: { uploaded: s.uploaded, mounted: s.mounted, skipped: s.skipped } };
      let tagged: string | undefined;
      let probeError: unknown;
      try {
        tagged = (await adapterOf(deps, target.registry).oci.manifestHead(target.repository, state.tag))?.digest;
      } catch (err) {
        probeError = err;
      }
      const superseded = state.published?.[i]?.superseded;
      if (superseded !== undefined) {
        const reason = `superseded: the source tag ${state.tag} now names ${superseded.currentDigest ?? 'nothing (deleted)'}, not the event's ${superseded.eventDigest}; the tag was not moved back`;
        return { ...base, status: 'skipped', reason, superseded };
      }
      if (tagged === expected) return { ...base, status: 'replicated', digest: expected };
      if (failure) return { ...base, status: 'failed', errorCode: failure.code, error: failure.message };
      if (probeError !== undefined) return { ...base, status: 'failed', errorCode: errorCodeOf(probeError), error: `the tag could not be checked: ${errorMessageOf(probeError)}` };
      return { ...base, status: 'failed', errorCode: 'TAG_MISSING', error: `${target.registry}/${target.repository}:${state.tag} is ${tagged ?? 'absent'}, expected ${expected}` };
    }),
  );
  for (const [i, outcome] of outcomes.entries()) await deps.audit.append(auditRecord(state, outcome, i, deps, duration));
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  return {
    status: failed === 0 ? 'replicated' : failed === outcomes.length ? 'failed' : 'partial',
    executionName: state.executionName,
    digest: state.digest,
    tag: state.tag,
    targets: outcomes,
  };
}

function auditRecord(state: LargeImageState, outcome: LargeImageTargetOutcome, index: number, deps: RecordStepDeps, durationMs?: number): AuditRecordInput {
  const target = state.targets[index];
  return {
    actor: state.actor,
    action: 'replicate',
    outcome: outcome.status === 'replicated' ? 'success' : outcome.status === 'skipped' ? 'skipped' : 'failure',
    correlationId: state.correlationId,
    ...(deps.now ? { time: deps.now() } : {}),
    source: state.sourceRegistry,
    target: outcome.target,
    repository: state.repository,
    digest: state.digest,
    tags: [state.tag],
    bytes: outcome.bytes,
    blobs: outcome.blobs,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(outcome.errorCode !== undefined ? { errorCode: outcome.errorCode } : {}),
    ...(outcome.error !== undefined ? { errorMessage: outcome.error } : {}),
    details: {
      rule: target?.rule ?? '',
      targetRepository: outcome.repository,
      fanout: true,
      executionName: state.executionName,
      ...(state.eventTime !== undefined ? { eventTime: state.eventTime } : {}),
      ...(outcome.digest !== undefined && outcome.digest !== state.digest ? { targetDigest: outcome.digest } : {}),
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(outcome.superseded !== undefined ? { superseded: { ...outcome.superseded } } : {}),
    },
  };
}
