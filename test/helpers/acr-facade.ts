// An HTTPS stand-in for an Azure Container Registry in front of a REAL token-auth registry: ACR's token
// exchange (/oauth2/exchange, /oauth2/token), the /acr/v1 listing endpoints the adapter
// calls, and a proxy for /v2. The Azure control plane (AAD) is replaced by fixed tokens.
//
// ACR's auth flow: https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
// ACR's listing API: https://learn.microsoft.com/rest/api/containerregistry/manifests/get-list
import https from 'node:https';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHmac, createVerify, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenRegistry } from './registry.ts';
import { readBody, sendJson } from './http-json.ts';

export interface AcrFacadeOptions {
  /** The real registry behind the facade: token auth, `relativeUrls: true` (as ACR sends relative Locations). */
  readonly registry: TokenRegistry;
  /** AAD access tokens the facade accepts at /oauth2/exchange, each mapped to a token-server user. */
  readonly aadTokens: Readonly<Record<string, { readonly username: string; readonly password: string }>>;
  /** Lifetime of the ACR refresh tokens issued. @default 3 hours (ACR's) */
  readonly refreshTokenTtlSeconds?: number;
}

/** One call to the facade's own endpoints. */
export interface FacadeRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** grant_type of a token call. */
  readonly grantType?: string;
}

export interface RunningAcrFacade {
  /** e.g. https://127.0.0.1:41234 */
  readonly url: string;
  /** e.g. 127.0.0.1:41234 */
  readonly host: string;
  /** PEM of the facade's self-signed certificate (for `ca` options). */
  readonly caPem: string;
  /** Calls to /oauth2/* and /acr/v1/*, in order. */
  readonly requests: readonly FacadeRecord[];
  /** Refresh tokens issued at /oauth2/exchange. */
  readonly refreshTokens: readonly string[];
  /** Makes every refresh token issued so far invalid (as when ACR's 3-hour tokens run out). */
  revokeRefreshTokens(): void;
  stop(): Promise<void>;
}

interface AccessClaim {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** Calls the token server (plain http on loopback) and returns status and body. */
function callTokenServer(url: URL, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (s += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: s }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function makeCertificate(dir: string): { key: string; cert: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

/** What distribution's filesystem storage knows of a repository (its layout is stable since 2.0). */
interface StoredManifest {
  readonly digest: string;
  readonly raw: Buffer;
  readonly createdTime: string;
  readonly tags: string[];
}

class Storage {
  constructor(private readonly root: string) {}

  private get v2(): string {
    return join(this.root, 'docker', 'registry', 'v2');
  }

  repositories(): string[] {
    const base = join(this.v2, 'repositories');
    const out: string[] = [];
    const walk = (dir: string, prefix: string): void => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory() || entry.name.startsWith('_')) continue;
        const name = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (existsSync(join(dir, entry.name, '_manifests'))) out.push(name);
        walk(join(dir, entry.name), name);
      }
    };
    walk(base, '');
    return out.sort();
  }

