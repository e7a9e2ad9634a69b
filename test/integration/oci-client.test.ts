import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
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

async function pushBlob(reg: RegistryClient, repo: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const blob = { digest: sha256Digest(data), size: data.length };
  await reg.blobPut(repo, blob, Readable.from([data]));
  return blob;
}

/** Pushes an OCI image manifest with the empty config and one layer; returns raw bytes and digest. */
async function pushImage(reg: RegistryClient, repo: string, tag: string, mediaType: string = MediaType.OciManifest) {
  const docker = mediaType === MediaType.DockerManifest;
  const config = docker ? Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}') : Buffer.from('{}');
  const layer = randomBytes(1024);
  const c = await pushBlob(reg, repo, config);
  const l = await pushBlob(reg, repo, layer);
  const raw = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: docker ? MediaType.DockerConfig : MediaType.OciEmpty, ...c },
      layers: [{ mediaType: docker ? MediaType.DockerLayer : MediaType.OciLayer, ...l }],
    }),
  );
  const digest = await reg.manifestPut(repo, tag, { raw, mediaType });
  return { raw, digest, layer: l };
}

describe('RegistryClient against an anonymous distribution registry', () => {
  let registry: RunningRegistry;
  let reg: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    reg = new RegistryClient({ host: registry.host, plainHttp: true });
  });
  afterAll(async () => {
    reg?.close();
    await registry?.stop();
  });

  it('answers ping', async () => {
    await expect(reg.ping()).resolves.toBeUndefined();
  });

  it('pushes a blob monolithically, HEADs it and streams it back with the same sha256', async () => {
    // Prepare
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const digest = sha256Digest(data);
    // Act
    await reg.blobPut('mono/blob', { digest, size: data.length }, Readable.from([data]));
    const size = await reg.blobHead('mono/blob', digest);
    const back = await reg.blobGet('mono/blob', digest, { expectedSize: data.length });
    // Assess
    expect(size).toBe(data.length);
    expect(back.size).toBe(data.length);
    expect(await sha256OfStream(back.stream)).toBe(digest);
  });

  it('pushes a 5 MiB blob in 1 MiB PATCH chunks, reporting progress', async () => {
    // Prepare
    const data = randomBytes(5 * 1024 * 1024 + 5);
    const digest = sha256Digest(data);
    const progress: number[] = [];
    // Act
    await reg.blobPut('chunked/blob', { digest, size: data.length }, bufferOpener(data), {
      chunkSize: 1024 * 1024,
      onBytes: (n) => progress.push(n),
    });
    const back = await reg.blobGet('chunked/blob', digest);
    // Assess
    expect(progress).toHaveLength(6);
    expect(progress.at(-1)).toBe(data.length);
    expect(await sha256OfStream(back.stream)).toBe(digest);
  });

  it('reads a blob from an offset with a Range request', async () => {
    const data = randomBytes(4096);
    const { digest } = await pushBlob(reg, 'ranged/blob', data);
    const back = await reg.blobGet('ranged/blob', digest, { offset: 1000 });
    const chunks: Buffer[] = [];
    for await (const c of back.stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(1000))).toBe(true);
    expect(back.size).toBe(4096);
  });

  it('fails the stream with DIGEST_MISMATCH when the registry serves corrupted bytes', async () => {
    // Prepare: store a blob, then flip bytes in the registry's own storage file (same length).
    const data = randomBytes(2048);
    const { digest } = await pushBlob(reg, 'corrupt/blob', data);
    const hex = digest.slice('sha256:'.length);
    const file = join(registry.rootDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const corrupted = Buffer.from(data);
    corrupted[100] = (corrupted[100] ?? 0) ^ 0xff;
    writeFileSync(file, corrupted);
    // Act
    const back = await reg.blobGet('corrupt/blob', digest, { expectedSize: data.length });
    // Assess: the bytes flow, then the stream errors instead of ending.
    const err = await sha256OfStream(back.stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe('DIGEST_MISMATCH');
    expect((err as OciError).message).toContain(digest);
  });

  it('fails with SIZE_MISMATCH when the expected size is wrong', async () => {
    const data = randomBytes(2048);
    const { digest } = await pushBlob(reg, 'size/blob', data);
    await expect(reg.blobGet('size/blob', digest, { expectedSize: 4096 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
  });

  it('returns undefined for a blob HEAD that is not there, and BLOB_UNKNOWN for its GET', async () => {
    const missing = sha256Digest(randomBytes(8));
    expect(await reg.blobHead('none/blob', missing)).toBeUndefined();
    await expect(reg.blobGet('none/blob', missing)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN', status: 404 });
  });

  it('rejects an upload whose bytes do not match the digest, and stores nothing', async () => {
    const data = randomBytes(1000);
    const wrong = sha256Digest(randomBytes(1000));
    await expect(reg.blobPut('bad/upload', { digest: wrong, size: data.length }, Readable.from([data]))).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    expect(await reg.blobHead('bad/upload', wrong)).toBeUndefined();
  });

  it('puts, heads, gets and deletes an OCI manifest with an empty config', async () => {
    // Act
    const { raw, digest } = await pushImage(reg, 'app/oci', 'v1');
    const head = await reg.manifestHead('app/oci', 'v1');
    const got = await reg.manifestGet('app/oci', 'v1');
    const byDigest = await reg.manifestGet('app/oci', digest);
    // Assess
    expect(digest).toBe(sha256Digest(raw));
    expect(head).toEqual({ mediaType: MediaType.OciManifest, digest, size: raw.length });
    expect(got.raw.equals(raw)).toBe(true);
    expect(got).toMatchObject({ kind: 'image', digest, mediaType: MediaType.OciManifest, artifactType: MediaType.OciEmpty });
    expect(byDigest.digest).toBe(digest);
    // Delete by digest; the tag goes with it.
    await reg.manifestDelete('app/oci', digest);
    expect(await reg.manifestHead('app/oci', digest)).toBeUndefined();
    expect(await reg.manifestHead('app/oci', 'v1')).toBeUndefined();
    await expect(reg.manifestGet('app/oci', 'v1')).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN', status: 404 });
  });

  it('puts and gets a Docker schema2 manifest byte for byte', async () => {
    const { raw, digest, layer } = await pushImage(reg, 'app/docker', 'v2', MediaType.DockerManifest);
    const got = await reg.manifestGet('app/docker', 'v2');
    expect(got.raw.equals(raw)).toBe(true);
    expect(got).toMatchObject({ kind: 'image', digest, mediaType: MediaType.DockerManifest });
    expect(got.artifactType).toBeUndefined();
    expect(got.layers[0]?.digest).toBe(layer.digest);
  });

  it('refuses to delete by tag before asking the registry', async () => {
    await expect(reg.manifestDelete('app/oci', 'v1')).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
  });

  it('pushes a manifest whose blobs are missing and gets a typed error', async () => {
    const raw = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: sha256Digest('nope'), size: 4 },
        layers: [],
      }),
    );
    const err = await reg.manifestPut('app/broken', 'v1', { raw, mediaType: MediaType.OciManifest }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toMatch(/BLOB_UNKNOWN|MANIFEST_INVALID/);
    expect((err as OciError).message).toContain(registry.host);
    expect((err as OciError).message).toContain('app/broken');
  });

  it('lists tags', async () => {
    await pushImage(reg, 'app/tags', 'a');
    await pushImage(reg, 'app/tags', 'b');
    await pushImage(reg, 'app/tags', 'c');
    expect((await reg.tagList('app/tags')).sort()).toEqual(['a', 'b', 'c']);
  });

  it('lists no tags (not an error) for a repository holding only untagged manifests', async () => {
    // Prepare: a manifest pushed by digest only (its blobs mounted in); distribution then answers
    // tags/list of that repository with 404 NAME_UNKNOWN.
    const { raw, digest } = await pushImage(reg, 'app/tagged-src', 'v1');
    const doc = JSON.parse(raw.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
      expect(await reg.blobMount('app/untagged', d, 'app/tagged-src')).toBe(true);
    }
    await reg.manifestPut('app/untagged', digest, { raw, mediaType: MediaType.OciManifest });
    // Act + Assess
    expect(await reg.manifestHead('app/untagged', digest)).toBeDefined();
    expect(await reg.tagList('app/untagged')).toEqual([]);
  });

  it('lists the catalog across Link pages', async () => {
    // Prepare: a client that asks for pages of 2 so that distribution must paginate with Link.
    const repos = ['cat/r1', 'cat/r2', 'cat/r3', 'cat/r4', 'cat/r5'];
    for (const r of repos) await pushImage(reg, r, 'x');
    const pages: string[] = [];
    const small = new RegistryClient({
      host: registry.host,
      plainHttp: true,
      intercept: (next) => (req) => {
        pages.push(`${req.path}?${new URLSearchParams((req.query ?? {}) as Record<string, string>).toString()}`);
        return next(req.query?.n ? { ...req, query: { ...req.query, n: '2' } } : req);
      },
    });
    // Act
    const all = await small.catalog();
    small.close();
    // Assess
    expect(all).toEqual(expect.arrayContaining(repos));
    expect(new Set(all).size).toBe(all.length);
    expect(pages.length).toBeGreaterThan(2);
  });

  it('mounts a blob across repositories of the same registry', async () => {
    const { layer } = await pushImage(reg, 'mount/src', 'v1');
    expect(await reg.blobHead('mount/dst', layer.digest)).toBeUndefined();
    expect(await reg.blobMount('mount/dst', layer.digest, 'mount/src')).toBe(true);
    expect(await reg.blobHead('mount/dst', layer.digest)).toBe(layer.size);
  });

  it('returns false from a mount the registry declines', async () => {
    const missing = sha256Digest(randomBytes(16));
    expect(await reg.blobMount('mount/dst2', missing, 'mount/src')).toBe(false);
  });

  it('reports no referrers API on distribution 2.8 (undefined)', async () => {
    const { digest } = await pushImage(reg, 'app/refs', 'v1');
    expect(await reg.referrers('app/refs', digest)).toBeUndefined();
  });
});

describe('RegistryClient against an htpasswd registry', () => {
  let registry: RunningRegistry;
  const password = `canary-${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { alice: password } });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('round-trips a blob and a manifest with the right password', async () => {
    const reg = new RegistryClient({
      host: registry.host,
      plainHttp: true,
      credentials: new StaticCredentialProvider({ username: 'alice', password }),
    });
    await reg.ping();
    const { digest } = await pushImage(reg, 'secure/app', 'v1');
    expect((await reg.manifestGet('secure/app', 'v1')).digest).toBe(digest);
    expect(await reg.tagList('secure/app')).toEqual(['v1']);
    reg.close();
  });

  it('gives UNAUTHORIZED naming the registry, never the password, for a wrong password', async () => {
    const wrong = `${password}-wrong`;
    const reg = new RegistryClient({
      host: registry.host,
      plainHttp: true,
      credentials: new StaticCredentialProvider({ username: 'alice', password: wrong }),
    });
    const err = (await reg.manifestGet('secure/app', 'v1').catch((e: unknown) => e)) as OciError;
    reg.close();
    expect(err).toBeInstanceOf(OciError);
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(registry.host);
    expect(err.message).toContain('secure/app');
    expect(err.message).toContain(`check the credentials for ${registry.host}`.replace(/^c/, 'C'));
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(password);
  });

  it('gives UNAUTHORIZED with no credentials at all', async () => {
    const reg = new RegistryClient({ host: registry.host, plainHttp: true });
    await expect(reg.ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED', registry: registry.host });
    reg.close();
  });
});
