// copyImage on a target that has the manifest but not the whole image: children, blobs and referrers are checked and repaired; plus the Retry-After deferral.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import { cosignTag, pushCosignSignature, pushImage, pushOciIndex, type PushedImage, type PushedIndex } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeo, skopeoDigest } from '../helpers/skopeo.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../helpers/fault-proxy.ts';
import { clientFor, codesOf, manifestStatus, rejection } from './copy-engine-support.ts';

async function del(reg: RunningRegistry, path: string): Promise<void> {
  const res = await new RawRegistryClient(reg).request('DELETE', path);
  expect(res.status).toBe(202);
}

describe('copyImage completeness check (the target has the manifest, not the image)', () => {
  let srcReg: RunningRegistry;
  let dstReg: RunningRegistry;
  let src: RegistryClient;
  let dst: RegistryClient;
  let index: PushedIndex;
  let signed: PushedImage;
  let signature: PushedImage;

  beforeAll(async () => {
    [srcReg, dstReg] = await Promise.all([startRegistry(), startRegistry()]);
    src = clientFor(srcReg);
    dst = clientFor(dstReg);
    index = await pushOciIndex(srcReg, 'team/multi', 'v1', ['linux/amd64', 'linux/arm64']);
    signed = await pushImage(srcReg, 'team/signed', 'v1');
    signature = await pushCosignSignature(srcReg, 'team/signed', signed.digest);
    await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: dst, repository: 'team/multi', tag: 'v1' });
    await copyImage({ registry: src, repository: 'team/signed', reference: 'v1' }, { registry: dst, repository: 'team/signed', tag: 'v1' });
  });

  afterAll(async () => {
    src?.close();
    dst?.close();
    await Promise.all([srcReg?.stop(), dstReg?.stop()]);
  });

  it('an intact target is a no-op with nothing repaired', async () => {
    // Act
    const result = await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: dst, repository: 'team/multi', tag: 'v1' });
    // Assess
    expect(result.noop).toBe(true);
    expect(result.repaired).toEqual({ children: [], blobs: [], referrers: [] });
  });

  it('repairs a deleted child manifest and a deleted layer of another child; skopeo copies the whole index afterwards', async () => {
    // Prepare: what ECR's untagged cleanup does under a tagged index
    const [first, second] = index.children;
    await del(dstReg, `/v2/team/multi/manifests/${first!.digest}`);
    const ownLayer = second!.layers.at(-1)!;
    await del(dstReg, `/v2/team/multi/blobs/${ownLayer.digest}`);
    expect(await manifestStatus(dstReg, 'team/multi', first!.digest)).toBe(404);
    // Act
    const result = await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: dst, repository: 'team/multi', tag: 'v1' });
    // Assess
    expect(result.noop).toBe(false);
    expect(result.repaired.children).toEqual([first!.digest]);
    expect(result.repaired.blobs).toEqual([ownLayer.digest]);
    expect(await manifestStatus(dstReg, 'team/multi', first!.digest)).toBe(200);
    expect(await skopeoDigest(`${dstReg.host}/team/multi:v1`)).toBe(index.digest);
    // skopeo reads every child and layer of the target: it fails on a hole.
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${dstReg.host}/team/multi:v1`, 'oci:/tmp/regman-completeness-check:v1']);
  });

  it('--trust-target (trustTarget) skips the check and leaves a hole in place', async () => {
    // Prepare
    const layer = index.sharedLayer;
    await del(dstReg, `/v2/team/multi/blobs/${layer.digest}`);
    // Act
    const trusted = await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: dst, repository: 'team/multi', tag: 'v1' }, { trustTarget: true });
    // Assess
    expect(trusted.noop).toBe(true);
    expect(await dst.blobHead('team/multi', layer.digest)).toBeUndefined();
    // And the default repairs it, the shared layer once.
    const repaired = await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: dst, repository: 'team/multi', tag: 'v1' });
    expect(repaired.repaired.blobs).toEqual([layer.digest]);
    expect(repaired.blobs.uploaded).toBe(1);
  });

  it('restores a deleted cosign signature and reports it as a repaired referrer', async () => {
    // Prepare
    await del(dstReg, `/v2/team/signed/manifests/${signature.digest}`);
    // Act
    const result = await copyImage({ registry: src, repository: 'team/signed', reference: 'v1' }, { registry: dst, repository: 'team/signed', tag: 'v1' });
    // Assess
    expect(result.repaired.referrers).toEqual(expect.arrayContaining([signature.digest, cosignTag(signed.digest, 'sig')]));
    expect(await skopeoDigest(`${dstReg.host}/team/signed:${cosignTag(signed.digest, 'sig')}`)).toBe(signature.digest);
  });

  it('a shared verifiedCache HEADs each blob once across copies of one run', async () => {
    // Prepare
    const proxy: FaultProxy = await startFaultProxy(dstReg.url);
    const viaProxy = clientFor(proxy);
    const cache = new Set<string>();
    try {
      // Act
      await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: viaProxy, repository: 'team/multi', tag: 'v1' }, { verifiedCache: cache, referrers: false });
      const firstRun = proxy.count(Routes.blobHead);
      proxy.clearRequests();
      await copyImage({ registry: src, repository: 'team/multi', reference: 'v1' }, { registry: viaProxy, repository: 'team/multi', tag: 'v1' }, { verifiedCache: cache, referrers: false });
      // Assess: every distinct blob HEADed once the first time, none the second
      expect(firstRun).toBe(index.blobs.length);
      expect(proxy.count(Routes.blobHead)).toBe(0);
    } finally {
      viaProxy.close();
      await proxy.stop();
    }
  });

  it('confirmTag false leaves the tag where it was', async () => {
    // Prepare
    const other = await pushImage(srcReg, 'team/signed', 'v2');
    // Act
    const result = await copyImage({ registry: src, repository: 'team/signed', reference: 'v2' }, { registry: dst, repository: 'team/signed', tag: 'v1' }, { confirmTag: async () => false });
    // Assess
    expect(result.tagPublished).toBe(false);
    expect(await manifestStatus(dstReg, 'team/signed', other.digest)).toBe(200);
    expect(await skopeoDigest(`${dstReg.host}/team/signed:v1`)).toBe(signed.digest);
  });
});

describe('copyImage when the registry asks to wait longer than a copy waits', () => {
  let srcReg: RunningRegistry;
  let dstReg: RunningRegistry;
  let proxy: FaultProxy;

  beforeAll(async () => {
    [srcReg, dstReg] = await Promise.all([startRegistry(), startRegistry()]);
    proxy = await startFaultProxy(srcReg.url);
    await pushImage(srcReg, 'team/app', 'v1');
  });

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([srcReg?.stop(), dstReg?.stop()]);
  });

  it('Retry-After: 3600 fails at once, retryable, saying when to retry', async () => {
    // Prepare
    proxy.inject({ ...Routes.blobGet, times: Infinity, fault: { kind: 'status', status: 429, retryAfter: 3600 } });
    const src = clientFor(proxy);
    const dst = clientFor(dstReg);
    const started = Date.now();
    try {
      // Act
      const err = await rejection(copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { retryDelayMs: 1 }));
      // Assess
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(codesOf(err)).toEqual(expect.arrayContaining(['COPY_INCOMPLETE', 'TOO_MANY_REQUESTS']));
      expect(err.retryable).toBe(true);
      expect(err.retryAfterSeconds).toBe(3600);
      expect(err.message).toMatch(/retry after \d{4}-\d\d-\d\dT/);
      expect(proxy.count(Routes.blobGet)).toBe(1);
      expect(await manifestStatus(dstReg, 'team/app', 'v1')).toBe(404);
    } finally {
      src.close();
      dst.close();
    }
  });
});
