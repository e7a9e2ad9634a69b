// Record: the promotion's final status in the promotions table, the environment's history on success, and the promote.record audit record.
import { PromotionError, parseStepCause } from './errors.ts';
import { auditStep, isSyncFailure, nowOf, updateRecord, type PromotionDeps, type PromotionState, type SyncItemResult } from './deps.ts';
import type { PromotionRecord, PromotionStatus } from './types.ts';

/** Writes the final record. On SUCCEEDED, appends the digest to the target environment's history. */
export async function recordPromotion(requested: PromotionStatus, state: PromotionState, deps: PromotionDeps): Promise<PromotionRecord> {
  const { input } = state;
  // An edge with `autoRollback: false` left its tags in place: the run FAILED, it was not rolled back.
  const kept = requested === 'ROLLED_BACK' && state.rollback?.skipped !== undefined;
  const status: PromotionStatus = kept ? 'FAILED' : requested;
  const failedSync = (state.sync ?? []).filter(isSyncFailure);
  if (status === 'SUCCEEDED' && failedSync.length > 0) {
    // Thrown before anything is written: the Catch leads to Rollback, whose record carries this message.
    throw new PromotionError('SYNC_FAILED', failedSync.map((f) => parseStepCause(f.error.Cause).message).join('; '));
  }
  const synced = (state.sync ?? []).filter((s): s is SyncItemResult => !isSyncFailure(s));
  const failedGate = Object.values(state.gates ?? {}).find((g) => g && !g.passed);
  const error = state.error?.Cause !== undefined || state.error?.Error !== undefined
    ? (() => {
        const parsed = parseStepCause(state.error?.Cause);
        return { code: parsed.code === 'UNKNOWN' ? (state.error?.Error ?? 'UNKNOWN') : parsed.code, message: parsed.message };
      })()
    : failedGate
      ? { code: 'GATE_FAILED', message: failedGate.reason ?? failedGate.summary }
      : undefined;
  const approvers = state.approval?.approvers ?? [];
  const written = [...new Set([...(state.tagging?.written ?? []), ...synced.flatMap((s) => s.tags.map((t) => `${s.registry}/${s.repository}:${t}`))])];
  const record = await updateRecord(
    deps,
    input,
    (r) => ({
      status,
      approvers,
      tagsWritten: status === 'SUCCEEDED' || kept ? written : status === 'ROLLED_BACK' ? [] : r.tagsWritten,
      ...(error && status !== 'SUCCEEDED' ? { error } : {}),
    }),
    { step: 'record', outcome: status === 'SUCCEEDED' ? 'success' : 'failure', message: status },
  );
  if (!kept && (status === 'TIMED_OUT' || status === 'FAILED') && state.run?.gates.approval && deps.approvals?.close) {
    // The request id is the execution id (functions/approvals/service.ts). Best effort: the links expire on their own.
    await deps.approvals.close(input.executionId, status === 'TIMED_OUT' ? 'EXPIRED' : 'ABORTED', `the promotion ended ${status}`).catch(() => false);
  }
  if (status === 'SUCCEEDED' && state.run) {
    await deps.store.addHistory({
      environment: input.to,
      repository: input.repository,
      digest: state.run.digest,
      tag: input.tag,
      envTag: state.run.envTag,
      time: nowOf(deps).toISOString(),
      executionId: input.executionId,
      requester: input.requester,
      approvers: approvers.map((a) => a.identity),
      gates: Object.values(state.gates ?? {}).filter((g) => g !== undefined).map((g) => ({ gate: g.gate, passed: g.passed, summary: g.summary })),
      kind: input.trigger === 'rollback' ? 'rollback' : 'promote',
    });
  }
  await auditStep(deps, input, 'record', status === 'SUCCEEDED' ? 'success' : status === 'REJECTED' || status === 'TIMED_OUT' ? 'rejected' : 'failure', {
    ...(record.digest ? { digest: record.digest } : {}),
    tags: written,
    ...(error && status !== 'SUCCEEDED' ? { errorCode: error.code, errorMessage: error.message } : {}),
    details: {
      status,
      approvers: approvers.map((a) => a.identity),
      gates: record.gates.map((g) => `${g.gate}: ${g.passed ? 'passed' : 'failed'} (${g.summary})`),
      ...(state.rollback ? { restored: state.rollback.restored, removed: state.rollback.removed, ...(kept ? { rollbackSkipped: state.rollback.skipped ?? '' } : {}) } : {}),
    },
  });
  return record;
}
