// A streaming reverse proxy in front of a test registry that counts requests and injects faults on demand.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';

/** An HTTP method, or several. */
export type MethodMatch = string | readonly string[];

/** Which requests a rule or a count applies to: every given part must match. */
export interface Route {
  readonly method?: MethodMatch;
  /** Tested against the request's path and query, e.g. `/v2/app/blobs/uploads/uuid?_state=…`. */
  readonly path?: RegExp;
}

const BLOB = /^\/v2\/.+\/blobs\/[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+(?:\?.*)?$/;
const UPLOAD = /^\/v2\/.+\/blobs\/uploads\//;
const MANIFEST = /^\/v2\/.+\/manifests\/[^/?]+(?:\?.*)?$/;

/** Named routes of the distribution API, for `inject({ ...Routes.blobGet, fault })` and `count(Routes.blobUpload)`. */
export const Routes = {
  blobGet: { method: 'GET', path: BLOB },
  blobHead: { method: 'HEAD', path: BLOB },
  /** Every request of an upload: POST (start or mount), PATCH (chunks) and PUT (commit). */
  blobUpload: { method: ['POST', 'PATCH', 'PUT'], path: UPLOAD },
  blobUploadStart: { method: 'POST', path: UPLOAD },
  blobUploadChunk: { method: 'PATCH', path: UPLOAD },
  blobUploadCommit: { method: 'PUT', path: UPLOAD },
  manifestGet: { method: 'GET', path: MANIFEST },
  manifestHead: { method: 'HEAD', path: MANIFEST },
  manifestPut: { method: 'PUT', path: MANIFEST },
  manifestDelete: { method: 'DELETE', path: MANIFEST },
  tagsList: { method: 'GET', path: /^\/v2\/.+\/tags\/list(?:\?.*)?$/ },
} as const satisfies Record<string, Route>;

/** What happens to a matched request. */
export type Fault =
  /** Answer at once with this status (and `Retry-After`), without contacting the target. */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: number; readonly headers?: Readonly<Record<string, string>> }
  /**
   * Reset the TCP connection (RST) after `afterBytes` bytes of the body: of the target's response by
   * default (a blob GET dies mid-stream), or of the client's request with `side: 'request'` (an upload
   * dies mid-PATCH; the first `afterBytes` bytes did reach the target).
   */
  | { readonly kind: 'reset-mid-body'; readonly afterBytes: number; readonly side?: 'response' | 'request' }
  /** Send the target's headers (full Content-Length) and `afterBytes` bytes of its body, then close cleanly. */
  | { readonly kind: 'truncate'; readonly afterBytes: number }
  /** Forward, pacing the response body (or the request body with `side: 'request'`) to this rate. */
  | { readonly kind: 'slow'; readonly bytesPerSecond: number; readonly side?: 'response' | 'request' }
  /** Answer 401 with the target's Bearer challenge plus `error="invalid_token"`, as for an expired token. */
  | { readonly kind: 'expired-token' };

export interface FaultRule extends Route {
  /** How many matching requests get the fault; default 1 (use Infinity for all). */
  readonly times?: number;
  /** Let the first N matching requests through untouched; default 0. */
  readonly after?: number;
  readonly fault: Fault;
}

/** A handle on an injected rule. */
export interface InjectedFault {
  /** Requests that matched the rule so far. */
  readonly seen: number;
  /** Requests that got the fault so far. */
  readonly fired: number;
  remove(): void;
}

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly path: string;
  /** Status sent to the client; 0 while unanswered or when the connection was reset before headers. */
  readonly status: number;
  /** The fault applied to this request, if any. */
  readonly fault?: Fault['kind'];
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41236: use it wherever the registry URL would go. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The registry behind the proxy. */
  readonly target: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  inject(rule: FaultRule): InjectedFault;
  /** Requests received that match: `count('PATCH', /blobs\/uploads/)` or `count(Routes.blobUpload)`. */
  count(route?: Route | MethodMatch, path?: RegExp): number;
  /** Forgets the requests received (rules stay). */
  clearRequests(): void;
  /** Removes every rule (requests stay). */
  clearFaults(): void;
  /** Removes every rule and forgets the requests. */
  reset(): void;
  /**
   * Resolves once no request is being forwarded: every upstream request has its response (or was
   * aborted). A request whose whole body arrived is delivered even if its client dies before the
   * answer, as on a real network, so after `idle()` the target holds everything it will ever commit.
   */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

function methodMatches(want: MethodMatch | undefined, method: string): boolean {
  if (want === undefined) return true;
  return typeof want === 'string' ? want.toUpperCase() === method : want.some((m) => m.toUpperCase() === method);
}

