// The OCI client against a token-auth registry, a relative-URL registry, and faults injected by the proxy.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../helpers/registry.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../helpers/fault-proxy.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { StaticCredentialProvider } from '../../functions/oci/credentials.ts';
import { bufferOpener } from '../../functions/oci/blob.ts';
import { sha256Digest } from '../../functions/oci/digest.ts';
import { MediaType } from '../../functions/oci/media-types.ts';
import { OciError } from '../../functions/oci/errors.ts';

async function sha256OfStream(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

async function pushImage(reg: RegistryClient, repo: string, tag: string) {
  const config = Buffer.from('{}');
  const layer = randomBytes(2048);
  const c = { digest: sha256Digest(config), size: config.length };
  const l = { digest: sha256Digest(layer), size: layer.length };
  await reg.blobPut(repo, c, Readable.from([config]));
  await reg.blobPut(repo, l, Readable.from([layer]));
  const raw = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciEmpty, ...c }, layers: [{ mediaType: MediaType.OciLayer, ...l }],
  }));
  return { digest: await reg.manifestPut(repo, tag, { raw, mediaType: MediaType.OciManifest }), layer: l, raw };
}

const PASSWORD = `tok-canary-${randomBytes(6).toString('hex')}`;

describe('RegistryClient against a token-auth registry', () => {
  let reg: TokenRegistry;
  const client = (password = PASSWORD, user = 'ci'): RegistryClient =>
    new RegistryClient({ host: reg.host, plainHttp: true, credentials: new StaticCredentialProvider({ username: user, password }) });
  beforeAll(async () => {
    reg = await startTokenRegistry({
      users: {
        ci: { password: PASSWORD, access: [{ repository: 'team/**', actions: ['pull', 'push', 'delete'] }], catalog: true },
        reader: { password: 'reader-pw-1', access: [{ repository: '**', actions: ['pull'] }] },
      },
    });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('round-trips blobs, manifests, tags, mount, catalog and delete with Bearer tokens', async () => {
    // Prepare
    const c = client();
    const data = randomBytes(3 * 1024 * 1024);
    const digest = sha256Digest(data);
    // Act
    await c.ping();
    await c.blobPut('team/app', { digest, size: data.length }, bufferOpener(data), { chunkSize: 1024 * 1024 });
    const back = await c.blobGet('team/app', digest);
    const backDigest = await sha256OfStream(back.stream);
    const image = await pushImage(c, 'team/app', 'v1');
    const mounted = await c.blobMount('team/other', image.layer.digest, 'team/app');
    const tags = await c.tagList('team/app');
    const catalog = await c.catalog();
    const got = await c.manifestGet('team/app', 'v1');
    await c.manifestDelete('team/app', image.digest);
    const afterDelete = await c.manifestHead('team/app', image.digest);
    c.close();
    // Assess
    expect(backDigest).toBe(digest);
    expect(mounted).toBe(true);
    expect(tags).toEqual(['v1']);
    expect(catalog).toEqual(expect.arrayContaining(['team/app', 'team/other']));
    expect(got.raw.equals(image.raw)).toBe(true);
    expect(afterDelete).toBeUndefined();
    // Tokens are cached per scope set: far fewer tokens than requests.
    expect(reg.tokenServer.issued).toBeLessThan(12);
    const scopes = reg.tokenServer.requests.flatMap((r) => r.scopes);
    expect(scopes).toEqual(expect.arrayContaining(['repository:team/app:pull', 'repository:team/app:pull,push', 'repository:team/app:pull', 'registry:catalog:*']));
  });

  it('fetches a fresh token when the cached one has expired (401 → new token → success)', async () => {
    const c = client();
    await pushImage(c, 'team/expiry', 'v1');
    // The next token issued is already expired: the registry refuses it, the client fetches another.
    reg.tokenServer.expireNextTokens(1);
    const fresh = client();
    const before = reg.tokenServer.issued;
    const m = await fresh.manifestGet('team/expiry', 'v1');
    expect(m.kind).toBe('image');
    expect(reg.tokenServer.issued - before).toBe(2);
    c.close();
    fresh.close();
  });

  it('gives UNAUTHORIZED naming the registry and repository, never the password, for a wrong password', async () => {
    const wrong = `${PASSWORD}-nope`;
    const c = client(wrong);
    const err = (await c.manifestGet('team/app', 'v1').catch((e: unknown) => e)) as OciError;
    c.close();
    expect(err).toBeInstanceOf(OciError);
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(reg.host);
    expect(err.message).toContain('team/app');
    expect(err.message).toContain(`Check the credentials for ${reg.host}`);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(PASSWORD);
  });

  it('gives UNAUTHORIZED when the token lacks the push scope', async () => {
    const c = client('reader-pw-1', 'reader');
    const data = randomBytes(64);
    await expect(c.blobPut('team/app', { digest: sha256Digest(data), size: 64 }, Readable.from([data]))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    c.close();
  });
});

describe('RegistryClient against a registry with relative Location headers', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ relativeUrls: true });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it.each([
    ['monolithic', undefined],
    ['chunked', 256 * 1024],
  ])('uploads %s', async (_name, chunkSize) => {
    const c = new RegistryClient({ host: reg.host, plainHttp: true });
    const data = randomBytes(600 * 1024);
    const digest = sha256Digest(data);
    await c.blobPut('rel/app', { digest, size: data.length }, bufferOpener(data), chunkSize ? { chunkSize } : {});
    expect(await c.blobHead('rel/app', digest)).toBe(data.length);
    c.close();
  });
});

