// Removes credentials and tokens from any text before it reaches an error message or a log line.

/** Values the auth layer registered as secret (passwords, identity tokens, bearer tokens). */
const knownSecrets = new Set<string>();

/**
 * Shorter values are not registered: replacing every "ab" in a message would make it unreadable,
 * and such a value is not a credential worth the name. Credentials also travel base64-encoded in
 * Basic headers, which the header rule below covers.
 */
const MIN_SECRET_LENGTH = 4;

export const REDACTED = '***';

/** Registers a value that must never appear in any message (passwords, tokens). */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  knownSecrets.add(value);
  // Basic credentials are usually seen base64-encoded as part of `user:pass`; the header rule covers
  // those, but a bare URL-encoded form could still slip through a query string.
  const encoded = encodeURIComponent(value);
  if (encoded !== value) knownSecrets.add(encoded);
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  knownSecrets.clear();
}

type Replacement = string | ((match: string, ...groups: string[]) => string);

const RULES: ReadonlyArray<[RegExp, Replacement]> = [
  // https://user:pass@host → https://***@host
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi, `$1${REDACTED}@`],
  // The same without a scheme, as in an image reference: user:pass@host[:port]/repo → ***@host[:port]/repo.
  // (`repo@sha256:…` is left alone: its `@` follows a slash-bearing name and precedes no `host/`.)
  [/(^|[\s"'(=<])[^\s/@:"'(=<]+(?::[^\s/@"']*)?@(?=[a-z0-9.[\]-]+(?::\d+)?\/)/gi, `$1${REDACTED}@`],
  // Authorization: Basic xxx / Bearer xxx, in header dumps or JSON.
  [/\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer)\s+)?[^\s"',}]+/gi,
    (_m, name = '', scheme) => `${name}${scheme ? `${scheme} ` : ''}${REDACTED}`],
  // A bare "Bearer <token>" or "Basic <b64>" outside a header name.
  // Words after "Basic" in prose are left alone: a credential has a digit or one of + / = in it.
  [/\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9+/=])[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // token=…, access_token=…, refresh_token=…, password=… in query strings and form bodies.
  [/\b((?:access_|refresh_|identity_)?token|password|passwd|client_secret)=[^\s&"',}]+/gi, `$1=${REDACTED}`],
  // The same names as JSON fields: "token": "…".
  [/"((?:access_|refresh_|identity_)?token|password|passwd|client_secret|auth|identitytoken)"\s*:\s*"[^"]*"/gi, `"$1": "${REDACTED}"`],
  // JWTs: three base64url segments, the first starting with eyJ ("{"").
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
];

/** Returns `text` with URL userinfo, Authorization values, token/password params, JWTs and registered secrets removed. */
export function redact(text: string): string {
  let out = text;
  // Registered secrets first, longest first, so that a secret containing another is removed whole.
  const secrets = [...knownSecrets].sort((a, b) => b.length - a.length);
  for (const s of secrets) out = out.split(s).join(REDACTED);
  for (const [re, replacement] of RULES) {
    out = typeof replacement === 'string' ? out.replace(re, replacement) : out.replace(re, replacement);
  }
  return out;
}
