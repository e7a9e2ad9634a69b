// The approval policy of an edge, from the config's `promotion[].gates.approval`.
import type { RegmanConfig } from '../config/types.ts';
import { ApprovalError } from './errors.ts';
import type { ApprovalPolicy } from './types.ts';

/** The edge's approval gate as a policy; throws when the edge is unknown or has no approval gate. */
export function approvalPolicyFor(config: Pick<RegmanConfig, 'promotion'>, edge: { readonly from: string; readonly to: string }): ApprovalPolicy {
  const found = config.promotion.find((e) => e.from === edge.from && e.to === edge.to);
  const gate = found?.gates.approval;
  if (!gate) {
    throw new ApprovalError('APPROVAL_BAD_INPUT', 400, `Promotion edge ${edge.from} → ${edge.to} has no approval gate in the config: add promotion[].gates.approval, or drop RequestApproval from this edge.`);
  }
  return { approvers: gate.approvers, required: gate.required, ...(gate.requiredFrom ? { requiredFrom: gate.requiredFrom } : {}) };
}
