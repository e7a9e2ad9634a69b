// Registry auth: parse WWW-Authenticate challenges, answer Basic, and fetch/cache Bearer tokens per scope.
//
// The handshake, after the Docker token spec (https://distribution.github.io/distribution/spec/auth/token/):
//   1. send the request with whatever we already hold for this host (nothing, Basic, or a cached token);
//   2. on 401, read the challenge: `Basic realm=…` or `Bearer realm=…,service=…,scope=…`;
//   3. Basic: resend with the credentials. Bearer: GET realm?service=…&scope=… (with Basic credentials
//      when we have them; an identity token is exchanged by POST, grant_type=refresh_token) and resend
//      with `Authorization: Bearer <token>`;
//   4. a second 401 means the credentials are wrong (or lack the scope): fail with UNAUTHORIZED.
import { OciError } from './errors.ts';
import { isPasswordCredentials, protect, type CredentialProvider, type Credentials } from './credentials.ts';
import { registerSecret } from './redact.ts';

export interface Challenge {
  /** Lowercased scheme: `basic`, `bearer`. */
  readonly scheme: string;
  /** Parameter names lowercased; values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a WWW-Authenticate header into challenges (RFC 7235 §4.1): a scheme followed by
 * comma-separated `name=value` or `name="quoted, value"` params; several challenges may share the
 * header, each starting with a scheme token.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = [];
  const isTokenChar = (ch: string): boolean => /[A-Za-z0-9!#$%&'*+.^_`|~\-/]/.test(ch);
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < header.length && chars.test(header[i] ?? '')) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    while (i < header.length && isTokenChar(header[i] ?? '')) i++;
    if (i === start) {
      i++; // a stray character: step over it rather than loop forever
      continue;
    }
    const token = header.slice(start, i);
    skip(/\s/);
    if (header[i] !== '=') {
      challenges.push({ scheme: token.toLowerCase(), params: {} });
      continue;
    }
    i++; // '='
    skip(/\s/);
    let value = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\') i++;
        value += header[i] ?? '';
        i++;
      }
      i++; // closing quote
    } else {
      const vStart = i;
      while (i < header.length && header[i] !== ',' && !/\s/.test(header[i] ?? '')) i++;
      value = header.slice(vStart, i);
    }
    const current = challenges[challenges.length - 1];
    if (current !== undefined) current.params[token.toLowerCase()] = value;
  }
  return challenges;
}

export type Action = 'pull' | 'push' | 'delete';

/** `repository:<name>:<actions>` as the token spec writes it. */
export function repositoryScope(repository: string, actions: readonly Action[]): string {
  return `repository:${repository}:${[...new Set(actions)].join(',')}`;
}

/** Reads token responses: `token` or `access_token`, `expires_in` seconds (60 when absent, per the spec). */
export function parseTokenResponse(body: string, now: number): { token: string; expiresAt: number } {
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    json = JSON.parse(body) as typeof json;
  } catch (err) {
    throw new OciError('the token server answered with something that is not JSON', { code: 'PROTOCOL', cause: err });
  }
  const token = typeof json.token === 'string' && json.token !== '' ? json.token : json.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new OciError('the token server answered without a "token" or "access_token"', { code: 'PROTOCOL' });
  }
  registerSecret(token);
  // The spec: a server that gives less than 60 s is treated as 60 s.
  const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? Math.max(json.expires_in, 60) : 60;
  // Refresh a little early so that a token does not expire between our check and the registry's.
  return { token, expiresAt: now + expiresIn * 1000 * 0.9 };
}

export interface TokenFetchRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

/** Runs one token-endpoint request (the transport provides it, so that it shares agents and TLS settings). */
export type TokenFetcher = (req: TokenFetchRequest) => Promise<{ status: number; body: string }>;

export interface AuthenticatorOptions {
  /** Registry host, for messages and credential lookup. */
  readonly host: string;
  readonly credentials?: CredentialProvider;
  readonly fetchToken: TokenFetcher;
  readonly now?: () => number;
  readonly clientId?: string;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Holds one registry host's challenge, credentials and token cache. */
export class Authenticator {
  private challenge: Challenge | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;
  /** Keyed by the sorted scope set; promises so that concurrent requests share one fetch. */
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private readonly now: () => number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The Authorization value to send before any challenge for these scopes, or undefined. */
  async authorization(scopes: readonly string[], repository?: string): Promise<string | undefined> {
    const challenge = this.challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') return this.basic(repository);
    if (challenge.scheme === 'bearer') {
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached !== undefined) {
        const t = await cached.catch(() => undefined);
        if (t !== undefined && t.expiresAt > this.now()) return `Bearer ${t.token}`;
        if (this.tokens.get(key) === cached) this.tokens.delete(key);
      }
      return `Bearer ${(await this.token(scopes, repository)).token}`;
    }
    return undefined;
  }

