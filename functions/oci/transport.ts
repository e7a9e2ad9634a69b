// The one HTTP client every registry request goes through: auth, retries with backoff, concurrency, errors.
//
// Built on node:http/node:https with a keep-alive agent, not global fetch: fetch with a stream body
// keeps the whole upload in memory (https://github.com/nodejs/undici/issues/4058), while piping into
// node:http stays bounded.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { OciError, isOciError } from './errors.ts';
import { Authenticator, repositoryScope, type Action, type TokenFetchRequest } from './auth.ts';
import type { CredentialProvider } from './credentials.ts';
import { errorFromResponse, isRetryableStatus, MAX_ERROR_BODY_BYTES } from './http-errors.ts';
import { redact } from './redact.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, Semaphore, sleep as realSleep, type RetryPolicy } from './retry.ts';
import { DEFAULT_USER_AGENT } from './version.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * A request body. Buffers and factories can be sent again, so requests with them are retried; a
 * Readable is sent once.
 */
export type RequestBody = Buffer | Readable | (() => Readable | Promise<Readable>);

/** One registry request, described as data. */
export interface TransportRequest {
  readonly method: HttpMethod;
  /** Repository the request concerns: decides the token scope, and is named in errors. */
  readonly repository?: string;
  /** `/v2/...` relative to the registry, or an absolute URL (a Location header). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Statuses that count as success; anything else becomes an OciError. */
  readonly expect: readonly number[];
  /** Token scope actions on `repository`. @default ['pull'] */
  readonly actions?: readonly Action[];
  /** More token scopes, e.g. `repository:<from>:pull` for a mount or `registry:catalog:*`. */
  readonly scopes?: readonly string[];
  /** For messages: what is being done, e.g. `GET manifest team/app:1.0`. */
  readonly description: string;
  /** Set false for requests that must not be repeated (e.g. a PATCH whose server state moved on). @default true */
  readonly retry?: boolean;
  /** Follow 3xx redirects; to another host, without our Authorization. @default false */
  readonly followRedirects?: boolean;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The response stream; the caller must consume or destroy it. */
  readonly body: IncomingMessage;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

export interface TransportOptions {
  /** `host[:port]` of the registry API. */
  readonly host: string;
  /** Talk http:// instead of https:// (loopback registries). @default false */
  readonly plainHttp?: boolean;
  /** Accept any TLS certificate. @default false */
  readonly insecure?: boolean;
  readonly credentials?: CredentialProvider;
  /** @default `registry-manager/<version>` */
  readonly userAgent?: string;
  /** Requests in flight to this registry at once. @default 8 */
  readonly maxConcurrency?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Idle socket timeout. @default 60000 */
  readonly timeoutMs?: number;
  /** Injected in tests to observe or shorten waits. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected in tests to make jitter deterministic. */
  readonly random?: () => number;
  /**
   * Wraps every request (the blob and manifest functions and `requestBuffer` all go through
   * `request`): a registry adapter's policy, e.g. Docker Hub's pull budget, sits here without the
   * transport knowing of it. It sees each response (with its headers) and each typed error.
   */
  readonly intercept?: (next: RequestFn) => RequestFn;
}

/** One request through the transport: the shape an `intercept` wraps. */
export type RequestFn = (req: TransportRequest) => Promise<TransportResponse>;

const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** True for network failures that a retry may cure. */
export function isRetryableNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) || /socket hang up/i.test(err.message);
}

/** Reads a stream to a Buffer, at most `cap` bytes; the rest is discarded (or `onOverflow` throws). */
export async function readCapped(stream: Readable, cap: number, onOverflow?: () => Error): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    if (total + buf.length > cap) {
      if (onOverflow !== undefined) {
        stream.destroy();
        throw onOverflow();
      }
      parts.push(buf.subarray(0, cap - total));
      total = cap;
      stream.destroy();
      break;
    }
    parts.push(buf);
    total += buf.length;
  }
  return Buffer.concat(parts, total);
}