function routeMatches(route: Route, method: string, path: string): boolean {
  return methodMatches(route.method, method) && (route.path === undefined || route.path.test(path));
}

/** Paces a stream to a byte rate, in slices of about 50 ms. */
class Throttle extends Transform {
  constructor(private readonly bytesPerSecond: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const slice = Math.max(1, Math.floor(this.bytesPerSecond / 20));
    let offset = 0;
    const step = (): void => {
      if (offset >= chunk.length) return done();
      const part = chunk.subarray(offset, offset + slice);
      offset += part.length;
      this.push(part);
      setTimeout(step, (part.length / this.bytesPerSecond) * 1000);
    };
    step();
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/** The repository and actions a request needs, for the `scope` of a synthetic challenge. */
function scopeOf(method: string, path: string): string | undefined {
  const m = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(path);
  if (!m) return undefined;
  const actions = method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' ? 'delete' : 'pull,push';
  return `repository:${m[1]}:${actions}`;
}

/**
 * Starts a reverse proxy on a free loopback port in front of `targetUrl`. Bodies stream through in both
 * directions; absolute `Location` headers that point at the target are rewritten to the proxy.
 *
 * @example
 * const proxy = await startFaultProxy(reg.url);
 * proxy.inject({ ...Routes.blobGet, fault: { kind: 'status', status: 429, retryAfter: 1 } });
 * // … run the client against proxy.url …
 * expect(proxy.count(Routes.blobUpload)).toBe(0);
 */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const targetOrigin = target.origin;
  const agent = new Agent({ keepAlive: true });
  const rules: { rule: FaultRule; seen: number; fired: number }[] = [];
  const requests: { method: string; path: string; status: number; fault?: Fault['kind'] }[] = [];
  let proxyOrigin = '';
  let challenge: Promise<string> | undefined;
  // Upstream requests not yet finished, and who waits for there to be none.
  let forwarding = 0;
  let idleWaiters: (() => void)[] = [];
  const forwardEnded = (): void => {
    forwarding--;
    if (forwarding > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  /** The target's Bearer challenge parameters (realm, service), read once from `GET /v2/`. */
  function targetChallenge(): Promise<string> {
    challenge ??= fetch(`${targetOrigin}/v2/`).then(async (res) => {
      await res.arrayBuffer();
      const header = res.headers.get('www-authenticate') ?? '';
      const params = [...header.matchAll(/(realm|service)="([^"]*)"/g)].map((m) => `${m[1]}="${m[2]}"`);
      return params.length > 0 ? params.join(',') : `realm="${targetOrigin}/token",service="${target.host}"`;
    });
    return challenge;
  }

  function pickFault(method: string, path: string): Fault | undefined {
    let chosen: Fault | undefined;
    for (const r of rules) {
      if (!routeMatches(r.rule, method, path)) continue;
      r.seen++;
      if (chosen === undefined && r.seen > (r.rule.after ?? 0) && r.fired < (r.rule.times ?? 1)) {
        r.fired++;
        chosen = r.rule.fault;
      }
    }
    return chosen;
  }

  function resetSocket(res: ServerResponse): void {
    // Let the bytes already written leave before the RST, so the client sees a body cut mid-way.
    setTimeout(() => res.socket?.resetAndDestroy(), 20);
  }

  /** Writes the body until `limit` bytes, then calls `cut` instead of ending normally. */
  function cutBody(upRes: IncomingMessage, res: ServerResponse, limit: number, cut: () => void): void {
    let sent = 0;
    let done = false;
    res.flushHeaders();
    const finish = (): void => {
      if (done) return;
      done = true;
      upRes.destroy();
      cut();
    };
    upRes.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = limit - sent;
      if (chunk.length < room) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          upRes.pause();
          res.once('drain', () => upRes.resume());
        }
        return;
      }
      sent = limit;
      res.write(chunk.subarray(0, room), finish);
    });
    upRes.on('end', finish);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const entry: (typeof requests)[number] = { method, path, status: 0 };
    requests.push(entry);
    const fault = pickFault(method, path);
    if (fault) entry.fault = fault.kind;
    const send = (status: number, headers: Record<string, string | number>, body: string): void => {
      req.resume();
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };

