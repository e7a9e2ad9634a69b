// An in-memory ApprovalStore with the same conditional semantics as the DynamoDB one (unit tests, stand-alone tools).
import type { ApprovalStore } from './store.ts';
import type { ApprovalDecisionRecord, ApprovalLink, ApprovalSnapshot, ApprovalState, DeliveryRecord, StoredApprovalRequest } from './types.ts';

export class InMemoryApprovalStore implements ApprovalStore {
  private readonly requests = new Map<string, StoredApprovalRequest>();
  private readonly links = new Map<string, ApprovalLink>();
  private readonly decisions = new Map<string, ApprovalDecisionRecord[]>();
  private readonly deliveries = new Map<string, Map<string, DeliveryRecord>>();

  async putRequestIfAbsent(request: StoredApprovalRequest): Promise<boolean> {
    if (this.requests.has(request.requestId)) return false;
    this.requests.set(request.requestId, structuredClone(request));
    return true;
  }

  async updateTaskToken(requestId: string, taskToken: string): Promise<boolean> {
    const r = this.requests.get(requestId);
    if (!r || r.state !== 'PENDING') return false;
    this.requests.set(requestId, { ...r, taskToken });
    return true;
  }

  async putLink(link: ApprovalLink): Promise<void> {
    this.links.set(link.linkId, { ...link });
  }

  async getLink(linkId: string): Promise<ApprovalLink | undefined> {
    const link = this.links.get(linkId);
    return link && { ...link };
  }

  async consumeLink(linkId: string, usedAt: string): Promise<boolean> {
    const link = this.links.get(linkId);
    if (!link || link.usedAt !== undefined) return false;
    this.links.set(linkId, { ...link, usedAt });
    return true;
  }

  async getSnapshot(requestId: string): Promise<ApprovalSnapshot | undefined> {
    const request = this.requests.get(requestId);
    if (!request) return undefined;
    return {
      request: structuredClone(request),
      decisions: [...(this.decisions.get(requestId) ?? [])],
      deliveries: [...(this.deliveries.get(requestId)?.values() ?? [])],
    };
  }

  async putDecisionIfAbsent(decision: ApprovalDecisionRecord): Promise<boolean> {
    const list = this.decisions.get(decision.requestId) ?? [];
    if (list.some((d) => d.identity === decision.identity)) return false;
    this.decisions.set(decision.requestId, [...list, { ...decision }]);
    return true;
  }

  async endRequest(requestId: string, state: Exclude<ApprovalState, 'PENDING'>, endedAt: string, reason?: string): Promise<boolean> {
    const r = this.requests.get(requestId);
    if (!r || r.state !== 'PENDING') return false;
    this.requests.set(requestId, { ...r, state, endedAt, ...(reason !== undefined ? { endReason: reason } : {}) });
    return true;
  }

  async setCompletionError(requestId: string, message: string): Promise<void> {
    const r = this.requests.get(requestId);
    if (r) this.requests.set(requestId, { ...r, completionError: message });
  }

  async putDelivery(delivery: DeliveryRecord): Promise<void> {
    const map = this.deliveries.get(delivery.requestId) ?? new Map<string, DeliveryRecord>();
    map.set(`${delivery.channel}#${delivery.to}`, { ...delivery });
    this.deliveries.set(delivery.requestId, map);
  }

  async listByState(state: ApprovalState, limit = 50): Promise<StoredApprovalRequest[]> {
    return [...this.requests.values()]
      .filter((r) => r.state === state)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }
}
