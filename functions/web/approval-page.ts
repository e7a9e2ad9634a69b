// The approval page: what is promoted, what the gates found, what changes in the target, who approved; Approve/Reject forms (POST + CSRF).
import type { ApprovalPageView, GateView } from '../approvals/view-model.ts';
import { html, type Html } from '../html.ts';
import { page } from './layout.ts';

/** Digests in the tag table are shortened (the full ones are shown above); the title keeps the whole value. */
function shortDigest(digest: string): Html {
  return html`<code title="${digest}">${digest.length > 19 ? `${digest.slice(0, 19)}…` : digest}</code>`;
}

function gateRow(g: GateView): Html {
  return html`<tr><th>${g.gate}</th><td><span class="${g.passed ? 'ok' : 'bad'}">${g.passed ? 'passed' : 'failed'}</span> ${g.summary}
${g.counts ? html`<div data-testid="scan-counts">${Object.entries(g.counts).map(([sev, n]) => html`<span class="pill sev-${sev}">${sev}: ${n}</span>`)}</div>` : ''}
${g.allowlisted && g.allowlisted.length > 0 ? html`<div class="muted">allowlisted: ${g.allowlisted.map((id) => html`<code>${id}</code> `)}</div>` : ''}
${g.url ? html`<div><a href="${g.url}" rel="noreferrer noopener">report</a></div>` : ''}</td></tr>`;
}

/** Renders the approval page. Every value is escaped; the page works without JavaScript. */
export function renderApprovalPage(v: ApprovalPageView): string {
  const needed = html`${v.required} of ${v.approverCount}${v.requiredFrom.length > 0 ? html`, including one of ${v.requiredFrom.join(', ')}` : ''}`;
  const body = html`<h1>Promote <code>${v.repository}:${v.tag}</code> ${v.edge.from} → ${v.edge.to}</h1>
${v.failedDeliveries.length > 0 ? html`<section class="notice"><h2>Undelivered messages</h2><ul>${v.failedDeliveries.map((d) => html`<li>${d.channel} to ${d.to}: ${d.error ?? 'failed'} (${d.attempts} attempts)</li>`)}</ul></section>` : ''}
<section><h2>Image</h2><dl>
<dt>Repository</dt><dd>${v.repository}</dd>
<dt>Tag</dt><dd>${v.tag}</dd>
<dt>Digest</dt><dd><code data-testid="digest">${v.digest}</code></dd>
<dt>Requested by</dt><dd>${v.requester} at ${v.requestedAt}</dd>
${v.pusher ? html`<dt>Pushed by</dt><dd>${v.pusher}</dd>` : ''}
<dt>Edge</dt><dd>${v.edge.from} → ${v.edge.to}</dd>
</dl></section>
<section><h2>Gates</h2>${v.gates.length > 0 ? html`<table>${v.gates.map(gateRow)}</table>` : html`<p class="muted">No gates ran on this edge.</p>`}</section>
<section><h2>What changes in ${v.edge.to}</h2><dl>
<dt>Runs now</dt><dd>${v.currentDigest ? html`<code data-testid="current-digest">${v.currentDigest}</code>` : html`<span class="muted" data-testid="current-digest">nothing yet</span>`}</dd>
<dt>After</dt><dd><code>${v.digest}</code></dd>
</dl>${v.tagMoves.length > 0 ? html`<table><tr><th>tag</th><th>from</th><th>to</th></tr>${v.tagMoves.map((t) => html`<tr><td>${t.tag}</td><td>${t.from ? shortDigest(t.from) : html`<span class="muted">new</span>`}</td><td>${shortDigest(t.to)}</td></tr>`)}</table>` : ''}</section>
<section><h2>Approvals: ${v.approvals.length} so far, ${needed} needed</h2>
${v.approvals.length > 0 ? html`<ul>${v.approvals.map((a) => html`<li>${a.identity} at ${a.time} via ${a.channel}${a.comment ? html`: “${a.comment}”` : ''}</li>`)}</ul>` : html`<p class="muted">None yet.</p>`}
<p>Expires at ${v.expiresAt}.</p></section>
<section><h2>Your decision (${v.you})</h2>
${v.youMayApprove ? '' : html`<p class="bad">You requested this promotion or pushed this image, so you cannot approve it (separation of duties). You may reject it.</p>`}
<form method="post" action="${v.form.action}">
<input type="hidden" name="csrf" value="${v.form.csrfToken}">
<label for="comment">Comment (a rejection needs a reason)</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<div class="actions">
${v.youMayApprove ? html`<button class="approve" type="submit" name="action" value="approve">Approve</button>` : ''}
<button class="reject" type="submit" name="action" value="reject">Reject</button>
</div></form>
<p class="muted">This link is yours alone and works once. Opening it decides nothing.</p></section>`;
  return page({ title: `Approve ${v.repository}:${v.tag}` }, body);
}

/** What the page says after a decision was taken. */
export function renderDecisionDone(v: { readonly action: 'approve' | 'reject'; readonly state: string; readonly remaining: number; readonly repository: string; readonly tag: string }): string {
  const what = v.action === 'approve' ? 'Your approval is recorded.' : 'Your rejection is recorded.';
  const next =
    v.state === 'APPROVED'
      ? 'That was the last approval needed: the promotion goes on.'
      : v.state === 'REJECTED'
        ? 'The promotion is stopped.'
        : `${v.remaining} more approval${v.remaining === 1 ? '' : 's'} needed.`;
  return page({ title: 'Decision recorded' }, html`<h1>${what}</h1><section><p>${v.repository}:${v.tag}</p><p data-testid="state">${next}</p></section>`);
}
