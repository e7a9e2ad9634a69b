// A fake Docker Hub for tests: Hub's API (login, repositories, tags, tag deletion) over a real token-auth registry, and a pull-counting proxy.
//
// Only the endpoints functions/registries/dockerhub-api.ts uses, shaped as documented in
// https://docs.docker.com/reference/api/hub/latest/ . Its state is the registry's own: repositories
// from `_catalog`, tags from `tags/list`, digests and sizes from the manifests. It shares no code
// with functions/ (its registry calls are plain fetch with its own token handshake).
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { IMAGE_MANIFEST_TYPES, INDEX_MANIFEST_TYPES } from '../../functions/oci/media-types.ts';

const ACCEPT = [...INDEX_MANIFEST_TYPES, ...IMAGE_MANIFEST_TYPES].join(', ');

export interface FakeHubOptions {
  /** The registry behind: its URL and an account with pull, delete and catalog rights there. */
  readonly registryUrl: string;
  readonly registryAccount: { readonly username: string; readonly password: string };
  /** Hub accounts: username → password or personal access token. */
  readonly users: Readonly<Record<string, string>>;
  /** Largest page served, whatever `page_size` asks (Hub: 100). @default 100 */
  readonly maxPageSize?: number;
  /** Serve only the deprecated POST /v2/users/login (the new /v2/auth/token answers 404). */
  readonly legacyLoginOnly?: boolean;
}

export interface FakeHubRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface FakeHub {
  readonly url: string;
  readonly requests: readonly FakeHubRequest[];
  /** Forgets the requests received. */
  clearRequests(): void;
  /** Sets what Hub reports as the last pull of a tag (`tag_last_pulled`). */
  markPulled(fullRepository: string, tag: string, at: string): void;
  /** Answers the next `count` API requests (not logins) with this status (and Retry-After). */
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  stop(): Promise<void>;
}

interface RegistryAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** A minimal token-auth registry client: on 401, a token from the challenge's realm with Basic, then once more. */
function registryClient(baseUrl: string, account: { username: string; password: string }) {
  const tokens = new Map<string, string>();
  const basic = `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;
  return async function call(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RegistryAnswer> {
    const scopeKey = `${method} ${path.split('/manifests/')[0]?.split('/tags/')[0]}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = tokens.get(scopeKey);
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body ? { body } : {}),
      });
      const buf = Buffer.from(await res.arrayBuffer());
      if (res.status !== 401 || attempt === 1) return { status: res.status, headers: res.headers, body: buf };
      const challenge = res.headers.get('www-authenticate') ?? '';
      const param = (k: string): string | undefined => new RegExp(`${k}="([^"]*)"`).exec(challenge)?.[1];
      const url = new URL(param('realm') ?? '');
      url.searchParams.set('service', param('service') ?? '');
      const scope = param('scope');
      if (scope) url.searchParams.set('scope', scope);
      const t = await fetch(url, { headers: { authorization: basic } });
      const json = (await t.json()) as { token?: string; access_token?: string };
      tokens.set(scopeKey, json.token ?? json.access_token ?? '');
    }
    throw new Error('unreachable');
  };
}

interface Parsed {
  mediaType?: string;
  config?: { size: number; digest: string };
  layers?: { size: number }[];
  manifests?: { digest: string; size: number; mediaType: string; platform?: { architecture?: string; os?: string; variant?: string } }[];
}

/**
 * Starts the fake Hub API on a free loopback port.
 *
 * @example
 * const hub = await startFakeHubApi({ registryUrl: reg.url, registryAccount: { username: 'admin', password: 'pw' }, users: { alice: 'pat' } });
 * // POST ${hub.url}/v2/auth/token {identifier: 'alice', secret: 'pat'} → {access_token}
 */
