// A minimal ApprovalRequester: stores the task token server-side; `regman approve|reject ID` decides N-of-M and completes the task.
//
// The approvals issue replaces this with links, the approval page, Slack and email; the seam
// (requester.ts) stays the same.
import type { PromotionEdge } from '../config/types.ts';
import { APPROVAL_REJECTED, type ApprovalRequest, type ApprovalRequester, type TaskCompleter } from './requester.ts';

/** A pending approval as the minimal requester keeps it: the token never leaves the server. */
export interface PendingApproval {
  readonly executionId: string;
  readonly taskToken: string;
  readonly requester: string;
  readonly approvers: readonly string[];
  readonly required: number;
  readonly expiresAt: string;
  readonly decisions: readonly { readonly identity: string; readonly time: string; readonly channel: string; readonly approved: boolean; readonly comment?: string }[];
}

/** Where pending approvals live (the promotions table's `approval#<id>` items). */
export interface PendingApprovalStore {
  getApproval(executionId: string): Promise<PendingApproval | undefined>;
  putApproval(approval: PendingApproval): Promise<void>;
  deleteApproval(executionId: string): Promise<void>;
}

/** A refused decision (not an approver, own promotion, nothing pending). */
export class ApprovalDecisionError extends Error {
  readonly code: 'NOT_PENDING' | 'NOT_APPROVER' | 'SELF_APPROVAL' | 'ALREADY_DECIDED' | 'EXPIRED';
  readonly retryable = false;
  constructor(code: ApprovalDecisionError['code'], message: string) {
    super(message);
    this.name = 'ApprovalDecisionError';
    this.code = code;
  }
}

export class MinimalApprovalRequester implements ApprovalRequester {
  constructor(
    private readonly o: { readonly store: Pick<PendingApprovalStore, 'putApproval'>; readonly edges: readonly Pick<PromotionEdge, 'from' | 'to' | 'gates'>[] },
  ) {}

  async request(input: ApprovalRequest): Promise<{ requestId: string }> {
    const edge = this.o.edges.find((e) => e.from === input.edge.from && e.to === input.edge.to);
    const approval = edge?.gates.approval;
    await this.o.store.putApproval({
      executionId: input.executionId,
      taskToken: input.taskToken,
      requester: input.requester,
      approvers: approval?.approvers ?? [],
      required: approval?.required ?? 1,
      expiresAt: input.expiresAt,
      decisions: [],
    });
    return { requestId: input.executionId };
  }
}

export interface DecideOptions {
  readonly executionId: string;
  readonly identity: string;
  readonly approve: boolean;
  readonly comment?: string;
  readonly channel?: string;
  readonly now?: Date;
}

/**
 * Records one decision. A rejection fails the task at once (`ApprovalRejected`); approvals complete it
 * when `required` distinct approvers have approved. The requester cannot approve their own promotion.
 * Returns what happened and how many approvals there are.
 */
export async function decideApproval(
  store: PendingApprovalStore,
  completer: TaskCompleter,
  o: DecideOptions,
): Promise<{ outcome: 'approved' | 'rejected' | 'recorded'; approvals: number; required: number }> {
  const pending: PendingApproval | undefined = await store.getApproval(o.executionId);
  if (!pending) throw new ApprovalDecisionError('NOT_PENDING', `promotion ${o.executionId} is not waiting for an approval (see: regman promotions show ${o.executionId})`);
  const now = o.now ?? new Date();
  if (Date.parse(pending.expiresAt) <= now.getTime()) throw new ApprovalDecisionError('EXPIRED', `the approval of ${o.executionId} expired at ${pending.expiresAt}`);
  if (pending.approvers.length > 0 && !pending.approvers.includes(o.identity)) {
    throw new ApprovalDecisionError('NOT_APPROVER', `${o.identity} is not an approver of ${o.executionId} (approvers: ${pending.approvers.join(', ')})`);
  }
  if (o.approve && o.identity === pending.requester) throw new ApprovalDecisionError('SELF_APPROVAL', `${o.identity} asked for ${o.executionId} and cannot approve it`);
  if (pending.decisions.some((d) => d.identity === o.identity)) throw new ApprovalDecisionError('ALREADY_DECIDED', `${o.identity} already decided on ${o.executionId}`);
  const decision = { identity: o.identity, time: now.toISOString(), channel: o.channel ?? 'cli', approved: o.approve, ...(o.comment ? { comment: o.comment } : {}) };
  const decisions = [...pending.decisions, decision];
  const approvals = decisions.filter((d) => d.approved);
  if (!o.approve) {
    await store.deleteApproval(o.executionId);
    await completer.fail(pending.taskToken, APPROVAL_REJECTED, `rejected by ${o.identity}${o.comment ? `: ${o.comment}` : ''}`);
    return { outcome: 'rejected', approvals: approvals.length, required: pending.required };
  }
  if (approvals.length >= pending.required) {
    await store.deleteApproval(o.executionId);
    await completer.succeed(pending.taskToken, {
      approved: true,
      approvers: approvals.map((d) => ({ identity: d.identity, time: d.time, channel: d.channel, ...(d.comment ? { comment: d.comment } : {}) })),
    });
    return { outcome: 'approved', approvals: approvals.length, required: pending.required };
  }
  await store.putApproval({ ...pending, decisions });
  return { outcome: 'recorded', approvals: approvals.length, required: pending.required };
}
