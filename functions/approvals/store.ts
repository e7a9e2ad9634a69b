// The approvals store interface: conditional writes only (dynalite has no transactions), so every step is a single-item race that one caller wins.
import type { ApprovalDecisionRecord, ApprovalLink, ApprovalSnapshot, ApprovalState, DeliveryRecord, StoredApprovalRequest } from './types.ts';

export interface ApprovalStore {
  /** Writes the request if no request has this id; false when one exists. */
  putRequestIfAbsent(request: StoredApprovalRequest): Promise<boolean>;
  /** Replaces the task token of a pending request (a retried RequestApproval state gets a new one). */
  updateTaskToken(requestId: string, taskToken: string): Promise<boolean>;
  putLink(link: ApprovalLink): Promise<void>;
  getLink(linkId: string): Promise<ApprovalLink | undefined>;
  /** Marks the link used at `usedAt` unless it was used already; false when it was (replay). */
  consumeLink(linkId: string, usedAt: string): Promise<boolean>;
  /** The request with its decisions and deliveries. */
  getSnapshot(requestId: string): Promise<ApprovalSnapshot | undefined>;
  /** Records a decision unless this identity has one for the request; false when it has. */
  putDecisionIfAbsent(decision: ApprovalDecisionRecord): Promise<boolean>;
  /** Moves a request from PENDING to `state`; false when it was no longer pending (someone else ended it). */
  endRequest(requestId: string, state: Exclude<ApprovalState, 'PENDING'>, endedAt: string, reason?: string): Promise<boolean>;
  /** Notes that completing the workflow task failed after the decision. */
  setCompletionError(requestId: string, message: string): Promise<void>;
  putDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Requests in `state`, newest first. */
  listByState(state: ApprovalState, limit?: number): Promise<StoredApprovalRequest[]>;
}