  blob(digest: string): Buffer | undefined {
    const hex = digest.slice('sha256:'.length);
    const file = join(this.v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  /** Every manifest revision of the repository (tagged or not), with its tags. */
  manifests(repository: string): StoredManifest[] {
    const mdir = join(this.v2, 'repositories', repository, '_manifests');
    const tagsByDigest = new Map<string, string[]>();
    const tagDir = join(mdir, 'tags');
    if (existsSync(tagDir)) {
      for (const tag of readdirSync(tagDir)) {
        const link = join(tagDir, tag, 'current', 'link');
        if (!existsSync(link)) continue;
        const d = readFileSync(link, 'utf8').trim();
        tagsByDigest.set(d, [...(tagsByDigest.get(d) ?? []), tag]);
      }
    }
    const revDir = join(mdir, 'revisions', 'sha256');
    if (!existsSync(revDir)) return [];
    const out: StoredManifest[] = [];
    for (const hex of readdirSync(revDir)) {
      const link = join(revDir, hex, 'link');
      if (!existsSync(link)) continue; // deleted
      const digest = `sha256:${hex}`;
      const raw = this.blob(digest);
      if (raw === undefined) continue;
      out.push({ digest, raw, createdTime: statSync(link).mtime.toISOString(), tags: (tagsByDigest.get(digest) ?? []).sort() });
    }
    return out;
  }
}

interface ParsedManifest {
  mediaType?: string;
  config?: { mediaType?: string; digest: string; size: number };
  layers?: { digest: string; size: number }[];
  manifests?: { digest: string; platform?: { architecture?: string; os?: string } }[];
}

/** One entry of ACR's `GET /acr/v1/{name}/_manifests` (ManifestAttributesBase). */
function acrManifestAttributes(m: StoredManifest, storage: Storage): Record<string, unknown> {
  const parsed = JSON.parse(m.raw.toString('utf8')) as ParsedManifest;
  const attrs: Record<string, unknown> = {
    digest: m.digest,
    createdTime: m.createdTime,
    lastUpdateTime: m.createdTime,
    tags: m.tags.length > 0 ? m.tags : undefined,
    mediaType: parsed.mediaType,
    changeableAttributes: { deleteEnabled: true, writeEnabled: true, listEnabled: true, readEnabled: true },
  };
  if (parsed.manifests) {
    attrs.imageSize = m.raw.length;
    attrs.references = parsed.manifests.map((c) => ({ digest: c.digest, architecture: c.platform?.architecture, os: c.platform?.os }));
  } else {
    attrs.imageSize = (parsed.config?.size ?? 0) + (parsed.layers ?? []).reduce((n, l) => n + l.size, 0);
    attrs.configMediaType = parsed.config?.mediaType;
    const config = parsed.config ? storage.blob(parsed.config.digest) : undefined;
    if (config) {
      try {
        const c = JSON.parse(config.toString('utf8')) as { architecture?: string; os?: string };
        attrs.architecture = c.architecture;
        attrs.os = c.os;
      } catch {
        // an artifact's config need not be JSON
      }
    }
  }
  return attrs;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Starts the facade on a free loopback port.
 *
 * @example
 * const reg = await startTokenRegistry({ users: { sp: { password: 'pw', access: [...] , catalog: true } } }, { relativeUrls: true });
 * const acr = await startAcrFacade({ registry: reg, aadTokens: { 'aad-token': { username: 'sp', password: 'pw' } } });
 */
export async function startAcrFacade(opts: AcrFacadeOptions): Promise<RunningAcrFacade> {
  const dir = mkdtempSync(join(tmpdir(), 'regman-acr-'));
  const { key, cert } = makeCertificate(dir);
  const ts = opts.registry.tokenServer;
  const signerKey = new X509Certificate(readFileSync(ts.rootCertBundle)).publicKey;
  const storage = new Storage(opts.registry.rootDir);
  const upstream = new URL(opts.registry.url);
  const hmacKey = randomBytes(32);
  const refreshTtl = opts.refreshTokenTtlSeconds ?? 3 * 3600;
  const refresh = new Map<string, { username: string; password: string }>();
  const refreshIssued: string[] = [];
  const requests: FacadeRecord[] = [];
  let facadeUrl = '';

  /** ACR refresh tokens are JWTs: the adapter reads their `exp`. */
  function issueRefreshToken(user: { username: string; password: string }, service: string): string {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({
      jti: randomBytes(8).toString('hex'), sub: user.username, aud: service, iat: now, nbf: now, exp: now + refreshTtl, grant_type: 'refresh_token',
    }))}`;
    const token = `${input}.${b64url(createHmac('sha256', hmacKey).update(input).digest())}`;
    refresh.set(token, user);
    refreshIssued.push(token);
    return token;
  }

  /** The access claims of a valid token-server JWT, or undefined. */
  function verifyAccessToken(authorization: string | undefined): AccessClaim[] | undefined {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    const parts = authorization.slice(7).split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    if (!createVerify('RSA-SHA256').update(`${h}.${p}`).verify(signerKey, Buffer.from(s, 'base64url'))) return undefined;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { exp?: number; aud?: string; access?: AccessClaim[] };
    if (claims.aud !== ts.service || (claims.exp ?? 0) < Date.now() / 1000) return undefined;
    return claims.access ?? [];
  }

  function allowed(access: readonly AccessClaim[], type: string, name: string, action: string): boolean {
    return access.some((a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes('*')));
  }

  function challenge(res: ServerResponse, scope: string): void {
    sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, {
      'www-authenticate': `Bearer realm="${facadeUrl}/oauth2/token",service="${ts.service}",scope="${scope}"`,
    });
  }

  async function oauth(req: IncomingMessage, res: ServerResponse, path: string): Promise<number> {
    const form = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : new URLSearchParams();
    const grantType = form.get('grant_type') ?? undefined;
    const record = (status: number): number => {
      requests.push({ method: req.method ?? '', path, status, ...(grantType ? { grantType } : {}) });
      return status;
    };
    if (path === '/oauth2/exchange' && req.method === 'POST') {
      const user = grantType === 'access_token' ? opts.aadTokens[form.get('access_token') ?? ''] : undefined;
      if (user === undefined) {
        sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid AAD access token' }] });
        return record(401);
      }
      sendJson(res, 200, { refresh_token: issueRefreshToken(user, form.get('service') ?? '') });
      return record(200);
    }
    if (path === '/oauth2/token' && req.method === 'POST') {
      const user = grantType === 'refresh_token' ? refresh.get(form.get('refresh_token') ?? '') : undefined;
      if (user === undefined) {
        sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] });
        return record(401);
      }
      // The scope is granted by the real token server, as the user the AAD identity maps to.
      const body = new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password, service: ts.service, scope: form.get('scope') ?? '' });
      const out = await callTokenServer(new URL(ts.realm), 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, body.toString());
      if (out.status !== 200) {
        res.writeHead(out.status, { 'content-type': 'application/json' }).end(out.body);
        return record(out.status);
      }
      const { access_token: accessToken } = JSON.parse(out.body) as { access_token: string };
      sendJson(res, 200, { access_token: accessToken });
      return record(200);
    }
    if (path === '/oauth2/token' && req.method === 'GET') {
      // Admin user / repository-scoped tokens: Basic at the token endpoint, as `docker login` does.
      const url = new URL(ts.realm);
      new URL(req.url ?? '/', 'https://x').searchParams.forEach((v, k) => url.searchParams.append(k, k === 'service' ? ts.service : v));
      const out = await callTokenServer(url, 'GET', req.headers.authorization ? { authorization: req.headers.authorization } : {});
      res.writeHead(out.status, { 'content-type': 'application/json', ...(out.status === 401 ? { 'www-authenticate': 'Basic realm="acr"' } : {}) }).end(out.body);
      return record(out.status);
    }
    sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: path }] });
    return record(404);
  }

  function acrApi(req: IncomingMessage, res: ServerResponse, url: URL): number {
    const path = url.pathname;
    const access = verifyAccessToken(req.headers.authorization);
    if (path === '/acr/v1/_catalog') {
      if (!access || !allowed(access, 'registry', 'catalog', '*')) {
        challenge(res, 'registry:catalog:*');
        return 401;
      }
      let repos = storage.repositories();
      const last = url.searchParams.get('last');
      if (last) repos = repos.filter((r) => r > last);
      const n = Number(url.searchParams.get('n') ?? '100');
      const page = repos.slice(0, n);
      const headers: Record<string, string> = repos.length > n ? { link: `</acr/v1/_catalog?last=${encodeURIComponent(page[page.length - 1] ?? '')}&n=${n}>; rel="next"` } : {};
      sendJson(res, 200, { repositories: page }, headers);
      return 200;
    }
    const m = /^\/acr\/v1\/(.+?)(\/_manifests)?$/.exec(path);
    if (m?.[1] === undefined || req.method !== 'GET') {
      sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: `${req.method ?? ''} ${path} is not emulated` }] });
      return 404;
    }
    const name = decodeURIComponent(m[1]);
    if (!access || !allowed(access, 'repository', name, 'pull')) {
      // ACR asks for `metadata_read`; the test token server grants pull/push/delete, so pull stands in.
      challenge(res, `repository:${name}:pull`);
      return 401;
    }
    if (!storage.repositories().includes(name)) {
      sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: `repository ${name} not found` }] });
      return 404;
    }
    const manifests = storage.manifests(name);
    if (m[2] === '/_manifests') {
      sendJson(res, 200, { registry: url.host, imageName: name, manifests: manifests.map((x) => acrManifestAttributes(x, storage)) });
      return 200;
    }
    const times = manifests.map((x) => x.createdTime).sort();
    sendJson(res, 200, {
      registry: url.host, imageName: name, createdTime: times[0], lastUpdateTime: times[times.length - 1],
      manifestCount: manifests.length, tagCount: manifests.reduce((n, x) => n + x.tags.length, 0),
      changeableAttributes: { deleteEnabled: true, writeEnabled: true, listEnabled: true, readEnabled: true },
    });
    return 200;
  }

  /** Everything else goes to the real registry; its token realm is replaced by ours. */
  function proxy(req: IncomingMessage, res: ServerResponse): void {
    // ACR accepts a repository's "/" encoded as %2F in /v2 paths (the Azure SDK sent it so; regman's adapter does not), distribution does not: decode it.
    const path = (req.url ?? '/').replace(/^(\/v2\/[^?]*)/, (p) => p.replace(/%2F/gi, '/'));
    const headers = { ...req.headers, host: upstream.host };
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (upRes) => {
      const out = { ...upRes.headers };
      const wa = out['www-authenticate'];
      if (typeof wa === 'string') out['www-authenticate'] = wa.replace(/realm="[^"]*"/, `realm="${facadeUrl}/oauth2/token"`);
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) sendJson(res, 502, { errors: [{ code: 'UNAVAILABLE', message: err.message }] });
      else res.destroy(err);
    });
    req.pipe(up);
  }

  const server = https.createServer({ key, cert }, (req, res) => {
    const url = new URL(req.url ?? '/', facadeUrl || 'https://127.0.0.1');
    if (url.pathname.startsWith('/oauth2/')) {
      oauth(req, res, url.pathname).catch((err: unknown) => sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: String(err) }] }));
    } else if (url.pathname.startsWith('/acr/v1/')) {
      let status = 500;
      try {
        status = acrApi(req, res, url);
      } catch (err) {
        sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: String(err) }] });
      }
      requests.push({ method: req.method ?? '', path: url.pathname, status });
    } else {
      proxy(req, res);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('ACR facade has no port');
  const host = `127.0.0.1:${addr.port}`;
  facadeUrl = `https://${host}`;

  return {
    url: facadeUrl,
    host,
    caPem: cert,
    requests,
    refreshTokens: refreshIssued,
    revokeRefreshTokens() {
      refresh.clear();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
