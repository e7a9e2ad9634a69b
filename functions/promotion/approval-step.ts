// RequestApproval: hands the validated promotion and the task token to the approvals requester, and marks the run WAITING_FOR_APPROVAL.
import type { ApprovalRequest } from '../approvals/requester.ts';
import { PromotionError } from './errors.ts';
import { auditStep, nowOf, updateRecord, validated, type PromotionDeps, type PromotionState } from './deps.ts';
import { findEdge } from './policy.ts';

/** The `.waitForTaskToken` task's work: the state machine then waits for SendTaskSuccess / SendTaskFailure. */
export async function requestApproval(payload: { taskToken: string; state: PromotionState }, deps: PromotionDeps): Promise<{ requestId: string }> {
  const { state, taskToken } = payload;
  const { input } = state;
  const run = validated(state);
  if (!deps.approvals) throw new PromotionError('APPROVAL_REFUSED', 'no approvals requester is configured in this build');
  findEdge(deps.config, input.from, input.to);
  // Separation of duties covers who pushed the image, as the replication audit records name them.
  const pusher = deps.pusherOf ? await deps.pusherOf(input.repository, run.digest) : undefined;
  const request: ApprovalRequest = {
    executionId: input.executionId,
    taskToken,
    edge: { from: input.from, to: input.to },
    repository: input.repository,
    tag: input.tag,
    digest: run.digest,
    requester: input.onBehalfOf ?? input.requester,
    ...(input.onBehalfOf !== undefined && input.onBehalfOf !== input.requester ? { requestedVia: input.requester } : {}),
    ...(pusher !== undefined ? { pusher } : {}),
    gates: Object.values(state.gates ?? {}).filter((g) => g !== undefined),
    target: { tags: [input.tag, run.envTag].map((tag) => ({ tag, to: run.digest })) },
    expiresAt: new Date(nowOf(deps).getTime() + run.approvalTimeoutSeconds * 1000).toISOString(),
    correlationId: input.correlationId,
  };
  const { requestId } = await deps.approvals.request(request);
  await updateRecord(deps, input, () => ({ status: 'WAITING_FOR_APPROVAL' }), { step: 'request-approval', outcome: 'success', message: `waiting until ${request.expiresAt}` });
  await auditStep(deps, input, 'request-approval', 'success', { digest: run.digest, details: { requestId, expiresAt: request.expiresAt } });
  return { requestId };
}
