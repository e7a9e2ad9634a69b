// A small Docker token server (RS256 JWT) for testing token-auth registries, per
// https://distribution.github.io/distribution/spec/auth/token/ and .../auth/jwt/.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash, createSign, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { readBody, sendJson } from './http-json.ts';

export type TokenAction = 'pull' | 'push' | 'delete' | '*';

export interface AccessRule {
  /** Repository name or picomatch glob (`team/*`, `**`). */
  readonly repository: string;
  readonly actions: readonly TokenAction[];
}

export interface TokenUser {
  readonly password: string;
  readonly access: readonly AccessRule[];
  /** Grants `registry:catalog:*` (needed for `/v2/_catalog` on a token registry). */
  readonly catalog?: boolean;
}

export interface TokenServerOptions {
  readonly users: Readonly<Record<string, TokenUser>>;
  /** Requests without credentials get `pull` on every repository (else they get a 401). */
  readonly anonymousPull?: boolean;
  /** Lifetime of the tokens issued; default 300 s. */
  readonly tokenTtlSeconds?: number;
  /** `service` the registry announces and the token's `aud`; default `regman-test-registry`. */
  readonly service?: string;
  /** `iss` claim; default `regman-test-token-issuer`. */
  readonly issuer?: string;
  /**
   * How the JWT names its signing key: `x5c` (the certificate chain, checked by distribution against
   * its rootcertbundle) or `kid` (the libtrust key id of the certificate's key). Default `x5c`.
   */
  readonly keyHeader?: 'x5c' | 'kid';
}

/** One grant in a token's `access` claim. */
export interface GrantedAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: string[];
}

/** One request the token server answered. */
export interface TokenRequestRecord {
  readonly method: string;
  /** The authenticated user, or undefined for anonymous / refused requests. */
  readonly account: string | undefined;
  readonly scopes: readonly string[];
  readonly status: number;
  readonly granted: readonly GrantedAccess[];
}

export interface RunningTokenServer {
  /** Base URL, e.g. http://127.0.0.1:41235 */
  readonly url: string;
  /** The token endpoint the registry should announce: `${url}/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Path of the PEM certificate whose key signs the tokens (the registry's `rootcertbundle`). */
  readonly rootCertBundle: string;
  /** Every request answered, in order. */
  readonly requests: readonly TokenRequestRecord[];
  /** How many tokens were issued (refused requests do not count). */
  readonly issued: number;
  /** Changes the lifetime of the tokens issued from now on (negative: already expired). */
  setTokenTtl(seconds: number): void;
  /**
   * Makes the next `count` tokens already expired when issued (beyond distribution's 60 s leeway), so
   * a test can exercise "expired token → 401 → fetch a new token". Later tokens are fresh again.
   */
  expireNextTokens(count?: number): void;
  /** Signs a token for arbitrary claims: for tests of forged or mis-scoped tokens. */
  sign(claims: Record<string, unknown>): string;
  stop(): Promise<void>;
}

/** distribution accepts tokens up to 60 s past `exp`; an "expired" token must be older than that. */
const DISTRIBUTION_LEEWAY_SECONDS = 60;

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * The libtrust key id distribution computes for trusted keys: the SHA-256 of the DER SubjectPublicKeyInfo,
 * truncated to 240 bits, base32-encoded, in 12 colon-separated groups of 4.
 */
export function libtrustKeyId(spkiDer: Buffer): string {
  const hash = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let b32 = '';
  for (let i = 0; i < bits.length; i += 5) b32 += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return b32.match(/.{4}/g)!.join(':');
}

/** Parses `type:name:actions`, e.g. `repository:team/app:pull,push` (a name never contains ':'). */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(',').filter(Boolean),
  };
}

/** Grants only what was asked AND is allowed, per repository and action. */
function grant(user: TokenUser | undefined, anonymousPull: boolean, scopes: readonly string[]): GrantedAccess[] {
  const out: GrantedAccess[] = [];
  for (const scope of scopes) {
    const req = parseScope(scope);
    if (!req) continue;
    let allowed: Set<string>;
    if (req.type === 'repository') {
      allowed = new Set();
      if (user) {
        for (const rule of user.access) {
          if (rule.repository === req.name || picomatch(rule.repository)(req.name)) {
            rule.actions.forEach((a) => allowed.add(a));
          }
        }
      } else if (anonymousPull) {
        allowed.add('pull');
      }
    } else if (req.type === 'registry' && req.name === 'catalog' && user?.catalog) {
      allowed = new Set(['*']);
    } else {
      continue;
    }
    // A '*' grant covers every action; a '*' request is granted only by a '*' grant.
    const actions = req.actions.filter((a) => allowed.has(a) || allowed.has('*'));
    if (actions.length > 0) out.push({ type: req.type, name: req.name, actions });
  }
  return out;
}

/**
 * Starts a token server on a free loopback port. Its key pair is fresh (RSA 2048) and its certificate is
 * self-signed with the `openssl` CLI.
 *
 * @example
 * const ts = await startTokenServer({ users: { alice: { password: 'pw', access: [{ repository: '**', actions: ['*'] }] } } });
 * const reg = await startRegistry({ token: ts });
 */
