// A small client of Docker Hub's own API (hub.docker.com/v2): login, repositories, tags with metadata, tag deletion.
//
// Reference: https://docs.docker.com/reference/api/hub/latest/ . Endpoints used:
// - POST /v2/auth/token {identifier, secret} → {access_token} (a JWT valid 10 minutes; the secret is
//   a password or a personal access token), falling back to the deprecated POST /v2/users/login
//   {username, password} → {token} when the former is absent;
// - GET /v2/namespaces/{ns}/repositories?page_size=100 and
//   GET /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100, both paginated by an absolute
//   `next` URL (page_size is capped at 100);
// - DELETE /v2/namespaces/{ns}/repositories/{repo}/tags/{tag}.
import { OciError, type OciErrorCode } from '../../oci/errors.ts';
import { isPasswordCredentials, type CredentialProvider } from '../../oci/credentials.ts';
import { redact, registerSecret } from '../../oci/redact.ts';
import { parseRetryAfter, sleep as realSleep } from '../../oci/retry.ts';
import { DEFAULT_USER_AGENT } from '../../oci/version.ts';
import { jwtExpiry } from '../jwt.ts';

export { jwtExpiry };

export const DOCKER_HUB_API_URL = 'https://hub.docker.com';
/** Hub caps `page_size` at 100. */
const PAGE_SIZE = 100;
/** A page of JSON is far below this. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Refresh a JWT this long before it expires. */
const TOKEN_MARGIN_MS = 30_000;
/** When a JWT carries no readable `exp`: Hub documents 10 minutes; assume less. */
const DEFAULT_TOKEN_TTL_MS = 5 * 60_000;

/** One platform image of a tag, as Hub reports it. */
export interface HubImage {
  readonly architecture?: string | null;
  readonly os?: string | null;
  readonly variant?: string | null;
  readonly digest?: string | null;
  readonly size?: number | null;
  readonly status?: string | null;
  readonly last_pulled?: string | null;
  readonly last_pushed?: string | null;
}

/** One tag, as `GET …/tags` reports it. */
export interface HubTag {
  readonly name: string;
  readonly digest?: string | null;
  readonly media_type?: string | null;
  readonly content_type?: string | null;
  readonly full_size?: number | null;
  readonly last_updated?: string | null;
  readonly tag_last_pulled?: string | null;
  readonly tag_last_pushed?: string | null;
  readonly tag_status?: string | null;
  readonly images?: readonly HubImage[] | null;
}

/** One repository, as `GET /v2/namespaces/{ns}/repositories` reports it. */
export interface HubRepository {
  readonly name: string;
  readonly namespace?: string;
  readonly last_updated?: string | null;
  readonly is_private?: boolean;
}

interface Page<T> {
  readonly count?: number;
  readonly next?: string | null;
  readonly results?: readonly T[] | null;
}

export interface DockerHubApiOptions {
  /** @default https://hub.docker.com */
  readonly apiUrl?: string;
  readonly namespace: string;
  /** Username and password/PAT; none (or a provider that gives none) means anonymous: public repositories only. */
  readonly credentials?: CredentialProvider;
  /** Host the credential provider is asked for. @default registry-1.docker.io */
  readonly credentialHost?: string;
  readonly fetchImpl?: typeof fetch;
  readonly userAgent?: string;
  /** Attempts for 429 and 5xx answers. @default 4 */
  readonly maxAttempts?: number;
  /** A Retry-After longer than this is not waited out. @default 30000 */
  readonly maxRetryAfterMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

function codeFor(status: number): OciErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'TOO_MANY_REQUESTS';
  if (status >= 500) return 'UNAVAILABLE';
  return 'PROTOCOL';
}

function hintFor(code: OciErrorCode): string {
  switch (code) {
    case 'UNAUTHORIZED':
      return ' Check the Docker Hub username and password or personal access token.';
    case 'DENIED':
      return ' The account lacks permission; a personal access token needs the "Read, Write, Delete" scope to delete tags.';
    case 'TOO_MANY_REQUESTS':
      return ' Docker Hub is rate-limiting its API; retry later.';
    case 'UNAVAILABLE':
      return ' Docker Hub is failing; retry later.';
    default:
      return '';
  }
}


