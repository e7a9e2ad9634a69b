// HMAC-SHA256 primitives of approvals: link signatures, CSRF tokens, Slack request signatures; constant-time comparison.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Versioned, newline-joined fields, so that no two field lists sign the same bytes. */
function mac(key: Uint8Array, purpose: string, fields: readonly string[]): string {
  const h = createHmac('sha256', key);
  h.update(purpose);
  for (const field of fields) h.update(`\n${field.length}:${field}`);
  return h.digest('base64url');
}

/** A random id, base64url (128 bits by default). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string equality (false on length mismatch). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The fields a link's signature covers: the request, the execution, the approver, the expiry and the link id. */
export interface LinkFields {
  readonly linkId: string;
  readonly requestId: string;
  readonly executionId: string;
  readonly approver: string;
  readonly expiresAt: string;
}

export function linkSignature(key: Uint8Array, link: LinkFields): string {
  return mac(key, 'regman-approval-link-v1', [link.linkId, link.requestId, link.executionId, link.approver, link.expiresAt]);
}

/** The token a link carries: `<random link id>.<signature>`; nothing else (the task token stays in the store). */
export function linkToken(key: Uint8Array, link: LinkFields): string {
  return `${link.linkId}.${linkSignature(key, link)}`;
}

/** Splits a link token; undefined when it is not `<id>.<signature>` of base64url. */
export function parseLinkToken(token: string): { linkId: string; signature: string } | undefined {
  const m = /^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { linkId: m[1]!, signature: m[2]! } : undefined;
}

/** A CSRF token bound to one page view of one link: `<view id>.<issued ms>.<mac>`. */
export function csrfToken(key: Uint8Array, linkId: string, viewId: string, issuedAtMs: number): string {
  return `${viewId}.${issuedAtMs}.${mac(key, 'regman-approval-csrf-v1', [linkId, viewId, String(issuedAtMs)])}`;
}

export function parseCsrfToken(token: string): { viewId: string; issuedAtMs: number; mac: string } | undefined {
  const m = /^([A-Za-z0-9_-]{16,64})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { viewId: m[1]!, issuedAtMs: Number(m[2]), mac: m[3]! } : undefined;
}

/**
 * Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret
 * (https://api.slack.com/authentication/verifying-requests-from-slack).
 */
export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}
