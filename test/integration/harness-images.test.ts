// Proves the image fixtures against the real registry, read back with skopeo as an independent client.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../helpers/registry.ts';
import {
  cosignTag,
  FixtureMediaType,
  pushCosignAttachment,
  pushCosignSignature,
  pushDockerManifestList,
  pushImage,
  pushLargeImage,
  pushOciIndex,
  pushRandomBlob,
  pushReferrer,
  pushSbomReferrer,
  sha256Digest,
  type PushedIndex,
} from '../helpers/images.ts';
import { RawPushError, RawRegistryClient } from '../helpers/raw-push.ts';
import { skopeoDigest, skopeoInspectRaw } from '../helpers/skopeo.ts';

type Json = Record<string, unknown> & {
  mediaType?: string;
  manifests?: Json[];
  layers?: Json[];
  config?: Json;
  subject?: Json;
  platform?: Json;
  annotations?: Record<string, string>;
};
const parse = (b: Buffer): Json => JSON.parse(b.toString()) as Json;

describe('image fixtures on an anonymous registry', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('pushRandomBlob: the registry serves exactly those bytes', async () => {
    const blob = await pushRandomBlob(reg, 'img/blob', 10_000);
    const res = await fetch(`${reg.url}/v2/img/blob/blobs/${blob.digest}`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(blob.data!)).toBe(true);
    expect(sha256Digest(body)).toBe(blob.digest);
  });

  it.each(['oci', 'docker'] as const)('pushImage (%s): skopeo reads the same bytes under the tag', async (format) => {
    // Act
    const img = await pushImage(reg, `img/single-${format}`, 'v1', { layers: [100, Buffer.from('fixed layer')], format, platform: 'linux/arm64' });
    // Assess
    const raw = await skopeoInspectRaw(`${reg.host}/img/single-${format}:v1`);
    expect(raw.equals(img.raw)).toBe(true);
    expect(sha256Digest(raw)).toBe(img.digest);
    const m = parse(raw);
    expect(m.mediaType).toBe(format === 'oci' ? FixtureMediaType.OciManifest : FixtureMediaType.DockerManifest);
    expect(m.layers?.map((l) => l.digest)).toEqual(img.layers.map((l) => l.digest));
    expect(img.layers[1]?.digest).toBe(sha256Digest('fixed layer'));
    const config = parse(Buffer.from(await (await fetch(`${reg.url}/v2/img/single-${format}/blobs/${img.config.digest}`)).arrayBuffer()));
    expect(config).toMatchObject({ os: 'linux', architecture: 'arm64' });
  });

  it('pushImage without a tag pushes by digest only', async () => {
    const img = await pushImage(reg, 'img/untagged', undefined);
    expect(await skopeoDigest(`${reg.host}/img/untagged@${img.digest}`)).toBe(img.digest);
    // distribution answers NAME_UNKNOWN for a repository without tags
    const tags = await fetch(`${reg.url}/v2/img/untagged/tags/list`);
    expect(tags.status).toBe(404);
    expect(await tags.text()).toContain('NAME_UNKNOWN');
  });

  async function assessIndex(idx: PushedIndex, repo: string, indexType: string, childType: string): Promise<void> {
    const raw = await skopeoInspectRaw(`${reg.host}/${repo}:multi`);
    expect(sha256Digest(raw)).toBe(idx.digest);
    const m = parse(raw);
    expect(m.mediaType).toBe(indexType);
    expect(m.manifests?.map((d) => d.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    for (const child of idx.children) {
      expect(child.mediaType).toBe(childType);
      expect(await skopeoDigest(`${reg.host}/${repo}@${child.digest}`)).toBe(child.digest);
      expect(child.layers[0]?.digest).toBe(idx.sharedLayer.digest);
    }
    // shared layer once, 3 own layers, 3 configs
    expect(idx.blobs).toHaveLength(7);
  }

  it('pushOciIndex: a 3-platform OCI index whose children share one layer', async () => {
    const idx = await pushOciIndex(reg, 'img/oci-index', 'multi');
    await assessIndex(idx, 'img/oci-index', FixtureMediaType.OciIndex, FixtureMediaType.OciManifest);
  });

  it('pushDockerManifestList: a 3-platform Docker manifest list of schema2 children', async () => {
    const idx = await pushDockerManifestList(reg, 'img/docker-list', 'multi');
    await assessIndex(idx, 'img/docker-list', FixtureMediaType.DockerManifestList, FixtureMediaType.DockerManifest);
  });

  it('pushCosignSignature: a simplesigning manifest under sha256-<hex>.sig', async () => {
    // Prepare
    const img = await pushImage(reg, 'img/signed', 'v1');
    // Act
    const sig = await pushCosignSignature(reg, 'img/signed', img.digest);
    // Assess
    expect(sig.tag).toBe(`sha256-${img.digest.slice(7)}.sig`);
    const raw = await skopeoInspectRaw(`${reg.host}/img/signed:${sig.tag}`);
    expect(sha256Digest(raw)).toBe(sig.digest);
    const layer = parse(raw).layers?.[0];
    expect(layer?.mediaType).toBe(FixtureMediaType.CosignSimpleSigning);
    expect(layer?.annotations?.['dev.cosignproject.cosign/signature']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const payload = parse(Buffer.from(await (await fetch(`${reg.url}/v2/img/signed/blobs/${String(layer?.digest)}`)).arrayBuffer()));
    expect(payload).toMatchObject({ critical: { image: { 'docker-manifest-digest': img.digest } } });
  });

  it('pushCosignAttachment: .att and .sbom tags', async () => {
    const img = await pushImage(reg, 'img/attached', 'v1');
    const att = await pushCosignAttachment(reg, 'img/attached', img.digest, 'att');
    const sbom = await pushCosignAttachment(reg, 'img/attached', img.digest, 'sbom');
    expect(att.tag).toBe(cosignTag(img.digest, 'att'));
    expect(sbom.tag).toBe(cosignTag(img.digest, 'sbom'));
    expect(await skopeoDigest(`${reg.host}/img/attached:${att.tag}`)).toBe(att.digest);
    expect(await skopeoDigest(`${reg.host}/img/attached:${sbom.tag}`)).toBe(sbom.digest);
    expect(att.layers[0]?.mediaType).toBe(FixtureMediaType.DsseEnvelope);
  });

  it('pushSbomReferrer: an OCI 1.1 artifact with subject, listed in the referrers fallback tag', async () => {
    // Prepare
    const idx = await pushOciIndex(reg, 'img/with-sbom', 'v1');
    // Act
    const sbom = await pushSbomReferrer(reg, 'img/with-sbom', idx.digest);
    const again = await pushSbomReferrer(reg, 'img/with-sbom', idx); // a descriptor works too; same bytes, listed once
    const second = await pushReferrer(reg, 'img/with-sbom', idx.digest, {
      artifactType: 'application/vnd.example.scan+json',
      data: Buffer.from('{"findings":[]}'),
      annotations: { 'org.example.kind': 'scan' },
    });
    // Assess: the artifact itself
    const raw = await skopeoInspectRaw(`${reg.host}/img/with-sbom@${sbom.digest}`);
    expect(sha256Digest(raw)).toBe(sbom.digest);
    const m = parse(raw);
    expect(m.artifactType).toBe('application/spdx+json');
    expect(m.config).toMatchObject({ mediaType: FixtureMediaType.OciEmpty, digest: sha256Digest('{}'), size: 2 });
    expect(m.subject).toEqual({ mediaType: FixtureMediaType.OciIndex, digest: idx.digest, size: idx.size });
    expect(m.layers?.[0]?.mediaType).toBe('application/spdx+json');
    // …and the fallback tag
    expect(sbom.fallbackTag).toBe(`sha256-${idx.digest.slice(7)}`);
    const fallbackRaw = await skopeoInspectRaw(`${reg.host}/img/with-sbom:${sbom.fallbackTag}`);
    expect(sha256Digest(fallbackRaw)).toBe(second.fallbackIndex.digest);
    const fallback = parse(fallbackRaw);
    expect(fallback.mediaType).toBe(FixtureMediaType.OciIndex);
    expect(fallback.manifests).toEqual([
      expect.objectContaining({ digest: sbom.digest, size: sbom.size, artifactType: 'application/spdx+json', mediaType: FixtureMediaType.OciManifest }),
      expect.objectContaining({ digest: second.digest, artifactType: 'application/vnd.example.scan+json', annotations: expect.objectContaining({ 'org.example.kind': 'scan' }) }),
    ]);
    expect(again.digest).toBe(sbom.digest);
    expect(again.fallbackIndex.digest).toBe(sbom.fallbackIndex.digest);
  });

  it('pushLargeImage: streamed layers whose bytes hash to the returned digests', async () => {
    const sizes = [5 * 1024 * 1024 + 1, 3 * 1024 * 1024, 1];
    const img = await pushLargeImage(reg, 'img/large', 'v1', sizes, { concurrency: 3 });
    expect(await skopeoDigest(`${reg.host}/img/large:v1`)).toBe(img.digest);
    expect(img.layers.map((l) => l.size)).toEqual(sizes);
    expect(new Set(img.layers.map((l) => l.digest)).size).toBe(3);
    const body = Buffer.from(await (await fetch(`${reg.url}/v2/img/large/blobs/${img.layers[0]!.digest}`)).arrayBuffer());
    expect(body.length).toBe(sizes[0]);
    expect(sha256Digest(body)).toBe(img.layers[0]!.digest);
  });

  it('manifests are indented unusually, so re-serializing clients change the digest', async () => {
    const img = await pushImage(reg, 'img/bytes', 'v1');
    expect(img.raw.toString()).toContain('\n   "schemaVersion"');
    expect(sha256Digest(JSON.stringify(JSON.parse(img.raw.toString())))).not.toBe(img.digest);
  });
});

describe('image fixtures on registries with auth', () => {
  let basicReg: RunningRegistry;
  let tokenReg: TokenRegistry;
  beforeAll(async () => {
    [basicReg, tokenReg] = await Promise.all([
      startRegistry({ htpasswd: { alice: 'a-pass' } }),
      startTokenRegistry({ users: { bob: { password: 'b-pass', access: [{ repository: 'auth/*', actions: ['pull', 'push'] }] } } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([basicReg?.stop(), tokenReg?.stop()]);
  });

  it('push with Basic credentials to an htpasswd registry; a wrong password is refused', async () => {
    const creds = { username: 'alice', password: 'a-pass' };
    const idx = await pushOciIndex(basicReg, 'auth/app', 'v1', undefined, { creds });
    expect(await skopeoDigest(`${basicReg.host}/auth/app:v1`, { creds })).toBe(idx.digest);
    await expect(pushImage(basicReg, 'auth/app', 'v2', { creds: { username: 'alice', password: 'wrong' } })).rejects.toMatchObject({ status: 401 });
    await expect(pushImage(basicReg, 'auth/app', 'v2')).rejects.toBeInstanceOf(RawPushError);
  });

  it('push through the token server: every helper works with Bearer tokens', async () => {
    const creds = { username: 'bob', password: 'b-pass' };
    const list = await pushDockerManifestList(tokenReg, 'auth/list', 'v1', ['linux/amd64', 'linux/s390x'], { creds });
    const sig = await pushCosignSignature(tokenReg, 'auth/list', list.digest, { creds });
    const sbom = await pushSbomReferrer(tokenReg, 'auth/list', list.digest, { creds });
    const large = await pushLargeImage(tokenReg, 'auth/large', 'v1', [2 * 1024 * 1024, 1024 * 1024], { creds });
    for (const [ref, digest] of [
      ['auth/list:v1', list.digest],
      [`auth/list:${sig.tag!}`, sig.digest],
      [`auth/list:${sbom.fallbackTag}`, sbom.fallbackIndex.digest],
      ['auth/large:v1', large.digest],
    ] as const) {
      expect(await skopeoDigest(`${tokenReg.host}/${ref}`, { creds })).toBe(digest);
    }
    expect(tokenReg.tokenServer.issued).toBeGreaterThan(0);
  });

  it('a fixed bearer token is used as is', async () => {
    const token = tokenReg.tokenServer.sign({
      iss: tokenReg.tokenServer.issuer,
      aud: tokenReg.tokenServer.service,
      sub: 'bob',
      exp: Math.floor(Date.now() / 1000) + 60,
      nbf: Math.floor(Date.now() / 1000) - 1,
      iat: Math.floor(Date.now() / 1000),
      access: [{ type: 'repository', name: 'auth/fixed', actions: ['pull', 'push'] }],
    });
    const issuedBefore = tokenReg.tokenServer.issued;
    const img = await pushImage(tokenReg, 'auth/fixed', 'v1', { bearer: token });
    const got = await new RawRegistryClient(tokenReg, { bearer: token }).getManifest('auth/fixed', 'v1');
    expect(got?.digest).toBe(img.digest);
    expect(tokenReg.tokenServer.issued).toBe(issuedBefore);
  });
});