export async function startTokenServer(opts: TokenServerOptions): Promise<RunningTokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'regman-token-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  execFileSync(
    'openssl',
    ['req', '-new', '-x509', '-key', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=regman-test-token-signer'],
    { stdio: 'ignore' },
  );
  const cert = new X509Certificate(readFileSync(certFile));
  const x5c = cert.raw.toString('base64');
  const kid = libtrustKeyId(publicKey.export({ type: 'spki', format: 'der' }));
  const service = opts.service ?? 'regman-test-registry';
  const issuer = opts.issuer ?? 'regman-test-token-issuer';
  const anonymousPull = opts.anonymousPull ?? false;
  let ttl = opts.tokenTtlSeconds ?? 300;
  let expireNext = 0;
  let issued = 0;
  const requests: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>();

  const header =
    (opts.keyHeader ?? 'x5c') === 'x5c' ? { typ: 'JWT', alg: 'RS256', x5c: [x5c] } : { typ: 'JWT', alg: 'RS256', kid };

  function sign(claims: Record<string, unknown>): string {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(privateKey);
    return `${input}.${b64url(sig)}`;
  }

  function issue(account: string | undefined, scopes: readonly string[]): { token: string; granted: GrantedAccess[]; expiresIn: number; issuedAt: string } {
    const user = account === undefined ? undefined : opts.users[account];
    const granted = grant(user, anonymousPull, scopes);
    let now = Math.floor(Date.now() / 1000);
    let life = ttl;
    if (expireNext > 0) {
      expireNext--;
      // Issued and expired well in the past, beyond the registry's clock-skew leeway.
      now -= 3 * DISTRIBUTION_LEEWAY_SECONDS;
      life = 1;
    } else if (life <= 0) {
      now += life - 2 * DISTRIBUTION_LEEWAY_SECONDS;
      life = 1;
    }
    const token = sign({
      iss: issuer,
      sub: account ?? '',
      aud: service,
      exp: now + life,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access: granted,
    });
    issued++;
    return { token, granted, expiresIn: life, issuedAt: new Date(now * 1000).toISOString() };
  }

  /** Checks a user/password pair; returns the account, `undefined` for anonymous, or `false` when refused. */
  function authenticate(username: string | undefined, password: string | undefined): string | undefined | false {
    if (username === undefined) return anonymousPull ? undefined : false;
    const user = opts.users[username];
    if (!user || user.password !== password) return false;
    return username;
  }

  function refuse(res: ServerResponse, method: string, scopes: string[], message: string): void {
    requests.push({ method, account: undefined, scopes, status: 401, granted: [] });
    sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message }] }, { 'www-authenticate': 'Basic realm="regman-token"' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') return sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: url.pathname }] });
    if (req.method === 'GET') {
      const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      let username: string | undefined;
      let password: string | undefined;
      const auth = req.headers.authorization;
      if (auth?.startsWith('Basic ')) {
        const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        username = colon < 0 ? decoded : decoded.slice(0, colon);
        password = colon < 0 ? '' : decoded.slice(colon + 1);
      } else if (auth !== undefined) {
        return refuse(res, 'GET', scopes, 'only Basic credentials are accepted');
      }
      const account = authenticate(username, password);
      if (account === false) return refuse(res, 'GET', scopes, 'authentication failed');
      const t = issue(account, scopes);
      requests.push({ method: 'GET', account, scopes, status: 200, granted: t.granted });
      const body: Record<string, unknown> = { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt };
      if (account !== undefined && url.searchParams.get('offline_token') === 'true') {
        const rt = randomBytes(24).toString('hex');
        refreshTokens.set(rt, account);
        body.refresh_token = rt;
      }
      return sendJson(res, 200, body);
    }
    if (req.method === 'POST') {
      // OAuth2 flavour: https://distribution.github.io/distribution/spec/auth/oauth/
      const form = new URLSearchParams(await readBody(req));
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      let account: string | undefined | false;
      const grantType = form.get('grant_type');
      if (grantType === 'password') {
        account = authenticate(form.get('username') ?? '', form.get('password') ?? '');
      } else if (grantType === 'refresh_token') {
        account = refreshTokens.get(form.get('refresh_token') ?? '') ?? false;
      } else {
        requests.push({ method: 'POST', account: undefined, scopes, status: 400, granted: [] });
        return sendJson(res, 400, { error: 'unsupported_grant_type' });
      }
      if (account === false || account === undefined) return refuse(res, 'POST', scopes, 'authentication failed');
      const t = issue(account, scopes);
      requests.push({ method: 'POST', account, scopes, status: 200, granted: t.granted });
      const body: Record<string, unknown> = { access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt, scope: scopes.join(' ') };
      if (form.get('access_type') === 'offline' || grantType === 'refresh_token') {
        const rt = grantType === 'refresh_token' ? form.get('refresh_token')! : randomBytes(24).toString('hex');
        refreshTokens.set(rt, account);
        body.refresh_token = rt;
      }
      return sendJson(res, 200, body);
    }
    sendJson(res, 405, { errors: [{ code: 'UNSUPPORTED', message: req.method ?? '' }] });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: String(err) }] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('token server has no port');
  const url = `http://127.0.0.1:${addr.port}`;

  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    rootCertBundle: certFile,
    requests,
    get issued() {
      return issued;
    },
    setTokenTtl(seconds: number) {
      ttl = seconds;
    },
    expireNextTokens(count = 1) {
      expireNext = count;
    },
    sign,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
