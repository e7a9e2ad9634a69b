// The page for every refused approval action: what happened, in words, with the HTTP status the error carries.
import type { ApprovalError } from '../approvals/errors.ts';
import { html } from '../html.ts';
import { page } from './layout.ts';

const TITLES: Readonly<Record<string, string>> = {
  APPROVAL_BAD_SIGNATURE: 'This link is not valid',
  APPROVAL_LINK_EXPIRED: 'This link has expired',
  APPROVAL_LINK_USED: 'This link was already used',
  APPROVAL_NOT_FOUND: 'Not found',
  APPROVAL_WRONG_APPROVER: 'You are not an approver of this request',
  APPROVAL_WRONG_EXECUTION: 'This link belongs to another promotion',
  APPROVAL_CSRF_MISSING: 'The form could not be checked',
  APPROVAL_CSRF_INVALID: 'The form could not be checked',
  APPROVAL_SEPARATION_OF_DUTIES: 'You cannot approve your own promotion',
  APPROVAL_ENDED: 'This request has ended',
  APPROVAL_ALREADY_DECIDED: 'You have already decided',
  APPROVAL_BAD_INPUT: 'Something is missing',
  APPROVAL_SLACK_SIGNATURE: 'Request refused',
};

/** `{ status, body }` for a refusal; unknown errors get a generic 500 page that leaks nothing. */
export function renderRefusal(err: Pick<ApprovalError, 'code' | 'status' | 'message'>): { status: number; body: string } {
  const title = TITLES[err.code] ?? 'Something went wrong';
  return {
    status: err.status,
    body: page({ title }, html`<h1 data-testid="refusal" data-code="${err.code}">${title}</h1><section><p>${err.message}</p><p class="muted">HTTP ${err.status} · ${err.code}</p></section>`),
  };
}
