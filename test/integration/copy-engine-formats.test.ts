// copyImage between real distribution registries: every manifest format, no-op re-copy, mount, platform filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushDockerManifestList, pushImage, pushOciIndex, sha256Digest, type PushedIndex, type PushedManifest } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest, skopeoInspectRaw } from '../helpers/skopeo.ts';
import { childDigests, clientFor, codesOf, manifestStatus, rejection } from './copy-engine-support.ts';

describe('copyImage between two real registries', () => {
  let srcReg: RunningRegistry;
  let dstReg: RunningRegistry;
  let dstProxy: FaultProxy;
  let src: RegistryClient;
  let dst: RegistryClient;
  let viaProxy: RegistryClient;
  const fixtures: Record<string, PushedManifest | PushedIndex> = {};

  beforeAll(async () => {
    [srcReg, dstReg] = await Promise.all([startRegistry(), startRegistry()]);
    dstProxy = await startFaultProxy(dstReg.url);
    src = clientFor(srcReg);
    dst = clientFor(dstReg);
    viaProxy = clientFor(dstProxy);
    fixtures['oci image'] = await pushImage(srcReg, 'fmt/oci', 'v1', { layers: [1024, 2048] });
    fixtures['docker schema2 image'] = await pushImage(srcReg, 'fmt/docker', 'v1', { format: 'docker', layers: [1024, 2048] });
    fixtures['3-platform OCI index'] = await pushOciIndex(srcReg, 'fmt/index', 'v1');
    fixtures['docker manifest list'] = await pushDockerManifestList(srcReg, 'fmt/list', 'v1');
  });

  afterAll(async () => {
    src?.close();
    dst?.close();
    viaProxy?.close();
    await dstProxy?.stop();
    await Promise.all([srcReg?.stop(), dstReg?.stop()]);
  });

  it.each([
    ['oci image', 'fmt/oci'],
    ['docker schema2 image', 'fmt/docker'],
    ['3-platform OCI index', 'fmt/index'],
    ['docker manifest list', 'fmt/list'],
  ])('copies a %s with identical bytes and digests (checked by skopeo)', async (name, repo) => {
    // Prepare
    const pushed = fixtures[name] as PushedManifest;
    const children = childDigests(pushed.raw);
    // Act
    const result = await copyImage({ registry: src, repository: repo, reference: 'v1' }, { registry: dst, repository: `mirror/${repo}`, tag: 'v1' });
    // Assess
    expect(result.digest).toBe(pushed.digest);
    expect(result.mediaType).toBe(pushed.mediaType);
    expect(result.noop).toBe(false);
    expect(result.blobs.uploaded).toBeGreaterThan(0);
    const targetRaw = await skopeoInspectRaw(`${dstReg.host}/mirror/${repo}:v1`);
    expect(targetRaw.equals(pushed.raw)).toBe(true);
    expect(await skopeoDigest(`${dstReg.host}/mirror/${repo}:v1`)).toBe(await skopeoDigest(`${srcReg.host}/${repo}:v1`));
    expect(childDigests(targetRaw)).toEqual(children);
    const pairs = await Promise.all(
      children.map(async (child) => ({
        child,
        target: await skopeoInspectRaw(`${dstReg.host}/mirror/${repo}@${child}`),
        source: await skopeoInspectRaw(`${srcReg.host}/${repo}@${child}`),
      })),
    );
    for (const { child, target, source } of pairs) {
      expect(sha256Digest(target)).toBe(child);
      expect(target.equals(source)).toBe(true);
    }
    expect(result.manifests).toEqual(expect.arrayContaining([pushed.digest, ...children]));
  });

  it('a re-copy is a no-op: no blob upload and no manifest PUT reach the target', async () => {
    // Prepare: a first copy through the proxy, then forget what it saw.
    const index = fixtures['3-platform OCI index'] as PushedIndex;
    const from = { registry: src, repository: 'fmt/index', reference: 'v1' };
    const to = { registry: viaProxy, repository: 'noop/index', tag: 'v1' };
    const first = await copyImage(from, to);
    expect(first.noop).toBe(false);
    expect(dstProxy.count(Routes.blobUpload)).toBeGreaterThan(0);
    dstProxy.clearRequests();
    // Act
    const again = await copyImage(from, to);
    // Assess
    expect(again.noop).toBe(true);
    expect(again.digest).toBe(index.digest);
    expect(again.blobs).toEqual({ uploaded: 0, mounted: 0, skipped: 0 });
    expect(again.bytesUploaded).toBe(0);
    expect(dstProxy.count(Routes.blobUpload)).toBe(0);
    expect(dstProxy.count(Routes.manifestPut)).toBe(0);
    expect(dstProxy.requests.length).toBeGreaterThan(0);
    expect(await skopeoDigest(`${dstReg.host}/noop/index:v1`)).toBe(index.digest);
  });

  it('mounts blobs between repositories of one registry instead of uploading them', async () => {
    // Prepare: source and target are the same registry, both reached through the proxy.
    const sameProxy = await startFaultProxy(srcReg.url);
    const reg = clientFor(sameProxy);
    const index = fixtures['3-platform OCI index'] as PushedIndex;
    try {
      // Act
      const result = await copyImage({ registry: reg, repository: 'fmt/index', reference: 'v1' }, { registry: reg, repository: 'promoted/index', tag: 'stable' });
      // Assess
      expect(result.blobs.mounted).toBe(index.blobs.length);
      expect(result.blobs.uploaded).toBe(0);
      expect(result.bytesUploaded).toBe(0);
      expect(sameProxy.count(Routes.blobUploadChunk)).toBe(0);
      expect(sameProxy.count(Routes.blobUploadCommit)).toBe(0);
      const posts = sameProxy.requests.filter((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/'));
      expect(posts).toHaveLength(index.blobs.length);
      expect(posts.every((p) => /[?&]mount=sha256(:|%3A)/.test(p.path) && /[?&]from=fmt(\/|%2F)index/.test(p.path))).toBe(true);
      expect(await skopeoDigest(`${srcReg.host}/promoted/index:stable`)).toBe(index.digest);
    } finally {
      reg.close();
      await sameProxy.stop();
    }
  });

  it('with a platform filter copies only the chosen child of a real index and tags it', async () => {
    // Prepare
    const index = fixtures['3-platform OCI index'] as PushedIndex;
    const arm64 = index.children.find((c) => c.descriptor.platform?.architecture === 'arm64');
    const others = index.children.filter((c) => c !== arm64).map((c) => c.digest);
    expect(arm64).toBeDefined();
    // Act
    const result = await copyImage(
      { registry: src, repository: 'fmt/index', reference: 'v1' },
      { registry: dst, repository: 'arm/index', tag: 'v1' },
      { platforms: ['linux/arm64'] },
    );
    // Assess
    expect(result.digest).toBe(arm64?.digest);
    expect(await skopeoDigest(`${dstReg.host}/arm/index:v1`)).toBe(arm64?.digest);
    expect(await manifestStatus(dstReg, 'arm/index', index.digest)).toBe(404);
    for (const other of others) expect(await manifestStatus(dstReg, 'arm/index', other)).toBe(404);
    // Only the shared layer, the arm64 layer and the arm64 config moved.
    expect(result.blobs.uploaded).toBe(arm64?.blobs.length);
  });

  it('a platform the index lacks fails with NOT_FOUND naming the available ones, and tags nothing', async () => {
    // Act
    const err = await rejection(
      copyImage({ registry: src, repository: 'fmt/index', reference: 'v1' }, { registry: dst, repository: 'ppc/index', tag: 'v1' }, { platforms: ['linux/ppc64le'] }),
    );
    // Assess
    expect(codesOf(err)).toContain('NOT_FOUND');
    expect(err.message).toContain('linux/ppc64le');
    expect(err.message).toMatch(/linux\/amd64.*linux\/arm64.*linux\/arm\/v7/);
    expect(await manifestStatus(dstReg, 'ppc/index', 'v1')).toBe(404);
  });
});
