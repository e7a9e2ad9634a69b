// Is this approval enough? A pure evaluation of an N-of-M policy (with an optional required group) over the decisions so far.
import { identityMatches } from './checks.ts';
import type { ApprovalDecisionRecord, ApprovalPolicy } from './types.ts';

export type ApprovalOutcome =
  | { readonly state: 'approved'; readonly approvers: readonly ApprovalDecisionRecord[] }
  | { readonly state: 'rejected'; readonly by: ApprovalDecisionRecord }
  | {
      readonly state: 'pending';
      readonly approvals: readonly ApprovalDecisionRecord[];
      /** Approvals still needed to reach `required`. */
      readonly remaining: number;
      /** Whether an approval from `requiredFrom` is still missing (false when there is no such list). */
      readonly requiredFromMissing: boolean;
    };

/**
 * One rejection ends the request. Otherwise it is approved once `required` distinct approvers (of `approvers`)
 * have approved and, when `requiredFrom` is set, at least one of them is in it. Decisions by identities not on
 * the list, and repeats by the same approver, do not count (the checks refuse them before they are recorded).
 *
 * @example
 * evaluateApprovals({ approvers: ['a', 'b', 'c'], required: 2, requiredFrom: ['c'] }, decisions).state // 'pending' until c approves
 */
export function evaluateApprovals(policy: ApprovalPolicy, decisions: readonly ApprovalDecisionRecord[]): ApprovalOutcome {
  const ordered = [...decisions].sort((a, b) => a.time.localeCompare(b.time));
  const rejection = ordered.find((d) => d.decision === 'reject');
  if (rejection) return { state: 'rejected', by: rejection };
  const approvals: ApprovalDecisionRecord[] = [];
  const counted = new Set<string>();
  for (const d of ordered) {
    if (d.decision !== 'approve') continue;
    const approver = policy.approvers.find((a) => identityMatches(a, d.identity));
    if (approver === undefined || counted.has(approver)) continue;
    counted.add(approver);
    approvals.push(d);
  }
  const requiredFrom = policy.requiredFrom ?? [];
  const requiredFromMissing = requiredFrom.length > 0 && !approvals.some((d) => requiredFrom.some((r) => identityMatches(r, d.identity)));
  const remaining = Math.max(0, policy.required - approvals.length);
  if (remaining === 0 && !requiredFromMissing) return { state: 'approved', approvers: approvals };
  return { state: 'pending', approvals, remaining: Math.max(remaining, requiredFromMissing ? 1 : 0), requiredFromMissing };
}
