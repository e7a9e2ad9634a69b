// Operator views of approvals: what `regman approvals list --json` prints (never the task token).
import type { StoredApprovalRequest } from './types.ts';

export interface PendingApprovalJson {
  readonly requestId: string;
  readonly executionId: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly edge: { readonly from: string; readonly to: string };
  readonly requester: string;
  readonly required: number;
  readonly approvers: readonly string[];
  readonly requiredFrom?: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: string;
}

export function toPendingJson(r: StoredApprovalRequest): PendingApprovalJson {
  return {
    requestId: r.requestId,
    executionId: r.executionId,
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    edge: r.edge,
    requester: r.requester,
    required: r.policy.required,
    approvers: r.policy.approvers,
    ...(r.policy.requiredFrom ? { requiredFrom: r.policy.requiredFrom } : {}),
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    state: r.state,
  };
}

/** One line per request, for people. */
export function formatPendingTable(rows: readonly PendingApprovalJson[]): string {
  if (rows.length === 0) return 'no pending approvals';
  return rows
    .map((r) => `${r.requestId}  ${r.repository}:${r.tag}  ${r.edge.from} → ${r.edge.to}  by ${r.requester}  needs ${r.required} of ${r.approvers.length}  expires ${r.expiresAt}`)
    .join('\n');
}
