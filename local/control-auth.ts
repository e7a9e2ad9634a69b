// Who may change state through the local control listener: a bearer token from endpoints.json, and never a cross-origin browser.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A fresh secret for one stack start (256 bits, hex). Written to endpoints.json (mode 0600) and into
 * the registries' notification config, so only the stack's owner and its registries hold it.
 */
export function newControlToken(): string {
  return randomBytes(32).toString('hex');
}

/** The header value a state-changing request carries: `Authorization: Bearer <controlToken>`. */
export function controlAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** The headers a client (the CLI, a script, a registry's webhook) sends with a state-changing request. */
export function controlHeaders(token: string): Record<string, string> {
  return { authorization: controlAuthorization(token) };
}

/** GET, HEAD and OPTIONS only read; every other method changes state and needs the token. */
export function isStateChanging(method: string | undefined): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes((method ?? 'GET').toUpperCase());
}

export interface ControlAuthFailure {
  /** 401: no or wrong token; 403: a cross-origin browser request (refused whatever it carries). */
  readonly status: 401 | 403;
  readonly error: string;
}

/**
 * Checks one state-changing request. Browsers mark cross-site requests with `Sec-Fetch-Site` and
 * `Origin` (https://fetch.spec.whatwg.org/#origin-header, https://www.w3.org/TR/fetch-metadata/):
 * a "simple" `text/plain` POST from any web page reaches loopback without a preflight, so those are
 * refused before the token is looked at. Registries and the CLI send neither header.
 * @returns undefined when the request may proceed
 */
export function checkControlRequest(req: IncomingMessage, token: string): ControlAuthFailure | undefined {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, error: `cross-origin request refused (Sec-Fetch-Site: ${site}): the control listener serves the local CLI and registries only` };
  }
  const origin = header(req, 'origin');
  if (origin !== undefined && origin !== `http://${header(req, 'host') ?? ''}`) {
    return { status: 403, error: `cross-origin request refused (Origin: ${origin}): the control listener serves the local CLI and registries only` };
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')?.[1];
  if (given === undefined) {
    return { status: 401, error: 'missing Authorization: Bearer <controlToken>: read controlToken from the state folder\'s endpoints.json' };
  }
  if (!sameSecret(given, token)) {
    return { status: 401, error: 'wrong control token: read controlToken from the running stack\'s endpoints.json (it changes at every start)' };
  }
  return undefined;
}

/**
 * For a route handler: answers 401/403 with a JSON `{ error }` and returns false when the request
 * may not proceed. Routes that authenticate otherwise (signed links with a CSRF token) skip it.
 * @example if (!authorizeControlRequest(req, res, token)) return;
 */
export function authorizeControlRequest(req: IncomingMessage, res: ServerResponse, token: string): boolean {
  const failure = checkControlRequest(req, token);
  if (!failure) return true;
  const text = JSON.stringify({ error: failure.error });
  res.writeHead(failure.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(failure.status === 401 ? { 'www-authenticate': 'Bearer realm="regman-local"' } : {}),
  });
  res.end(text);
  // The body is not read: drain it so the connection stays usable.
  req.resume();
  return false;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
