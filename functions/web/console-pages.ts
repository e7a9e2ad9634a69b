// Read-only console pages: pending approvals and recent promotions.
import type { StoredApprovalRequest } from '../approvals/types.ts';
import { html } from '../html.ts';
import { page, type NavLink } from './layout.ts';

/** One row of the recent-promotions list (from the approvals store until the promotions table feeds it). */
export interface PromotionRow {
  readonly executionId: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly edge: { readonly from: string; readonly to: string };
  readonly requester: string;
  readonly state: string;
  readonly time: string;
}

const short = (digest: string): string => digest.replace(/^(sha256:.{12}).*$/, '$1…');

export function renderPendingApprovals(requests: readonly StoredApprovalRequest[], nav: readonly NavLink[]): string {
  const body = html`<h1>Pending approvals</h1><section>${
    requests.length === 0
      ? html`<p class="muted" data-testid="empty">Nothing is waiting for approval.</p>`
      : html`<table><tr><th>request</th><th>image</th><th>edge</th><th>requested by</th><th>needs</th><th>expires</th></tr>${requests.map(
          (r) =>
            html`<tr><td><code>${r.requestId}</code></td><td>${r.repository}:${r.tag}<br><code>${short(r.digest)}</code></td><td>${r.edge.from} → ${r.edge.to}</td><td>${r.requester}</td><td>${r.policy.required} of ${r.policy.approvers.length}</td><td>${r.expiresAt}</td></tr>`,
        )}</table>`
  }<p class="muted">Approvers decide through the link each of them received; operators use <code>regman approve ID</code>.</p></section>`;
  return page({ title: 'Pending approvals', nav }, body);
}

export function renderRecentPromotions(rows: readonly PromotionRow[], nav: readonly NavLink[]): string {
  const body = html`<h1>Recent promotions</h1><section>${
    rows.length === 0
      ? html`<p class="muted" data-testid="empty">No promotions yet.</p>`
      : html`<table><tr><th>when</th><th>image</th><th>edge</th><th>by</th><th>state</th></tr>${rows.map(
          (r) =>
            html`<tr><td>${r.time}</td><td>${r.repository}:${r.tag}<br><code>${short(r.digest)}</code></td><td>${r.edge.from} → ${r.edge.to}</td><td>${r.requester}</td><td><span class="${r.state === 'APPROVED' || r.state === 'SUCCEEDED' ? 'ok' : r.state === 'PENDING' ? '' : 'bad'}">${r.state}</span></td></tr>`,
        )}</table>`
  }</section>`;
  return page({ title: 'Recent promotions', nav }, body);
}

export function rowsFromApprovals(requests: readonly StoredApprovalRequest[]): PromotionRow[] {
  return requests.map((r) => ({
    executionId: r.executionId,
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    edge: r.edge,
    requester: r.requester,
    state: r.state,
    time: r.endedAt ?? r.createdAt,
  }));
}