    if (fault?.kind === 'status') {
      const code = fault.status === 429 ? 'TOOMANYREQUESTS' : fault.status >= 500 ? 'UNAVAILABLE' : 'UNKNOWN';
      const headers: Record<string, string | number> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      Object.assign(headers, fault.headers);
      send(fault.status, headers, JSON.stringify({ errors: [{ code, message: `injected ${fault.status}` }] }));
      return;
    }
    if (fault?.kind === 'expired-token') {
      void targetChallenge().then((params) => {
        const scope = scopeOf(method, path);
        const header = `Bearer ${params}${scope ? `,scope="${scope}"` : ''},error="invalid_token"`;
        const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required (injected: token expired)' }] });
        send(401, { 'www-authenticate': header }, body);
      });
      return;
    }

    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    headers.host = target.host;
    const upReq = httpRequest({ host: target.hostname, port: target.port, method, path, headers, agent });
    forwarding++;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      forwardEnded();
    };
    upReq.on('close', end);

    upReq.on('error', () => {
      if (!res.headersSent && !res.destroyed) {
        send(502, {}, JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'fault proxy: target unreachable' }] }));
      } else {
        res.destroy();
      }
    });
    let answered = false;
    res.on('close', () => {
      // A client gone mid-body: the target must not get the rest. A client gone after the proxy had read
      // the whole request (killed while waiting for the answer): the target still answers it (the registry
      // would finish a commit anyway), and `idle()` waits for that answer. A client gone while the answer
      // streams: nothing is left to wait for.
      // `readableEnded`, not `complete`: `complete` is set once the body is parsed, while a slow pipe (the
      // throttle) may still hold unread chunks in `req`; destroying the socket drops them, `end` never
      // comes, and the target would wait for the rest of the body forever (so would `idle()`).
      if (!res.writableFinished && (!req.readableEnded || answered)) upReq.destroy();
    });

    upReq.on('response', (upRes) => {
      answered = true;
      if (res.destroyed) {
        entry.status = upRes.statusCode ?? 502;
        upRes.resume();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      }
      const location = out.location;
      if (typeof location === 'string' && location.startsWith(targetOrigin)) {
        out.location = proxyOrigin + location.slice(targetOrigin.length);
      }
      const status = upRes.statusCode ?? 502;
      entry.status = status;
      res.writeHead(status, out);
      upRes.on('error', () => res.destroy());
      if (fault?.kind === 'reset-mid-body' && (fault.side ?? 'response') === 'response') {
        cutBody(upRes, res, fault.afterBytes, () => resetSocket(res));
      } else if (fault?.kind === 'truncate') {
        // A clean FIN while the client still expects Content-Length bytes.
        cutBody(upRes, res, fault.afterBytes, () => res.socket?.end());
      } else if (fault?.kind === 'slow' && (fault.side ?? 'response') === 'response') {
        upRes.pipe(new Throttle(fault.bytesPerSecond)).pipe(res);
      } else {
        upRes.pipe(res);
      }
    });

    if (fault?.kind === 'reset-mid-body' && fault.side === 'request') {
      let got = 0;
      let done = false;
      const cut = (): void => {
        if (done) return;
        done = true;
        req.pause();
        setTimeout(() => {
          upReq.destroy();
          res.socket?.resetAndDestroy();
        }, 20);
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        const room = fault.afterBytes - got;
        if (chunk.length < room) {
          got += chunk.length;
          if (!upReq.write(chunk)) {
            req.pause();
            upReq.once('drain', () => req.resume());
          }
          return;
        }
        got = fault.afterBytes;
        upReq.write(chunk.subarray(0, room), cut);
      });
      req.on('end', cut);
    } else if (fault?.kind === 'slow' && fault.side === 'request') {
      req.pipe(new Throttle(fault.bytesPerSecond)).pipe(upReq);
    } else {
      req.pipe(upReq);
    }
  }

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fault proxy has no port');
  proxyOrigin = `http://127.0.0.1:${addr.port}`;

  return {
    url: proxyOrigin,
    host: `127.0.0.1:${addr.port}`,
    port: addr.port,
    target: targetOrigin,
    requests,
    inject(rule: FaultRule): InjectedFault {
      const r = { rule, seen: 0, fired: 0 };
      rules.push(r);
      return {
        get seen() {
          return r.seen;
        },
        get fired() {
          return r.fired;
        },
        remove() {
          const i = rules.indexOf(r);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    count(route?: Route | MethodMatch, path?: RegExp): number {
      const r: Route = typeof route === 'string' || Array.isArray(route) ? { method: route, path } : { ...(route as Route | undefined), ...(path ? { path } : {}) };
      return requests.filter((e) => routeMatches(r, e.method, e.path)).length;
    },
    clearRequests() {
      requests.length = 0;
    },
    clearFaults() {
      rules.length = 0;
    },
    reset() {
      rules.length = 0;
      requests.length = 0;
    },
    idle() {
      return forwarding === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