  /**
   * Handles a 401: records the challenge, drops any token used for these scopes, and returns the
   * Authorization to resend with. Throws UNAUTHORIZED when there is nothing new to offer.
   */
  async onUnauthorized(wwwAuthenticate: string | undefined, scopes: readonly string[], repository?: string): Promise<string> {
    const challenges = wwwAuthenticate ? parseWwwAuthenticate(wwwAuthenticate) : [];
    const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (chosen === undefined) {
      throw this.unauthorized(repository, `it answered 401 without a usable WWW-Authenticate challenge (${wwwAuthenticate ?? 'none'})`);
    }
    this.challenge = chosen;
    this.tokens.delete(scopeKey(scopes));
    // Ask the provider again: it caches on its own terms (a Secrets Manager TTL, an ECR token's
    // expiry), so a rotated password or a refreshed registry token reaches a long-lived client.
    this.credentials = undefined;
    if (chosen.scheme === 'basic') return this.basic(repository);
    const challengeScope = chosen.params.scope;
    const wanted = challengeScope ? [...scopes, ...challengeScope.split(' ')] : scopes;
    return `Bearer ${(await this.token(scopes, repository, wanted)).token}`;
  }

  /** The error for a registry that refused us twice. */
  unauthorized(repository: string | undefined, why: string): OciError {
    const host = this.options.host;
    return new OciError(
      `registry ${host} refused access${repository ? ` to repository ${repository}` : ''}: ${why}. ` +
        `Check the credentials for ${host} (docker login ${host}, --creds, or REGMAN_USERNAME/REGMAN_PASSWORD).`,
      { code: 'UNAUTHORIZED', status: 401, registry: host },
    );
  }

  private async creds(): Promise<Credentials | undefined> {
    this.credentials ??= (async () => protect(await this.options.credentials?.credentialsFor(this.options.host)))();
    return this.credentials;
  }

  private async basic(repository?: string): Promise<string> {
    const c = await this.creds();
    if (c === undefined) throw this.unauthorized(repository, 'it requires a login and no credentials are configured for it');
    if (!isPasswordCredentials(c)) throw this.unauthorized(repository, 'it asks for Basic auth, and only an identity token is configured');
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private token(scopes: readonly string[], repository?: string, wanted: readonly string[] = scopes): Promise<CachedToken> {
    const key = scopeKey(scopes);
    const existing = this.tokens.get(key);
    if (existing !== undefined) return existing;
    const p = this.fetchToken(wanted, repository);
    this.tokens.set(key, p);
    p.catch(() => {
      if (this.tokens.get(key) === p) this.tokens.delete(key);
    });
    return p;
  }

  private async fetchToken(scopes: readonly string[], repository?: string): Promise<CachedToken> {
    const params = this.challenge?.params ?? {};
    if (!params.realm) throw this.unauthorized(repository, 'its Bearer challenge names no realm (token endpoint)');
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch (err) {
      throw new OciError(`registry ${this.options.host} sent a token realm that is not a URL: ${params.realm}`, { code: 'PROTOCOL', cause: err });
    }
    const uniqueScopes = [...new Set(scopes)].sort();
    const c = await this.creds();
    const headers: Record<string, string> = {};
    let req: TokenFetchRequest;
    if (c !== undefined && !isPasswordCredentials(c)) {
      // OAuth2 refresh-token grant (https://distribution.github.io/distribution/spec/auth/oauth/).
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: c.identityToken,
        client_id: this.options.clientId ?? 'registry-manager',
        ...(params.service ? { service: params.service } : {}),
        scope: uniqueScopes.join(' '),
      });
      headers['content-type'] = 'application/x-www-form-urlencoded';
      req = { url, method: 'POST', headers, body: Buffer.from(form.toString()) };
    } else {
      if (params.service) url.searchParams.set('service', params.service);
      for (const s of uniqueScopes) url.searchParams.append('scope', s);
      if (c !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
        url.searchParams.set('account', c.username);
      }
      req = { url, method: 'GET', headers };
    }
    const res = await this.options.fetchToken(req);
    if (res.status === 401 || res.status === 403) {
      throw this.unauthorized(
        repository,
        c === undefined
          ? `its token server ${url.origin} refused anonymous access (HTTP ${res.status})`
          : `its token server ${url.origin} refused the credentials (HTTP ${res.status})`,
      );
    }
    if (res.status !== 200) {
      throw new OciError(
        `the token server ${url.origin} of registry ${this.options.host} answered HTTP ${res.status}; retry later`,
        { code: res.status >= 500 ? 'UNAVAILABLE' : 'PROTOCOL', retryable: res.status >= 500 || res.status === 429, status: res.status, registry: this.options.host },
      );
    }
    return parseTokenResponse(res.body, this.now());
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}
