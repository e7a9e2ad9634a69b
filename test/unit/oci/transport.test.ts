import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Transport, drain, type TransportOptions } from '../../../functions/oci/transport.ts';
import { StaticCredentialProvider } from '../../../functions/oci/credentials.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { clearSecrets } from '../../../functions/oci/redact.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A loopback HTTP peer whose answers the test scripts, one handler per request in order (the last repeats). */
async function peer(handlers: Array<(req: Seen, res: ServerResponse) => void>): Promise<{ host: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
      seen.push(s);
      const handler = handlers[Math.min(seen.length - 1, handlers.length - 1)]!;
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  transports.splice(0).forEach((t) => t.close());
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
  clearSecrets();
});

function transport(host: string, extra: Partial<TransportOptions> = {}): { t: Transport; delays: number[] } {
  const delays: number[] = [];
  const t = new Transport({
    host, plainHttp: true, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    sleep: async (ms) => void delays.push(ms), random: () => 0.5, ...extra,
  });
  transports.push(t);
  return { t, delays };
}

const status = (code: number, headers: Record<string, string> = {}, body = ''): ((s: Seen, res: ServerResponse) => void) => (_s, res) => {
  res.writeHead(code, headers).end(body);
};

describe('Transport retries', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    // Prepare
    const p = await peer([status(429, { 'retry-after': '2' }), status(200, {}, 'ok')]);
    const { t, delays } = transport(p.host);
    // Act
    const res = await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'ping' });
    await drain(res.body);
    // Assess
    expect(res.status).toBe(200);
    expect(p.seen).toHaveLength(2);
    expect(delays).toEqual([2000]);
  });

  it('retries 5xx with backoff, then fails with UNAVAILABLE, retryable', async () => {
    const p = await peer([status(503, {}, JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'down for maintenance' }] }))]);
    const { t, delays } = transport(p.host);
    const err = (await t.request({ method: 'GET', repository: 'team/app', path: '/v2/team/app/manifests/1', expect: [200], description: 'GET manifest team/app:1' }).catch((e: unknown) => e)) as OciError;
    expect(err).toBeInstanceOf(OciError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true, status: 503, registry: p.host });
    expect(err.message).toContain(`GET manifest team/app:1 failed on ${p.host} (repository team/app): HTTP 503`);
    expect(err.message).toContain('down for maintenance');
    expect(p.seen).toHaveLength(3);
    expect(delays).toEqual([0, 1]); // full jitter with random 0.5 over ceilings 1 and 2 ms
  });

  it('does not wait out a Retry-After beyond the policy; it throws with retryAfterSeconds', async () => {
    const p = await peer([status(429, { 'retry-after': '3600' })]);
    const { t, delays } = transport(p.host);
    const err = (await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'ping' }).catch((e: unknown) => e)) as OciError;
    expect(err).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryable: true, retryAfterSeconds: 3600 });
    expect(p.seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('reads a 429 without Retry-After through ratelimit-reset (delta seconds, IETF RateLimit headers)', async () => {
    const p = await peer([status(429, { 'ratelimit-reset': '900', 'ratelimit-remaining': '0;w=21600' })]);
    const { t, delays } = transport(p.host);
    const err = (await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'ping' }).catch((e: unknown) => e)) as OciError;
    expect(err).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryable: true, retryAfterSeconds: 900 });
    expect(delays).toEqual([]);
  });

  it('replays a Buffer body on retry', async () => {
    const p = await peer([status(500), status(201)]);
    const { t } = transport(p.host);
    const res = await t.request({ method: 'PUT', path: '/v2/a/manifests/x', body: Buffer.from('hello'), expect: [201], description: 'put' });
    await drain(res.body);
    expect(p.seen.map((s) => s.body.toString())).toEqual(['hello', 'hello']);
  });

  it('reopens a body factory on retry', async () => {
    const p = await peer([status(502), status(201)]);
    const { t } = transport(p.host);
    let opened = 0;
    const res = await t.request({ method: 'PUT', path: '/up', body: () => (opened++, Readable.from([Buffer.from('abc')])), expect: [201], description: 'put' });
    await drain(res.body);
    expect(opened).toBe(2);
    expect(p.seen[1]!.body.toString()).toBe('abc');
  });

  it('does not retry a request whose body is a one-shot stream', async () => {
    const p = await peer([status(503), status(201)]);
    const { t } = transport(p.host);
    const err = await t.request({ method: 'PUT', path: '/up', body: Readable.from([Buffer.from('once')]), expect: [201], description: 'upload' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    expect(p.seen).toHaveLength(1);
  });

  it('retries a connection reset', async () => {
    const p = await peer([(_s, res) => res.socket?.destroy(), status(200, {}, 'fine')]);
    const { t, delays } = transport(p.host);
    const res = await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'ping' });
    await drain(res.body);
    expect(res.status).toBe(200);
    expect(delays).toHaveLength(1);
  });

  it('gives NETWORK, retryable, naming the host when nobody listens', async () => {
    const p = await peer([status(200)]);
    const host = p.host;
    await new Promise((r) => p.server.close(r));
    const { t } = transport(host);
    const err = (await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'GET /v2/' }).catch((e: unknown) => e)) as OciError;
    expect(err).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(err.message).toContain(`GET /v2/ on ${host} failed after 3 attempts: ECONNREFUSED`);
  });
});