/**
 * Docker Hub's API for one namespace. Errors are OciErrors (redacted) naming the call and the status.
 *
 * @example
 * const api = new DockerHubApi({ namespace: 'myorg', credentials });
 * const tags = await api.listTags('app');
 */
export class DockerHubApi {
  readonly apiUrl: URL;
  readonly namespace: string;
  private readonly credentials: CredentialProvider | undefined;
  private readonly credentialHost: string;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private jwt: { token: string; expiresAt: number } | undefined;
  private login: Promise<string | undefined> | undefined;

  constructor(options: DockerHubApiOptions) {
    this.apiUrl = new URL(options.apiUrl ?? DOCKER_HUB_API_URL);
    this.namespace = options.namespace;
    this.credentials = options.credentials;
    this.credentialHost = options.credentialHost ?? 'registry-1.docker.io';
    this.fetchImpl = options.fetchImpl ?? globalThis.fetch;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
  }

  /** Logs in (when credentials are configured) and resolves once Hub accepted them. */
  async checkLogin(): Promise<void> {
    await this.bearer(true);
  }

  /** Repository names of the namespace (without the namespace). */
  async listRepositories(): Promise<HubRepository[]> {
    return this.paginate<HubRepository>(`/v2/namespaces/${enc(this.namespace)}/repositories`, `list repositories of ${this.namespace}`);
  }

  /** Every tag of a repository with Hub's metadata. */
  async listTags(repository: string): Promise<HubTag[]> {
    return this.paginate<HubTag>(
      `/v2/namespaces/${enc(this.namespace)}/repositories/${enc(repository)}/tags`,
      `list tags of ${this.namespace}/${repository}`,
    );
  }