/** Consumes and discards a response so its socket returns to the keep-alive pool. */
export function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    // `complete` is not enough: the socket returns to the pool only once 'end' has been emitted,
    // which needs the stream to be read.
    if (res.readableEnded || res.destroyed) return resolve();
    res.on('end', resolve).on('error', () => resolve()).on('close', resolve);
    res.resume();
  });
}

/** Case-insensitive single header value. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Runs registry requests for one host. It owns the auth handshake (auth.ts), retries of 429/5xx and
 * network errors with backoff and Retry-After, the concurrency limit, and turning failures into
 * redacted OciErrors.
 */
export class Transport {
  readonly host: string;
  readonly baseUrl: URL;
  private readonly auth: Authenticator;
  private readonly agent: http.Agent;
  private readonly semaphore: Semaphore;
  private readonly policy: RetryPolicy;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly insecure: boolean;

  constructor(options: TransportOptions) {
    this.host = options.host;
    this.baseUrl = new URL(`${options.plainHttp ? 'http' : 'https'}://${options.host}`);
    this.insecure = options.insecure ?? false;
    // No socket cap in the agent: the semaphore bounds requests being sent, while response streams
    // being read (a blob GET piped into a PUT) hold sockets beyond it; a cap here could deadlock them.
    const agentOptions = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: Math.max(8, (options.maxConcurrency ?? 8) * 2) };
    this.agent = options.plainHttp ? new http.Agent(agentOptions) : new https.Agent({ ...agentOptions, rejectUnauthorized: !this.insecure });
    this.semaphore = new Semaphore(options.maxConcurrency ?? 8);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    const direct: RequestFn = (req) => this.requestDirect(req);
    this.request = options.intercept ? options.intercept(direct) : direct;
    this.auth = new Authenticator({
      host: options.host,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      fetchToken: (req) => this.fetchToken(req),
    });
  }

  /** Attempts in all for operations that retry above the transport (blob upload restarts). */
  get maxAttempts(): number {
    return this.policy.maxAttempts;
  }

  /** Waits the backoff before retry number `retry`, with the injected sleep and jitter. */
  backoff(retry: number): Promise<void> {
    return this.sleep(backoffDelay(retry, this.policy, this.random));
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * Runs a request and returns the response with an expected status; its body is the caller's to
   * consume. Goes through the `intercept` option when one is given.
   */
  readonly request: RequestFn;

  private async requestDirect(req: TransportRequest): Promise<TransportResponse> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body) || typeof req.body === 'function';
    const maxAttempts = req.retry === false || !replayable ? 1 : Math.max(1, this.policy.maxAttempts);
    for (let attempt = 1; ; attempt++) {
      const release = await this.semaphore.acquire();
      let res: TransportResponse;
      try {
        // The slot is held while the request (and its upload body) is sent, and released once the
        // response headers arrive: a response stream the caller reads slowly (a blob piped into an
        // upload to the same registry) must not starve the requests it waits for.
        res = await this.attempt(req);
      } catch (err) {
        release();
        if (attempt < maxAttempts && !isOciError(err) && isRetryableNetworkError(err) && !req.signal?.aborted) {
          await this.sleep(backoffDelay(attempt, this.policy, this.random));
          continue;
        }
        throw this.networkError(err, req, attempt);
      }
      release();
      if (req.expect.includes(res.status)) return res;
      // A 429 without Retry-After may say when the quota is back in `ratelimit-reset` (delta seconds,
      // https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/).
      const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after')) ?? (res.status === 429 ? parseRetryAfter(header(res.headers, 'ratelimit-reset')) : undefined);
      if (isRetryableStatus(res.status) && attempt < maxAttempts && (retryAfterMs === undefined || retryAfterMs <= this.policy.maxRetryAfterMs)) {
        await drain(res.body);
        await this.sleep(retryAfterMs ?? backoffDelay(attempt, this.policy, this.random));
        continue;
      }
      throw await this.responseError(res, req, retryAfterMs);
    }
  }

  /**
   * Runs a request and reads its whole body, at most `cap` bytes (`onOverflow` decides what happens
   * past it). A connection cut while reading is retried like one before the headers. `inspect` sees
   * the headers first, e.g. to refuse a Content-Length before reading.
   */
  async requestBuffer(
    req: TransportRequest,
    cap: number,
    onOverflow?: () => Error,
    inspect?: (res: TransportResponse) => void,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; url: URL }> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body) || typeof req.body === 'function';
    for (let attempt = 1; ; attempt++) {
      const res = await this.request(req);
      try {
        inspect?.(res);
        const body = await readCapped(res.body, cap, onOverflow);
        return { status: res.status, headers: res.headers, body, url: res.url };
      } catch (err) {
        res.body.destroy();
        if (isOciError(err)) throw err;
        if (replayable && req.retry !== false && attempt < this.policy.maxAttempts && isRetryableNetworkError(err)) {
          await this.backoff(attempt);
          continue;
        }
        throw this.networkError(err, req, attempt);
      }
    }
  }

  /** The OciError for a stream that failed while its body was being read (NETWORK, retryable when a retry may help). */
  streamError(err: unknown, description: string, repository?: string): OciError {
    return this.networkError(err, { method: 'GET', path: '', expect: [], description, ...(repository !== undefined ? { repository } : {}) }, 1);
  }

  /** Resolves a path or Location (relative or absolute) against the registry. */
  resolve(pathOrUrl: string, query?: TransportRequest['query']): URL {
    const url = new URL(pathOrUrl, this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (typeof v === 'string') url.searchParams.set(k, v);
      else for (const item of v) url.searchParams.append(k, item);
    }
    return url;
  }

  /** One try: the request, the auth handshake on 401, and redirects. */
  private async attempt(req: TransportRequest): Promise<TransportResponse> {
    const scopes = this.scopesOf(req);
    let url = this.resolve(req.path, req.query);
    let authorization = this.sameHost(url) ? await this.auth.authorization(scopes, req.repository) : undefined;
    let res = await this.send(url, req.method, req, authorization);
    // A 401 gets a fresh token (or Basic) and one more try. When that token is refused as
    // error="invalid_token" (expired on arrival: clock skew, a cached token the registry already
    // dropped), one further token is fetched before giving up.
    for (let refreshes = 0; res.statusCode === 401 && this.sameHost(url); refreshes++) {
      const challenge = header(res.headers, 'www-authenticate');
      if (refreshes >= 2 || (refreshes === 1 && !/invalid_token/.test(challenge ?? ''))) {
        const body = await readCapped(res, MAX_ERROR_BODY_BYTES);
        const why = /invalid_token/.test(challenge ?? '')
          ? 'it rejected a fresh token (error="invalid_token")'
          : /insufficient_scope/.test(challenge ?? '')
            ? `the token lacks the scope needed (${scopes.join(' ')})`
            : `it answered 401 twice (${body.toString('utf8').trim().slice(0, 200) || 'no details'})`;
        throw this.auth.unauthorized(req.repository, why);
      }
      await drain(res);
      if (req.body !== undefined && !Buffer.isBuffer(req.body) && typeof req.body !== 'function') {
        throw this.auth.unauthorized(req.repository, 'it asked for credentials after a streamed body was sent, which cannot be re-sent');
      }
      authorization = await this.auth.onUnauthorized(challenge, scopes, req.repository);
      res = await this.send(url, req.method, req, authorization);
    }
    for (let hops = 0; req.followRedirects && REDIRECT_STATUSES.has(res.statusCode ?? 0); hops++) {
      const location = header(res.headers, 'location');
      if (location === undefined || hops >= MAX_REDIRECTS) break;
      await drain(res);
      url = new URL(location, url);
      // Storage back ends (S3, GCS, CDNs) are sent no registry credentials: their URLs are pre-signed.
      if (!this.sameHost(url)) authorization = undefined;
      res = await this.send(url, 'GET', { ...req, body: undefined }, authorization);
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: res, url };
  }

  private scopesOf(req: TransportRequest): string[] {
    const scopes = [...(req.scopes ?? [])];
    if (req.repository !== undefined) scopes.unshift(repositoryScope(req.repository, req.actions ?? ['pull']));
    return scopes;
  }

  private sameHost(url: URL): boolean {
    return url.host === this.baseUrl.host;
  }

  private async send(url: URL, method: HttpMethod, req: Pick<TransportRequest, 'headers' | 'body' | 'signal'>, authorization: string | undefined): Promise<IncomingMessage> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...lowerKeys(req.headers) };
    if (authorization !== undefined) headers.authorization = authorization;
    let body: Buffer | Readable | undefined;
    if (Buffer.isBuffer(req.body)) body = req.body;
    else if (typeof req.body === 'function') body = await req.body();
    else body = req.body;
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) headers['content-length'] = '0';
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === this.baseUrl.protocol ? this.agent : undefined;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = mod.request(url, {
        method,
        headers,
        ...(agent ? { agent } : {}),
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !this.insecure } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      request.setTimeout(this.timeoutMs, () => {
        const err = new Error(`no data for ${this.timeoutMs} ms`) as NodeJS.ErrnoException;
        err.code = 'ETIMEDOUT';
        request.destroy(err);
      });
      request.once('error', reject);
      request.once('response', (res) => {
        // Network errors after this point surface on the response stream.
        request.off('error', reject);
        request.on('error', (err) => res.destroy(err));
        resolve(res);
      });
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        const stream = body;
        // A failing source (e.g. a DigestVerifier that found wrong bytes) aborts the upload with its error.
        stream.once('error', (err) => request.destroy(err));
        stream.pipe(request);
      }
    });
  }

  /** Token endpoint requests share the agent and TLS settings; 5xx and network errors are retried. */
  private async fetchToken(req: TokenFetchRequest): Promise<{ status: number; body: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.send(req.url, req.method, { headers: req.headers, ...(req.body ? { body: req.body } : {}) }, undefined);
        const status = res.statusCode ?? 0;
        const body = (await readCapped(res, MAX_ERROR_BODY_BYTES * 16)).toString('utf8');
        if (isRetryableStatus(status) && attempt < this.policy.maxAttempts) {
          await this.sleep(parseRetryAfter(header(res.headers, 'retry-after')) ?? backoffDelay(attempt, this.policy, this.random));
          continue;
        }
        return { status, body };
      } catch (err) {
        if (attempt < this.policy.maxAttempts && isRetryableNetworkError(err)) {
          await this.sleep(backoffDelay(attempt, this.policy, this.random));
          continue;
        }
        throw new OciError(redact(`could not reach the token server ${req.url.origin} of registry ${this.host}: ${(err as Error).message}`), {
          code: 'NETWORK', retryable: isRetryableNetworkError(err), cause: err, registry: this.host,
        });
      }
    }
  }

  private async responseError(res: TransportResponse, req: TransportRequest, retryAfterMs: number | undefined): Promise<OciError> {
    const body = req.method === 'HEAD' ? '' : (await readCapped(res.body, MAX_ERROR_BODY_BYTES).catch(() => Buffer.alloc(0))).toString('utf8');
    if (req.method === 'HEAD') await drain(res.body);
    return errorFromResponse({
      status: res.status,
      body,
      host: this.host,
      ...(req.repository !== undefined ? { repository: req.repository } : {}),
      description: req.description,
      ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
    });
  }

  private networkError(err: unknown, req: TransportRequest, attempts: number): OciError {
    if (isOciError(err)) return err;
    const e = err as NodeJS.ErrnoException;
    if (e?.name === 'AbortError') {
      return new OciError(`${req.description} on ${this.host} was aborted`, { code: 'NETWORK', cause: err, registry: this.host });
    }
    const what = e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    return new OciError(
      redact(`${req.description} on ${this.host}${req.repository ? ` (repository ${req.repository})` : ''} failed${tries}: ${what}. Check that ${this.host} is reachable and retry.`),
      { code: 'NETWORK', retryable: isRetryableNetworkError(err), cause: err, registry: this.host },
    );
  }
}

function lowerKeys(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}
