// Data types of approvals as stored: the request (with its server-side task token), the links, the decisions, the deliveries.
import type { ApprovalRequest } from './requester.ts';

/** Who must approve, from the edge's approval gate (functions/config/schema.ts `approvalGateSchema`). */
export interface ApprovalPolicy {
  /** E-mail addresses or user ids (Slack user ids for Slack buttons). */
  readonly approvers: readonly string[];
  /** Distinct approvers needed. */
  readonly required: number;
  /** When set, at least one approval must come from this list. */
  readonly requiredFrom?: readonly string[];
}

/** Where the request stands. `EXPIRED` is also derived on read once `expiresAt` has passed. */
export type ApprovalState = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'ABORTED';

export type DecisionChannel = 'email' | 'slack' | 'cli' | 'web';

/** The stored request: the workflow's input plus the policy and where it stands. */
export interface StoredApprovalRequest extends ApprovalRequest {
  readonly requestId: string;
  readonly policy: ApprovalPolicy;
  readonly createdAt: string;
  readonly state: ApprovalState;
  readonly endedAt?: string;
  /** Why the request ended, e.g. the rejection reason. */
  readonly endReason?: string;
  /** Set when SendTaskSuccess/Failure failed after the decision was made (operators must look). */
  readonly completionError?: string;
}

/** One approver's link. The signature is not stored: it is recomputed from these fields and the key. */
export interface ApprovalLink {
  readonly linkId: string;
  readonly requestId: string;
  readonly executionId: string;
  readonly approver: string;
  /** How the link was sent (email or slack): the channel recorded when it is used from the page. */
  readonly channel: 'email' | 'slack';
  readonly expiresAt: string;
  readonly usedAt?: string;
}

/** One decision, as recorded. */
export interface ApprovalDecisionRecord {
  readonly requestId: string;
  readonly identity: string;
  readonly decision: 'approve' | 'reject';
  readonly time: string;
  readonly channel: DecisionChannel;
  readonly comment?: string;
  /** The caller's own identity when it differs from the approver it matched (an IAM principal ARN). */
  readonly principal?: string;
}

/** One message to one approver, and how its delivery went. */
export interface DeliveryRecord {
  readonly requestId: string;
  readonly channel: 'email' | 'slack';
  readonly to: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly time: string;
  readonly error?: string;
}

/** Everything stored about one request, read in one query. */
export interface ApprovalSnapshot {
  readonly request: StoredApprovalRequest;
  readonly decisions: readonly ApprovalDecisionRecord[];
  readonly deliveries: readonly DeliveryRecord[];
}