describe('RegistryClient through the fault proxy', () => {
  let reg: RunningRegistry;
  let proxy: FaultProxy;
  let c: RegistryClient;
  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.url);
    c = new RegistryClient({ host: proxy.host, plainHttp: true, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
  });
  afterAll(async () => {
    c?.close();
    await proxy?.stop();
    await reg?.stop();
  });

  it('resumes a chunked upload from the registry Range after a refused PATCH', async () => {
    // Prepare: the third PATCH gets a 503 without reaching the registry.
    proxy.reset();
    const data = randomBytes(5 * 1024 * 1024);
    const digest = sha256Digest(data);
    const opened: number[] = [];
    const opener = async (offset: number) => (opened.push(offset), Readable.from([data.subarray(offset)]));
    proxy.inject({ ...Routes.blobUploadChunk, after: 2, fault: { kind: 'status', status: 503 } });
    // Act
    await c.blobPut('faults/chunked', { digest, size: data.length }, opener, { chunkSize: 1024 * 1024 });
    // Assess: one status GET, the source reopened at 2 MiB, one session, and the blob intact.
    expect(opened).toEqual([0, 2 * 1024 * 1024]);
    expect(proxy.count('GET', /blobs\/uploads\//)).toBe(1);
    expect(proxy.count(Routes.blobUploadStart)).toBe(1);
    const back = await c.blobGet('faults/chunked', digest);
    expect(await sha256OfStream(back.stream)).toBe(digest);
  });

  it('restarts a chunked upload when the registry cannot resume after a reset mid-PATCH', async () => {
    // distribution 2.8 refuses to resume once part of a PATCH reached it (its signed _state offset
    // no longer matches); the client then opens a new session.
    proxy.reset();
    const data = randomBytes(5 * 1024 * 1024);
    const digest = sha256Digest(data);
    const opened: number[] = [];
    const opener = async (offset: number) => (opened.push(offset), Readable.from([data.subarray(offset)]));
    proxy.inject({ ...Routes.blobUploadChunk, after: 2, fault: { kind: 'reset-mid-body', afterBytes: 300 * 1024, side: 'request' } });
    await c.blobPut('faults/chunked2', { digest, size: data.length }, opener, { chunkSize: 1024 * 1024 });
    expect(opened[0]).toBe(0);
    expect(opened.length).toBe(2);
    expect(proxy.count('GET', /blobs\/uploads\//)).toBe(1);
    const back = await c.blobGet('faults/chunked2', digest);
    expect(await sha256OfStream(back.stream)).toBe(digest);
  });

  it('honours 429 Retry-After on a manifest GET and then succeeds', async () => {
    proxy.reset();
    const image = await pushImage(c, 'faults/app', 'v1');
    proxy.inject({ ...Routes.manifestGet, fault: { kind: 'status', status: 429, retryAfter: 1 } });
    const started = Date.now();
    const m = await c.manifestGet('faults/app', 'v1');
    expect(m.digest).toBe(image.digest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(proxy.count(Routes.manifestGet)).toBe(2);
  });

  it('retries 503 on blob HEAD, and fails with UNAVAILABLE after the attempts run out', async () => {
    proxy.reset();
    const missing = sha256Digest(randomBytes(8));
    proxy.inject({ ...Routes.blobHead, times: 2, fault: { kind: 'status', status: 503 } });
    expect(await c.blobHead('faults/app', missing)).toBeUndefined();
    proxy.inject({ ...Routes.blobHead, times: Infinity, fault: { kind: 'status', status: 500 } });
    await expect(c.blobHead('faults/app', missing)).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true, status: 500 });
    expect(proxy.count(Routes.blobHead)).toBe(3 + 5);
  });

  it('fails a truncated blob stream with a typed error', async () => {
    proxy.reset();
    const data = randomBytes(256 * 1024);
    const digest = sha256Digest(data);
    await c.blobPut('faults/trunc', { digest, size: data.length }, Readable.from([data]));
    proxy.inject({ ...Routes.blobGet, fault: { kind: 'truncate', afterBytes: 1000 } });
    const back = await c.blobGet('faults/trunc', digest, { expectedSize: data.length });
    const err = await sha256OfStream(back.stream).catch((e: unknown) => e);
    // Either the cut is seen (NETWORK, retryable) or the short count is (SIZE_MISMATCH, retryable).
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toMatch(/^(NETWORK|SIZE_MISMATCH)$/);
    expect((err as OciError).retryable).toBe(true);
    expect((err as OciError).message).toContain(digest);
  });

  it('retries a manifest GET whose body is cut mid-way', async () => {
    proxy.reset();
    const image = await pushImage(c, 'faults/cut', 'v1');
    proxy.inject({ ...Routes.manifestGet, fault: { kind: 'truncate', afterBytes: 10 } });
    const m = await c.manifestGet('faults/cut', 'v1');
    expect(m.digest).toBe(image.digest);
    expect(proxy.count(Routes.manifestGet)).toBe(2);
  });

  it('retries a monolithic upload from a reopened source after a reset mid-PUT', async () => {
    proxy.reset();
    const data = randomBytes(2 * 1024 * 1024);
    const digest = sha256Digest(data);
    proxy.inject({ ...Routes.blobUploadCommit, fault: { kind: 'reset-mid-body', afterBytes: 512 * 1024, side: 'request' } });
    await c.blobPut('faults/mono', { digest, size: data.length }, bufferOpener(data));
    expect(proxy.count(Routes.blobUploadStart)).toBe(2);
    expect(await c.blobHead('faults/mono', digest)).toBe(data.length);
  });
});
