// The message an approver receives: subject, text and HTML parts with the summary and that approver's link.
import { html } from '../../html.ts';
import type { ApprovalLink, StoredApprovalRequest } from '../types.ts';
import type { ApprovalMessage } from './types.ts';

function shortDigest(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

/** One message for one approver; the link is theirs alone. */
export function composeMessage(request: StoredApprovalRequest, link: ApprovalLink, url: string): ApprovalMessage {
  const subject = `Approval needed: ${request.repository}:${request.tag} ${request.edge.from} → ${request.edge.to}`;
  const gates = request.gates.map((g) => `${g.gate}: ${g.passed ? 'passed' : 'FAILED'} (${g.summary})`);
  const needed = `${request.policy.required} of ${request.policy.approvers.length} approvers${request.policy.requiredFrom?.length ? `, one of ${request.policy.requiredFrom.join(', ')}` : ''}`;
  const text = [
    `${request.requester} asks to promote ${request.repository}:${request.tag} from ${request.edge.from} to ${request.edge.to}.`,
    `Digest: ${request.digest}`,
    ...gates,
    `Needs: ${needed}. Expires: ${request.expiresAt}.`,
    '',
    `Review and decide (this link is yours alone and works once): ${url}`,
  ].join('\n');
  const body = html`<!doctype html><html><body style="font-family:sans-serif;max-width:40em">
<p>${request.requester} asks to promote <b>${request.repository}:${request.tag}</b> from ${request.edge.from} to ${request.edge.to}.</p>
<p>Digest: <code>${shortDigest(request.digest)}</code></p>
<ul>${gates.map((g) => html`<li>${g}</li>`)}</ul>
<p>Needs: ${needed}. Expires: ${request.expiresAt}.</p>
<p><a href="${url}">Review and decide</a> (this link is yours alone and works once; opening it decides nothing).</p>
</body></html>`;
  return { channel: link.channel, to: link.approver, subject, text, html: body.value, link: url, requestId: request.requestId, executionId: request.executionId, edge: request.edge };
}