describe('Transport auth, redaction and headers', () => {
  it('answers a Basic challenge, and never shows the password in an error', async () => {
    // Prepare: the peer echoes the password and Authorization it got in its error body.
    const password = 'canary-s3cret-9d1';
    const p = await peer([
      status(401, { 'www-authenticate': 'Basic realm="r"' }),
      (s, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({
        errors: [{ code: 'MANIFEST_INVALID', message: `bad: auth=${s.headers.authorization} pw ${password}` }],
      })),
    ]);
    const { t } = transport(p.host, { credentials: new StaticCredentialProvider({ username: 'alice', password }) });
    // Act
    const err = (await t.request({ method: 'PUT', repository: 'a/b', path: '/v2/a/b/manifests/1', body: Buffer.from('{}'), expect: [201], description: 'PUT manifest a/b:1' }).catch((e: unknown) => e)) as OciError;
    // Assess
    expect(p.seen[1]!.headers.authorization).toBe(`Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).not.toContain(password);
    expect(err.message).not.toContain(Buffer.from(`alice:${password}`).toString('base64'));
  });

  it('fetches a Bearer token with the scope; repeated 401s end in UNAUTHORIZED naming host and repository', async () => {
    const tokenServer = await peer([status(200, {}, JSON.stringify({ token: 'tok-abc-123', expires_in: 300 }))]);
    const challenge = `Bearer realm="http://${tokenServer.host}/token",service="svc",scope="repository:a/b:pull"`;
    const p = await peer([status(401, { 'www-authenticate': challenge }), status(200, {}, 'ok'), status(401, { 'www-authenticate': `${challenge},error="invalid_token"` })]);
    const { t } = transport(p.host);
    const ok = await t.request({ method: 'GET', repository: 'a/b', path: '/v2/a/b/tags/list', expect: [200], description: 'list tags' });
    await drain(ok.body);
    const err = (await t.request({ method: 'GET', repository: 'a/b', path: '/v2/a/b/tags/list', expect: [200], description: 'list tags' }).catch((e: unknown) => e)) as OciError;
    expect(p.seen[1]!.headers.authorization).toBe('Bearer tok-abc-123');
    expect(new URL(tokenServer.seen[0]!.url, 'http://x').searchParams.getAll('scope')).toEqual(['repository:a/b:pull']);
    // Second call: cached token refused as invalid_token → dropped → new token refused as
    // invalid_token → one more token → refused → UNAUTHORIZED (bounded: 3 tokens in all).
    expect(tokenServer.seen).toHaveLength(3);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', registry: p.host });
    expect(err.message).toContain(`registry ${p.host} refused access to repository a/b`);
    expect(err.message).toContain(`Check the credentials for ${p.host}`);
    expect(err.message).not.toContain('tok-abc-123');
  });

  it('gives up after one refresh when the 401 is not about an invalid token', async () => {
    const tokenServer = await peer([status(200, {}, JSON.stringify({ token: 'tok-xyz-789' }))]);
    const challenge = `Bearer realm="http://${tokenServer.host}/token",service="svc",scope="repository:a/b:pull,push"`;
    const p = await peer([status(401, { 'www-authenticate': challenge }), status(401, { 'www-authenticate': `${challenge},error="insufficient_scope"` })]);
    const { t } = transport(p.host);
    const err = (await t.request({ method: 'POST', repository: 'a/b', actions: ['pull', 'push'], path: '/v2/a/b/blobs/uploads/', expect: [202], description: 'start upload' }).catch((e: unknown) => e)) as OciError;
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(err.message).toContain('the token lacks the scope needed (repository:a/b:pull,push)');
    expect(p.seen).toHaveLength(2);
    expect(tokenServer.seen).toHaveLength(1);
  });

  it('maps 403 to DENIED', async () => {
    const p = await peer([status(403, {}, JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }))]);
    const { t } = transport(p.host);
    await expect(t.request({ method: 'DELETE', repository: 'a/b', path: '/v2/a/b/manifests/x', expect: [202], description: 'delete' })).rejects.toMatchObject({ code: 'DENIED', status: 403 });
  });

  it('follows a redirect to another host without the Authorization header', async () => {
    const storage = await peer([status(200, {}, 'blob-bytes')]);
    const p = await peer([
      status(401, { 'www-authenticate': 'Basic realm="r"' }),
      status(307, { location: `http://${storage.host}/signed/blob?sig=abc` }),
    ]);
    const { t } = transport(p.host, { credentials: new StaticCredentialProvider({ username: 'u', password: 'redirect-pw' }) });
    const res = await t.request({ method: 'GET', repository: 'a/b', path: '/v2/a/b/blobs/sha256:x', expect: [200], followRedirects: true, description: 'get blob' });
    const body = await new Promise<string>((r) => { let s = ''; res.body.on('data', (c) => (s += c)).on('end', () => r(s)); });
    expect(body).toBe('blob-bytes');
    expect(p.seen[1]!.headers.authorization).toMatch(/^Basic /);
    expect(storage.seen[0]!.headers.authorization).toBeUndefined();
    expect(res.url.host).toBe(storage.host);
  });

  it('sends the User-Agent and caps error bodies at 64 KiB', async () => {
    const p = await peer([status(400, {}, 'x'.repeat(1024 * 1024))]);
    const { t } = transport(p.host, { userAgent: 'registry-manager/test' });
    const err = (await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'ping' }).catch((e: unknown) => e)) as OciError;
    expect(p.seen[0]!.headers['user-agent']).toBe('registry-manager/test');
    expect(err.code).toBe('PROTOCOL');
    expect(err.message.length).toBeLessThan(1000);
  });

  it('resolves relative and absolute Locations against the registry', () => {
    const { t } = transport('127.0.0.1:5000');
    expect(t.resolve('/v2/a/blobs/uploads/u1?_state=s').toString()).toBe('http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=s');
    expect(t.resolve('http://other:1/x', { n: '2', scope: ['a', 'b'] }).toString()).toBe('http://other:1/x?n=2&scope=a&scope=b');
  });

  it('keeps at most maxConcurrency requests in flight', async () => {
    let active = 0;
    let peak = 0;
    const p = await peer([(_s, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => { active--; res.writeHead(200).end('x'); }, 20);
    }]);
    const { t } = transport(p.host, { maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, async () => {
      const res = await t.request({ method: 'GET', path: '/v2/', expect: [200], description: 'ping' });
      await drain(res.body);
    }));
    expect(p.seen).toHaveLength(6);
    expect(peak).toBe(2);
  });
});
