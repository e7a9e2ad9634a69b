// The console's request and response shapes, independent of API Gateway and of node:http, and the security headers every page gets.

export interface WebRequest {
  readonly method: string;
  /** Path without the query, percent-encoded as received. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body (Slack's signature covers these exact bytes). */
  readonly body: string;
}

export interface WebResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * No scripts, no external anything, no framing, forms only to us; no Referer (the link's token is in the
 * path), never cached (a page carries a CSRF token).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export function htmlResponse(status: number, body: string): WebResponse {
  return { status, headers: PAGE_HEADERS, body };
}

export function jsonResponse(status: number, value: unknown): WebResponse {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(value) };
}

/** Fields of an `application/x-www-form-urlencoded` body. */
export function formFields(body: string): URLSearchParams {
  return new URLSearchParams(body);
}
