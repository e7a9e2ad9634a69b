// Proves the fault proxy against the real registry: it forwards and counts, and every fault kind happens.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../helpers/registry.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushBlob, pushImage, sha256Digest } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

interface RawGet {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  error?: Error;
  ms: number;
}

/** A GET with node:http that reports how many bytes arrived and how the connection ended. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawGet> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let resHeaders: IncomingHttpHeaders = {};
    let settled = false;
    const done = (error?: Error): void => {
      if (settled) return;
      settled = true;
      resolve({ status, headers: resHeaders, body: Buffer.concat(chunks), error, ms: Date.now() - started });
    };
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      resHeaders = res.headers;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.complete ? undefined : new Error('incomplete body')));
      res.on('error', done);
      res.on('aborted', () => done(new Error('aborted')));
    });
    req.on('error', done);
    req.end();
  });
}

describe('fault proxy', () => {
  let reg: RunningRegistry;
  let proxy: FaultProxy;
  const blob = randomBytes(256 * 1024);
  let blobUrl: string;

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.url);
    await pushBlob(reg, 'fp/app', blob);
    blobUrl = `${proxy.url}/v2/fp/app/blobs/${sha256Digest(blob)}`;
  });
  afterEach(() => proxy.reset());
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it('forwards a whole push, rewrites upload Locations to itself, and counts by method and path', async () => {
    // Act
    const img = await pushImage(proxy, 'fp/pushed', 'v1', { layers: [1000, 2000] });
    // Assess: the image is in the registry behind the proxy
    expect(await skopeoDigest(`${reg.host}/fp/pushed:v1`)).toBe(img.digest);
    expect(proxy.count(Routes.manifestPut)).toBe(1);
    expect(proxy.count(Routes.blobUploadStart)).toBe(3); // 2 layers + config
    expect(proxy.count(Routes.blobUploadCommit)).toBe(3);
    expect(proxy.count(Routes.blobUpload)).toBe(6);
    expect(proxy.count('HEAD', /\/blobs\//)).toBe(3);
    expect(proxy.count(['PUT', 'POST'])).toBe(7);
    expect(proxy.requests.find((r) => r.method === 'PUT' && /manifests/.test(r.path))?.status).toBe(201);
    const start = await fetch(`${proxy.url}/v2/fp/pushed/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    expect(start.headers.get('location')).toMatch(new RegExp(`^${proxy.url}/v2/fp/pushed/blobs/uploads/`));
  });

  it('streams a big blob GET intact and forgets requests on reset()', async () => {
    const got = await rawGet(blobUrl);
    expect(got.error).toBeUndefined();
    expect(sha256Digest(got.body)).toBe(sha256Digest(blob));
    expect(proxy.count(Routes.blobGet)).toBe(1);
    proxy.reset();
    expect(proxy.requests).toHaveLength(0);
  });

  it('injects 429 with Retry-After once, then lets the next request through', async () => {
    // Prepare
    const rule = proxy.inject({ ...Routes.blobGet, fault: { kind: 'status', status: 429, retryAfter: 2 } });
    // Act
    const first = await fetch(blobUrl);
    const second = await fetch(blobUrl);
    // Assess
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(((await first.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('TOOMANYREQUESTS');
    expect(second.status).toBe(200);
    expect(Buffer.from(await second.arrayBuffer()).equals(blob)).toBe(true);
    expect(rule.fired).toBe(1);
    expect(proxy.requests.map((r) => [r.status, r.fault])).toEqual([
      [429, 'status'],
      [200, undefined],
    ]);
  });

  it('honours times and after: 503 on the 2nd and 3rd matching requests only', async () => {
    proxy.inject({ method: 'HEAD', path: /\/blobs\//, after: 1, times: 2, fault: { kind: 'status', status: 503 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(blobUrl, { method: 'HEAD' })).status);
    expect(statuses).toEqual([200, 503, 503, 200]);
  });

  it('also fails uploads: a 500 on the manifest PUT leaves no tag', async () => {
    proxy.inject({ ...Routes.manifestPut, fault: { kind: 'status', status: 500 } });
    await expect(pushImage(proxy, 'fp/failed', 'v1')).rejects.toMatchObject({ status: 500 });
    expect((await fetch(`${reg.url}/v2/fp/failed/tags/list`)).status).toBe(404);
  });

  it('resets the connection in the middle of a blob GET', async () => {
    proxy.inject({ ...Routes.blobGet, fault: { kind: 'reset-mid-body', afterBytes: 100_000 } });
    // Act
    const cut = await rawGet(blobUrl);
    const whole = await rawGet(blobUrl);
    // Assess
    expect(cut.status).toBe(200);
    expect(cut.error).toBeDefined();
    expect(cut.body.length).toBeLessThanOrEqual(100_000);
    expect(whole.error).toBeUndefined();
    expect(whole.body.equals(blob)).toBe(true);
    await expect(fetch(blobUrl).then(async (r) => r.arrayBuffer())).resolves.toBeDefined();
  });

  it('makes fetch fail on a reset mid-body too', async () => {
    proxy.inject({ ...Routes.blobGet, fault: { kind: 'reset-mid-body', afterBytes: 10 } });
    await expect(fetch(blobUrl).then(async (r) => r.arrayBuffer())).rejects.toThrow();
  });

  it('resets the connection in the middle of an upload, after forwarding the first bytes', async () => {
    // Prepare
    proxy.inject({ ...Routes.blobUploadChunk, fault: { kind: 'reset-mid-body', side: 'request', afterBytes: 64 * 1024 } });
    const client = new RawRegistryClient(proxy);
    const data = randomBytes(512 * 1024);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < data.length; i += 16 * 1024) yield data.subarray(i, i + 16 * 1024);
    }
    // Act
    const failed = client.pushBlobStream('fp/upload', chunks());
    // Assess
    await expect(failed).rejects.toThrow();
    expect(proxy.requests.find((r) => r.fault === 'reset-mid-body')?.method).toBe('PATCH');
    expect(await client.blobExists('fp/upload', sha256Digest(data))).toBe(false);
    const again = await client.pushBlobStream('fp/upload', chunks());
    expect(again.digest).toBe(sha256Digest(data));
  });

  it('truncates a body: the full Content-Length is announced, fewer bytes arrive, the connection closes', async () => {
    proxy.inject({ ...Routes.blobGet, fault: { kind: 'truncate', afterBytes: 1000 } });
    const got = await rawGet(blobUrl);
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(blob.length));
    expect(got.body.length).toBe(1000);
    expect(got.body.equals(blob.subarray(0, 1000))).toBe(true);
    expect(got.error).toBeDefined();
  });

  it('slows a response body down to the given rate, intact', async () => {
    proxy.inject({ ...Routes.blobGet, fault: { kind: 'slow', bytesPerSecond: 512 * 1024 } });
    const slow = await rawGet(blobUrl); // 256 KiB at 512 KiB/s ≈ 500 ms
    expect(slow.body.equals(blob)).toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(400);
  });

  it('slows a request body down to the given rate', async () => {
    proxy.inject({ ...Routes.blobUploadCommit, fault: { kind: 'slow', side: 'request', bytesPerSecond: 256 * 1024 } });
    const started = Date.now();
    const pushed = await pushBlob(proxy, 'fp/slow', randomBytes(128 * 1024)); // ≈ 500 ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${reg.url}/v2/fp/slow/blobs/${pushed.digest}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('answers 502 when the target is gone', async () => {
    const gone = await startRegistry();
    const p = await startFaultProxy(gone.url);
    await gone.stop();
    try {
      expect((await fetch(`${p.url}/v2/`)).status).toBe(502);
    } finally {
      await p.stop();
    }
  });
});

describe('fault proxy before a token registry', () => {
  let reg: TokenRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    reg = await startTokenRegistry({ users: { u: { password: 'p', access: [{ repository: '**', actions: ['*'] }] } } });
    proxy = await startFaultProxy(reg.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it("answers an expired-token 401 with the target's challenge, then works again", async () => {
    // Prepare
    const img = await pushImage(proxy, 'tp/app', 'v1', { creds: { username: 'u', password: 'p' } });
    proxy.inject({ ...Routes.manifestGet, fault: { kind: 'expired-token' } });
    const client = new RawRegistryClient(proxy, { creds: { username: 'u', password: 'p' } });
    // Act: the raw client fetches a new token on the 401 and retries
    const got = await client.getManifest('tp/app', 'v1');
    // Assess
    const expired = proxy.requests.find((r) => r.fault === 'expired-token');
    expect(expired?.status).toBe(401);
    expect(got?.digest).toBe(img.digest);
    const direct = await fetch(`${proxy.url}/v2/`);
    expect(direct.status).toBe(401);
    proxy.inject({ ...Routes.manifestGet, fault: { kind: 'expired-token' } });
    const res = await fetch(`${proxy.url}/v2/tp/app/manifests/v1`);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(res.status).toBe(401);
    expect(challenge).toContain(`realm="${reg.tokenServer.realm}"`);
    expect(challenge).toContain(`service="${reg.tokenServer.service}"`);
    expect(challenge).toContain('scope="repository:tp/app:pull"');
    expect(challenge).toContain('error="invalid_token"');
  });

  it('is usable by skopeo with credentials (token realm stays on the token server)', async () => {
    const img = await pushImage(proxy, 'tp/other', 'v1', { creds: { username: 'u', password: 'p' } });
    expect(await skopeoDigest(`${proxy.host}/tp/other:v1`, { creds: 'u:p' })).toBe(img.digest);
  });
});
