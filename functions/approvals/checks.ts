// Every security check of approvals in one place (link, CSRF, approver, separation of duties, state, Slack), each throwing its own typed error.
import {
  AlreadyDecidedError,
  BadSignatureError,
  CsrfInvalidError,
  CsrfMissingError,
  LinkExpiredError,
  LinkUsedError,
  RequestEndedError,
  SeparationOfDutiesError,
  SlackSignatureError,
  WrongApproverError,
  WrongExecutionError,
} from './errors.ts';
import { csrfToken, linkSignature, parseCsrfToken, safeEqual, slackSignature } from './signing.ts';
import type { ApprovalDecisionRecord, ApprovalLink, ApprovalState, StoredApprovalRequest } from './types.ts';

/** How long a page view's CSRF token stays good: long enough to read the page, short enough to limit a leak. */
export const CSRF_MAX_AGE_MS = 60 * 60 * 1000;

/** Slack refuses requests older than five minutes against replay; so do we. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

/**
 * The link's signature matches its stored fields under the key, and the link belongs to `executionId` when the
 * caller names one. Run before anything else is read from the link.
 *
 * @throws BadSignatureError, WrongExecutionError
 */
export function checkLinkSignature(key: Uint8Array, link: ApprovalLink, signature: string, executionId?: string): void {
  if (!safeEqual(linkSignature(key, link), signature)) throw new BadSignatureError({ requestId: link.requestId });
  if (executionId !== undefined && executionId !== link.executionId) throw new WrongExecutionError({ requestId: link.requestId });
}

/** @throws LinkExpiredError once `now` is past the link's expiry. */
export function checkNotExpired(expiresAt: string, now: Date, requestId?: string): void {
  if (now.getTime() >= Date.parse(expiresAt)) throw new LinkExpiredError(expiresAt, requestId === undefined ? {} : { requestId });
}

/** @throws LinkUsedError when the link was used before. */
export function checkLinkUnused(link: ApprovalLink): void {
  if (link.usedAt !== undefined) throw new LinkUsedError(link.usedAt, { requestId: link.requestId });
}

/** The request's state as of `now`: a pending request past its expiry counts as expired. */
export function effectiveState(request: Pick<StoredApprovalRequest, 'state' | 'expiresAt'>, now: Date): ApprovalState {
  return request.state === 'PENDING' && now.getTime() >= Date.parse(request.expiresAt) ? 'EXPIRED' : request.state;
}

/** @throws RequestEndedError unless the request is still pending; LinkExpiredError when it has just expired. */
export function checkPending(request: StoredApprovalRequest, now: Date): void {
  const state = effectiveState(request, now);
  if (state === 'EXPIRED') throw new LinkExpiredError(request.expiresAt, { requestId: request.requestId });
  if (state !== 'PENDING') throw new RequestEndedError(state.toLowerCase(), { requestId: request.requestId });
}

/**
 * Whether `identity` is `approver`: equal ignoring case for e-mail addresses, or an IAM principal ARN whose
 * last path segment (role session or user name) is the approver (`arn:aws:sts::1:assumed-role/Ops/alice` is `alice`).
 */
export function identityMatches(approver: string, identity: string): boolean {
  if (approver.toLowerCase() === identity.toLowerCase()) return true;
  if (identity.startsWith('arn:aws')) {
    const last = identity.split('/').pop() ?? '';
    return last.toLowerCase() === approver.toLowerCase();
  }
  return false;
}

/** The configured approver that `identity` is; @throws WrongApproverError when it is none of them. */
export function checkApprover(approvers: readonly string[], identity: string, requestId?: string): string {
  const match = approvers.find((approver) => identityMatches(approver, identity));
  if (match === undefined) throw new WrongApproverError(identity, requestId === undefined ? {} : { requestId });
  return match;
}

/** Strips `cli:`/`webhook:…:` style prefixes, so `cli:alice` and `alice` are the same person. */
function bareIdentity(identity: string): string {
  const parts = identity.split(':');
  return identity.startsWith('arn:') ? identity : (parts[parts.length - 1] ?? identity);
}

/**
 * Separation of duties: neither the identity that requested the promotion (nor the principal that started it for
 * them) nor the one that pushed the image
 * may approve it. Rejecting stays allowed (anyone on the list may stop a promotion, the requester included).
 *
 * @throws SeparationOfDutiesError
 */
export function checkSeparationOfDuties(request: Pick<StoredApprovalRequest, 'requester' | 'requestedVia' | 'pusher' | 'requestId'>, approver: string, identity: string): void {
  const me = [approver, identity];
  const same = (other: string | undefined): boolean =>
    other !== undefined && other !== '' && me.some((id) => identityMatches(bareIdentity(other), bareIdentity(id)) || identityMatches(bareIdentity(id), bareIdentity(other)));
  if (same(request.requester) || same(request.requestedVia)) throw new SeparationOfDutiesError(identity, 'requester', { requestId: request.requestId });
  if (same(request.pusher)) throw new SeparationOfDutiesError(identity, 'pusher', { requestId: request.requestId });
}

/** @throws AlreadyDecidedError when this approver has a decision recorded already. */
export function checkNotDecided(decisions: readonly ApprovalDecisionRecord[], approver: string, requestId: string): void {
  if (decisions.some((d) => identityMatches(approver, d.identity))) throw new AlreadyDecidedError(approver, { requestId });
}

/**
 * The form's CSRF token was issued by us for a view of this very link, and is fresh.
 *
 * @throws CsrfMissingError, CsrfInvalidError
 */
export function checkCsrf(key: Uint8Array, linkId: string, token: string | undefined, now: Date, requestId?: string): void {
  const options = requestId === undefined ? {} : { requestId };
  if (token === undefined || token === '') throw new CsrfMissingError(options);
  const parsed = parseCsrfToken(token);
  if (!parsed) throw new CsrfInvalidError(options);
  if (!safeEqual(csrfToken(key, linkId, parsed.viewId, parsed.issuedAtMs), token)) throw new CsrfInvalidError(options);
  const age = now.getTime() - parsed.issuedAtMs;
  if (age < -60_000 || age > CSRF_MAX_AGE_MS) throw new CsrfInvalidError(options);
}

/**
 * Slack's signed request: `X-Slack-Request-Timestamp` within five minutes of now, and `X-Slack-Signature`
 * equal to `v0=` HMAC-SHA256 of `v0:<timestamp>:<raw body>`.
 *
 * @throws SlackSignatureError
 */
export function checkSlackSignature(signingSecret: string, headers: { timestamp?: string; signature?: string }, rawBody: string, now: Date): void {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) throw new SlackSignatureError('the X-Slack-Request-Timestamp or X-Slack-Signature header is missing');
  if (!/^\d{1,12}$/.test(timestamp)) throw new SlackSignatureError('the timestamp is not a number of seconds');
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS) {
    throw new SlackSignatureError('the request is older than five minutes (or from the future)');
  }
  if (!safeEqual(slackSignature(signingSecret, timestamp, rawBody), signature)) throw new SlackSignatureError('the signature does not match');
}
