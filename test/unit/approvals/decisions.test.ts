import { describe, expect, it } from 'vitest';
import { evaluateApprovals } from '../../../functions/approvals/decisions.ts';
import type { ApprovalDecisionRecord, ApprovalPolicy } from '../../../functions/approvals/types.ts';

const d = (identity: string, decision: 'approve' | 'reject' = 'approve', minute = 0): ApprovalDecisionRecord => ({
  requestId: 'r',
  identity,
  decision,
  time: `2029-01-01T00:0${minute}:00.000Z`,
  channel: 'email',
  ...(decision === 'reject' ? { comment: 'no' } : {}),
});

const twoOfThree: ApprovalPolicy = { approvers: ['a', 'b', 'c'], required: 2 };
const withLead: ApprovalPolicy = { approvers: ['a', 'b', 'c', 'lead'], required: 2, requiredFrom: ['lead'] };

describe('evaluateApprovals', () => {
  it.each([
    ['1-of-1, nobody yet', { approvers: ['a'], required: 1 }, [], 'pending', 1],
    ['1-of-1 approved', { approvers: ['a'], required: 1 }, [d('a')], 'approved', 0],
    ['2-of-3 with one', twoOfThree, [d('a')], 'pending', 1],
    ['2-of-3 with two distinct', twoOfThree, [d('a'), d('b', 'approve', 1)], 'approved', 0],
    ['2-of-3: the same approver twice counts once', twoOfThree, [d('a'), d('a', 'approve', 1)], 'pending', 1],
    ['2-of-3: a stranger does not count', twoOfThree, [d('a'), d('zed', 'approve', 1)], 'pending', 1],
    ['one rejection ends it', twoOfThree, [d('a'), d('b', 'reject', 1), d('c', 'approve', 2)], 'rejected', 0],
    ['requiredFrom: two approvals but none from the group', withLead, [d('a'), d('b', 'approve', 1)], 'pending', 1],
    ['requiredFrom: one from the group and one more', withLead, [d('lead'), d('b', 'approve', 1)], 'approved', 0],
    ['requiredFrom: the group alone is not enough for 2', withLead, [d('lead')], 'pending', 1],
  ] as const)('%s', (_name, policy, decisions, state, remaining) => {
    const outcome = evaluateApprovals(policy, decisions);
    expect(outcome.state).toBe(state);
    expect(outcome.state === 'pending' ? outcome.remaining : 0).toBe(remaining);
  });

  it('reports the approvers in decision order, and whether the group is missing', () => {
    const approved = evaluateApprovals(twoOfThree, [d('b', 'approve', 2), d('a', 'approve', 1)]);
    expect(approved.state === 'approved' && approved.approvers.map((x) => x.identity)).toEqual(['a', 'b']);
    const pending = evaluateApprovals(withLead, [d('a')]);
    expect(pending.state === 'pending' && pending.requiredFromMissing).toBe(true);
  });
});
