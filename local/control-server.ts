// The local stack's HTTP listener on 127.0.0.1: registry notification webhooks in, reconcile and retention on demand, a health check.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizeControlRequest, controlHeaders, isStateChanging } from './control-auth.ts';

/** Larger bodies are refused: a notification envelope holds a handful of small events. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ControlServerOptions {
  /** Called after the 200 went out: the registry must not wait for the replication. */
  readonly onNotification: (registry: string, envelope: unknown) => void;
  /** `POST /reconcile`: runs a reconcile and answers with its report as JSON. */
  readonly onReconcile: () => Promise<unknown>;
  /** `POST /retention[?apply=1]`: runs a retention sweep (dry run unless apply) and answers with the reports. */
  readonly onRetention?: (apply: boolean) => Promise<unknown>;
  /**
   * More routes (e.g. the promotion API, local/promotion-routes.ts), behind the same token check:
   * answer with a status and a JSON body, or undefined to fall through to the routes here.
   */
  readonly routes?: (request: ControlRequest) => Promise<ControlResponse | undefined>;
  /** The per-start secret every state-changing request must carry (`Authorization: Bearer <token>`): see control-auth.ts. */
  readonly controlToken: string;
  /**
   * Path prefixes whose state-changing requests authenticate otherwise (a signed link plus a CSRF
   * token, as the approval pages do) and so skip the bearer-token check. Everything else is checked.
   * @default []
   */
  readonly exemptPathPrefixes?: readonly string[];
  /** The web console (approval pages, read-only lists): answers true when it served the request. */
  readonly onConsole?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly log: (line: string) => void;
}

export interface ControlRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** The request body (read only for methods that carry one). */
  readonly body: () => Promise<Buffer>;
}

export interface ControlResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface ControlServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The URL a registry's notifications go to. */
  notifyUrlFor(registry: string): string;
  /** The headers a registry's notification config sends (the bearer token). */
  readonly notifyHeaders: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Routes:
 * - `POST /notifications/<registry>`: a distribution notification envelope; answered 200 at once.
 * - `POST /reconcile`: reconcile now; 200 with the report, 500 with `{ error }`.
 * - `POST /retention[?apply=1]`: a retention sweep now (dry run unless `apply=1`/`true`); 200 with the reports.
 * - `GET /health`: 200 `{"ok":true}`.
 *
 * Every state-changing request (any method but GET/HEAD/OPTIONS, on any route, present or future)
 * needs `Authorization: Bearer <controlToken>` and must not come cross-origin from a browser: 401/403
 * otherwise, before the body is read. `exemptPathPrefixes` opt a route family out.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const server = createServer((req, res) => {
    route(req, res, options).catch((err: unknown) => {
      options.log(`control: ${req.method} ${req.url} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    notifyUrlFor: (registry) => `${url}/notifications/${encodeURIComponent(registry)}`,
    notifyHeaders: controlHeaders(options.controlToken),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Registries keep their webhook connections alive; close() would wait for them.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

async function route(req: IncomingMessage, res: ServerResponse, options: ControlServerOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = url.pathname;
  if (isStateChanging(req.method) && !(options.exemptPathPrefixes ?? []).some((p) => path.startsWith(p))) {
    if (!authorizeControlRequest(req, res, options.controlToken)) return;
  }
  if (options.routes) {
    const answer = await options.routes({ method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body: () => readBody(req) });
    if (answer) {
      send(res, answer.status, answer.body);
      return;
    }
  }
  const notification = /^\/notifications\/([^/]+)$/.exec(path);
  if (req.method === 'POST' && notification) {
    const body = await readBody(req);
    let envelope: unknown;
    try {
      envelope = JSON.parse(body.toString('utf8'));
    } catch {
      // A 4xx would make distribution retry the same bad body forever: log it and accept it.
      options.log(`notifications: ignored a body that is not JSON (${body.length} bytes)`);
      send(res, 200, { accepted: 0 });
      return;
    }
    send(res, 200, { accepted: true });
    options.onNotification(decodeURIComponent(notification[1]!), envelope);
    return;
  }
  if (req.method === 'POST' && path === '/reconcile') {
    await readBody(req);
    try {
      send(res, 200, await options.onReconcile());
    } catch (err) {
      send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  if (req.method === 'POST' && path === '/retention' && options.onRetention) {
    await readBody(req);
    const apply = ['1', 'true', 'yes'].includes((url.searchParams.get('apply') ?? '').toLowerCase());
    try {
      send(res, 200, await options.onRetention(apply));
    } catch (err) {
      send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  if (req.method === 'GET' && path === '/health') {
    send(res, 200, { ok: true });
    return;
  }
  if (options.onConsole && (await options.onConsole(req, res))) return;
  send(res, 404, { error: `no route ${req.method} ${path}; try POST /reconcile, POST /retention[?apply=1] or GET /health` });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