export async function startFakeHubApi(opts: FakeHubOptions): Promise<FakeHub> {
  const registry = registryClient(opts.registryUrl, opts.registryAccount);
  const issued = new Map<string, string>(); // token → user
  const firstSeen = new Map<string, string>(); // repo:tag@digest → ISO time
  const pulled = new Map<string, string>(); // repo:tag → ISO time
  const requests: FakeHubRequest[] = [];
  const maxPage = opts.maxPageSize ?? 100;
  let failures: { count: number; status: number; retryAfter?: number } | undefined;
  let origin = '';

  const manifest = async (repo: string, ref: string): Promise<{ digest: string; raw: Buffer; mediaType: string; parsed: Parsed } | undefined> => {
    const res = await registry('GET', `/v2/${repo}/manifests/${ref}`, { accept: ACCEPT });
    if (res.status !== 200) return undefined;
    const parsed = JSON.parse(res.body.toString('utf8')) as Parsed;
    return {
      digest: `sha256:${createHash('sha256').update(res.body).digest('hex')}`,
      raw: res.body,
      mediaType: res.headers.get('content-type') ?? parsed.mediaType ?? '',
      parsed,
    };
  };
  const imageSize = (p: Parsed): number => (p.config?.size ?? 0) + (p.layers ?? []).reduce((n, l) => n + l.size, 0);
  const tagList = async (repo: string): Promise<string[]> => {
    const res = await registry('GET', `/v2/${repo}/tags/list`);
    if (res.status === 404) return [];
    return ((JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null }).tags ?? []).sort();
  };

  async function tagRecord(repo: string, tag: string): Promise<Record<string, unknown> | undefined> {
    const m = await manifest(repo, tag);
    if (m === undefined) return undefined;
    const seenKey = `${repo}:${tag}@${m.digest}`;
    if (!firstSeen.has(seenKey)) firstSeen.set(seenKey, new Date().toISOString());
    const pushed = firstSeen.get(seenKey) as string;
    let images: Record<string, unknown>[];
    let fullSize: number;
    if (m.parsed.manifests !== undefined) {
      images = [];
      fullSize = 0;
      for (const child of m.parsed.manifests) {
        const c = await manifest(repo, child.digest);
        const size = c ? imageSize(c.parsed) : 0;
        fullSize += size;
        images.push({
          architecture: child.platform?.architecture ?? 'unknown', os: child.platform?.os ?? 'unknown', variant: child.platform?.variant ?? null,
          digest: child.digest, size, status: 'active', last_pushed: pushed, last_pulled: null,
        });
      }
    } else {
      fullSize = imageSize(m.parsed);
      images = [{ architecture: 'amd64', os: 'linux', variant: null, digest: m.digest, size: fullSize, status: 'active', last_pushed: pushed, last_pulled: null }];
    }
    return {
      name: tag, digest: m.digest, media_type: m.mediaType, content_type: 'image', full_size: fullSize,
      last_updated: pushed, tag_last_pushed: pushed, tag_last_pulled: pulled.get(`${repo}:${tag}`) ?? null, tag_status: 'active', images,
    };
  }

  function page<T>(items: T[], url: URL): Record<string, unknown> {
    const size = Math.min(maxPage, Math.max(1, Number(url.searchParams.get('page_size') ?? '10')));
    const n = Math.max(1, Number(url.searchParams.get('page') ?? '1'));
    const slice = items.slice((n - 1) * size, n * size);
    const more = n * size < items.length;
    const link = (p: number): string => `${origin}${url.pathname}?page=${p}&page_size=${size}`;
    return { count: items.length, next: more ? link(n + 1) : null, previous: n > 1 ? link(n - 1) : null, results: slice };
  }

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const entry = { method, path: `${url.pathname}${url.search}`, status: 0 };
    requests.push(entry);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    if (method === 'POST' && (url.pathname === '/v2/auth/token' || url.pathname === '/v2/users/login')) {
      if (url.pathname === '/v2/auth/token' && opts.legacyLoginOnly) return send(404, { message: 'not found' });
      const b = await readBody(req);
      const user = String(b.identifier ?? b.username ?? '');
      const secret = String(b.secret ?? b.password ?? '');
      if (opts.users[user] === undefined || opts.users[user] !== secret) return send(401, { detail: 'Incorrect authentication credentials' });
      // A JWT-shaped token with an `exp`, as Hub's are; signature irrelevant here.
      const claims = Buffer.from(JSON.stringify({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
      const token = `eyJhbGciOiJub25lIn0.${claims}.${randomBytes(16).toString('base64url')}`;
      issued.set(token, user);
      return send(200, url.pathname === '/v2/auth/token' ? { access_token: token } : { token });
    }

    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !issued.has(auth.slice(7))) return send(401, { detail: 'authentication credentials were not provided' });
    if (failures !== undefined && failures.count > 0) {
      failures.count--;
      return send(failures.status, { detail: 'injected failure' }, failures.retryAfter !== undefined ? { 'retry-after': String(failures.retryAfter) } : {});
    }

    let m = /^\/v2\/namespaces\/([^/]+)\/repositories\/?$/.exec(url.pathname);
    if (method === 'GET' && m) {
      const ns = decodeURIComponent(m[1] as string);
      // distribution refuses n above its maxentries (1000): page through the Link headers.
      const names: string[] = [];
      for (let path: string | undefined = '/v2/_catalog?n=1000'; path !== undefined; ) {
        const cat = await registry('GET', path);
        if (cat.status !== 200) return send(502, { message: `backend catalog answered ${cat.status}` });
        names.push(...((JSON.parse(cat.body.toString('utf8')) as { repositories?: string[] }).repositories ?? []));
        path = /<([^>]+)>;\s*rel="next"/.exec(cat.headers.get('link') ?? '')?.[1];
      }
      const all = names.filter((r) => r.startsWith(`${ns}/`)).sort();
      const results = all.map((r) => ({ name: r.slice(ns.length + 1), namespace: ns, repository_type: 'image', is_private: true, last_updated: null }));
      return send(200, page(results, url));
    }
    m = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/?$/.exec(url.pathname);
    if (method === 'GET' && m) {
      const repo = `${decodeURIComponent(m[1] as string)}/${decodeURIComponent(m[2] as string)}`;
      const tags = await tagList(repo);
      const size = Math.min(maxPage, Math.max(1, Number(url.searchParams.get('page_size') ?? '10')));
      const n = Math.max(1, Number(url.searchParams.get('page') ?? '1'));
      // Only the page's tags are read from the registry; the rest are placeholders for the count.
      const records: unknown[] = [];
      for (const tag of tags.slice((n - 1) * size, n * size)) {
        const r = await tagRecord(repo, tag);
        if (r) records.push(r);
      }
      const body = page(tags.map(() => null), url);
      return send(200, { ...body, results: records });
    }
    m = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/([^/]+)\/?$/.exec(url.pathname);
    if (method === 'DELETE' && m) {
      const repo = `${decodeURIComponent(m[1] as string)}/${decodeURIComponent(m[2] as string)}`;
      const tag = decodeURIComponent(m[3] as string);
      const target = await manifest(repo, tag);
      if (target === undefined) return send(404, { message: 'tag not found' });
      // distribution cannot untag (it refuses DELETE by tag): delete the digest, which drops every
      // tag on it, then put the manifest back under the tags that must stay.
      const keep: string[] = [];
      for (const other of await tagList(repo)) {
        if (other === tag) continue;
        const o = await manifest(repo, other);
        if (o?.digest === target.digest) keep.push(other);
      }
      const del = await registry('DELETE', `/v2/${repo}/manifests/${target.digest}`);
      if (del.status !== 202) return send(500, { message: `backend delete answered ${del.status}` });
      for (const k of keep) await registry('PUT', `/v2/${repo}/manifests/${k}`, { 'content-type': target.mediaType }, target.raw);
      return send(204, undefined);
    }
    return send(404, { message: `no route ${method} ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fake hub has no port');
  origin = `http://127.0.0.1:${addr.port}`;
  return {
    url: origin,
    requests,
    clearRequests() {
      requests.length = 0;
    },
    markPulled(fullRepository, tag, at) {
      pulled.set(`${fullRepository}:${tag}`, at);
    },
    failNext(count, status, retryAfterSeconds) {
      failures = { count, status, ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}) };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface PullLimitOptions {
  /** Pulls (manifest GETs) per window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface PullLimitProxy {
  readonly url: string;
  readonly host: string;
  /** Manifest GETs let through (each one a pull). */
  readonly pulls: number;
  /** Manifest HEADs let through (free). */
  readonly heads: number;
  /** Manifest GETs refused with 429 because the quota was spent. */
  readonly refused: number;
  stop(): Promise<void>;
}

const MANIFEST = /^\/v2\/.+\/manifests\/[^/?]+(?:\?.*)?$/;

/**
 * A reverse proxy that behaves like Docker Hub's pull limit: every manifest GET spends one pull of
 * `limit` per window (the window starts at the first pull), HEADs are free; manifest responses carry
 * `ratelimit-limit: L;w=W` and `ratelimit-remaining: R;w=W`; a GET with nothing left gets Hub's 429
 * with `Retry-After` until the window ends. Absolute Location headers of the target are rewritten.
 */
export async function startPullLimitProxy(targetUrl: string, opts: PullLimitOptions): Promise<PullLimitProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true });
  let windowStart: number | undefined;
  let used = 0;
  let pulls = 0;
  let heads = 0;
  let refused = 0;
  let origin = '';

  const remaining = (): number => {
    if (windowStart !== undefined && Date.now() - windowStart >= opts.windowSeconds * 1000) {
      windowStart = undefined;
      used = 0;
    }
    return opts.limit - used;
  };

  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const isManifest = MANIFEST.test(path) && (method === 'GET' || method === 'HEAD');
    const w = `;w=${opts.windowSeconds}`;
    if (isManifest && method === 'GET') {
      if (remaining() <= 0) {
        refused++;
        const wait = Math.max(1, Math.ceil(((windowStart ?? Date.now()) + opts.windowSeconds * 1000 - Date.now()) / 1000));
        const body = JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] });
        req.resume();
        res.writeHead(429, {
          'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'retry-after': String(wait),
          'ratelimit-limit': `${opts.limit}${w}`, 'ratelimit-remaining': `0${w}`,
        });
        res.end(body);
        return;
      }
    }
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    const up = httpRequest({ host: target.hostname, port: target.port, method, path, headers, agent }, (upRes) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive') out[k] = v;
      if (typeof out.location === 'string' && out.location.startsWith(target.origin)) out.location = origin + out.location.slice(target.origin.length);
      if (isManifest && upRes.statusCode === 200) {
        if (method === 'GET') {
          remaining();
          windowStart ??= Date.now();
          used++;
          pulls++;
        } else {
          heads++;
        }
        out['ratelimit-limit'] = `${opts.limit}${w}`;
        out['ratelimit-remaining'] = `${Math.max(0, remaining())}${w}`;
      }
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('pull-limit proxy has no port');
  origin = `http://127.0.0.1:${addr.port}`;
  return {
    url: origin,
    host: `127.0.0.1:${addr.port}`,
    get pulls() {
      return pulls;
    },
    get heads() {
      return heads;
    },
    get refused() {
      return refused;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