  /** Deletes one tag; false when Hub says it does not exist. */
  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const res = await this.call('DELETE', this.url(`/v2/namespaces/${enc(this.namespace)}/repositories/${enc(repository)}/tags/${enc(tag)}`), {
      description: `delete tag ${this.namespace}/${repository}:${tag}`,
      expect: [200, 202, 204, 404],
    });
    return res.status !== 404;
  }

  private url(path: string, query?: Record<string, string>): URL {
    const url = new URL(path, this.apiUrl);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  /** Follows `next` links; refuses one that leaves the API's origin, since it would carry our JWT elsewhere. */
  private async paginate<T>(path: string, description: string): Promise<T[]> {
    const all: T[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = this.url(path, { page_size: String(PAGE_SIZE) });
    while (url !== undefined) {
      if (seen.has(url.href)) break; // a page that links to itself would loop forever
      seen.add(url.href);
      const res = await this.call('GET', url, { description, expect: [200] });
      let page: Page<T>;
      try {
        page = JSON.parse(res.body) as Page<T>;
      } catch (err) {
        throw new OciError(`Docker Hub API: ${description}: the answer is not JSON`, { code: 'PROTOCOL', cause: err, registry: this.apiUrl.host });
      }
      all.push(...(page.results ?? []));
      if (typeof page.next === 'string' && page.next !== '') {
        const next: URL = new URL(page.next, url);
        if (next.origin !== this.apiUrl.origin) {
          throw new OciError(`Docker Hub API: ${description}: the next page is on another origin (${next.origin}); refusing to send credentials there`, {
            code: 'PROTOCOL', registry: this.apiUrl.host,
          });
        }
        url = next;
      } else {
        url = undefined;
      }
    }
    return all;
  }

  /** A valid JWT, logging in when needed; undefined when anonymous. */
  private async bearer(force = false): Promise<string | undefined> {
    if (!force && this.jwt !== undefined && this.jwt.expiresAt - TOKEN_MARGIN_MS > this.now()) return this.jwt.token;
    this.login ??= this.doLogin().finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  private async doLogin(): Promise<string | undefined> {
    const creds = await this.credentials?.credentialsFor(this.credentialHost);
    if (creds === undefined) return undefined;
    if (!isPasswordCredentials(creds)) {
      throw new OciError('Docker Hub API login needs a username and a password or personal access token, not an identity token', { code: 'UNAUTHORIZED' });
    }
    registerSecret(creds.password);
    // POST /v2/auth/token is the current route; /v2/users/login is deprecated but still answers.
    let res = await this.call('POST', this.url('/v2/auth/token'), {
      description: 'log in (POST /v2/auth/token)', expect: [200, 201, 404, 405], anonymous: true,
      json: { identifier: creds.username, secret: creds.password },
    });
    let token: string | undefined;
    if (res.status === 404 || res.status === 405) {
      res = await this.call('POST', this.url('/v2/users/login'), {
        description: 'log in (POST /v2/users/login)', expect: [200, 201], anonymous: true,
        json: { username: creds.username, password: creds.password },
      });
      token = parseToken(res.body, 'token');
    } else {
      token = parseToken(res.body, 'access_token') ?? parseToken(res.body, 'token');
    }
    if (token === undefined) {
      throw new OciError(`Docker Hub API login for ${creds.username} answered without a token`, { code: 'PROTOCOL', registry: this.apiUrl.host });
    }
    registerSecret(token);
    this.jwt = { token, expiresAt: jwtExpiry(token) ?? this.now() + DEFAULT_TOKEN_TTL_MS };
    return token;
  }

  /** One API call: bearer auth (one re-login on 401), retries of 429/5xx with Retry-After, typed errors. */
  private async call(
    method: 'GET' | 'POST' | 'DELETE',
    url: URL,
    options: { description: string; expect: readonly number[]; json?: unknown; anonymous?: boolean },
  ): Promise<{ status: number; body: string }> {
    let relogged = false;
    for (let attempt = 1; ; attempt++) {
      const token = options.anonymous ? undefined : await this.bearer();
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method, headers, ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}) });
      } catch (err) {
        if (attempt < this.maxAttempts) {
          await this.sleep(200 * 2 ** (attempt - 1));
          continue;
        }
        throw new OciError(`Docker Hub API: ${options.description} could not reach ${this.apiUrl.host}: ${(err as Error).message}`, {
          code: 'NETWORK', retryable: true, cause: err, registry: this.apiUrl.host,
        });
      }
      const body = await readText(res);
      if (options.expect.includes(res.status)) return { status: res.status, body };
      if (res.status === 401 && token !== undefined && !relogged) {
        relogged = true;
        this.jwt = undefined;
        continue;
      }
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined, this.now());
      const retryable = res.status === 429 || res.status >= 500;
      if (retryable && attempt < this.maxAttempts && (retryAfterMs ?? 0) <= this.maxRetryAfterMs) {
        await this.sleep(retryAfterMs ?? 200 * 2 ** (attempt - 1));
        continue;
      }
      const code = codeFor(res.status);
      const words = hubMessage(body);
      throw new OciError(
        redact(`Docker Hub API: ${options.description} failed: HTTP ${res.status}${words ? ` ${words}` : ''}.${hintFor(code)}`),
        {
          code, retryable, status: res.status, registry: this.apiUrl.host,
          ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
        },
      );
    }
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function parseToken(body: string, field: string): string | undefined {
  try {
    const v = (JSON.parse(body) as Record<string, unknown>)[field];
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Hub answers errors as `{"message": …}`, `{"detail": …}` or `{"errinfo": …}`; keep it short. */
function hubMessage(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const m = j.message ?? j.detail ?? j.error;
    if (typeof m === 'string') return m.slice(0, 200);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 200);
}

async function readText(res: Response): Promise<string> {
  const buf = Buffer.from(await res.arrayBuffer());
  return buf.subarray(0, MAX_BODY_BYTES).toString('utf8');
}
