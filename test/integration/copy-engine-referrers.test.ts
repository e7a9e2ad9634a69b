// copyImage carries a cosign signature tag and an OCI 1.1 SBOM referrer (fallback tag schema) with their subject.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImage } from '../../functions/oci/copy.ts';
import type { RegistryClient } from '../../functions/oci/client.ts';
import { cosignTags, fallbackTag, findReferrers } from '../../functions/oci/referrers.ts';
import { cosignTag, pushCosignSignature, pushImage, pushOciIndex, pushSbomReferrer, type PushedImage, type PushedIndex, type PushedReferrer } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest, skopeoInspectRaw } from '../helpers/skopeo.ts';
import { startFaultProxy, Routes } from '../helpers/fault-proxy.ts';
import { clientFor, manifestStatus } from './copy-engine-support.ts';

describe('copyImage with referrers between real registries (distribution 2.8: no referrers API)', () => {
  let srcReg: RunningRegistry;
  let dstReg: RunningRegistry;
  let src: RegistryClient;
  let dst: RegistryClient;
  let image: PushedImage;
  let signature: PushedImage;
  let sbom: PushedReferrer;

  beforeAll(async () => {
    [srcReg, dstReg] = await Promise.all([startRegistry(), startRegistry()]);
    src = clientFor(srcReg);
    dst = clientFor(dstReg);
    image = await pushImage(srcReg, 'signed/app', 'v1');
    signature = await pushCosignSignature(srcReg, 'signed/app', image.digest);
    sbom = await pushSbomReferrer(srcReg, 'signed/app', image.descriptor);
  });

  afterAll(async () => {
    src?.close();
    dst?.close();
    await Promise.all([srcReg?.stop(), dstReg?.stop()]);
  });

  it('the fixture is what the test claims: the source registry has no referrers API, so the fallback tag is used', async () => {
    // Act
    const found = await findReferrers(src, 'signed/app', image.digest);
    // Assess
    expect(found.source).toBe('fallback-tag');
    expect(found.descriptors.map((d) => d.digest)).toEqual([sbom.digest]);
    expect(found.tags).toEqual(expect.arrayContaining([fallbackTag(image.digest), cosignTag(image.digest, 'sig')]));
  });

  it('copies the signature tag and the SBOM referrer after their subject, byte for byte', async () => {
    // Act
    const result = await copyImage({ registry: src, repository: 'signed/app', reference: 'v1' }, { registry: dst, repository: 'mirror/app', tag: 'v1' });
    // Assess: the subject
    expect(result.digest).toBe(image.digest);
    expect(await skopeoDigest(`${dstReg.host}/mirror/app:v1`)).toBe(image.digest);
    // The cosign signature, under the same tag, pointing at the same subject.
    const sigTag = cosignTag(image.digest, 'sig');
    expect(await skopeoDigest(`${dstReg.host}/mirror/app:${sigTag}`)).toBe(signature.digest);
    const sigLayer = (JSON.parse((await skopeoInspectRaw(`${dstReg.host}/mirror/app:${sigTag}`)).toString()) as { layers: { digest: string }[] }).layers[0];
    expect(await manifestStatus(dstReg, 'mirror/app', signature.digest)).toBe(200);
    expect(sigLayer?.digest).toBe(signature.layers[0]?.digest);
    // The SBOM: same bytes, its subject the copied image, listed by the fallback index at the target.
    const sbomRaw = await skopeoInspectRaw(`${dstReg.host}/mirror/app@${sbom.digest}`);
    expect(sbomRaw.equals(sbom.raw)).toBe(true);
    const parsed = JSON.parse(sbomRaw.toString()) as { subject: { digest: string }; artifactType: string };
    expect(parsed.subject.digest).toBe(image.digest);
    expect(parsed.artifactType).toBe('application/spdx+json');
    // The target has no referrers API either: the client wrote its fallback index (not a copy of the source's).
    const fallbackIndex = JSON.parse((await skopeoInspectRaw(`${dstReg.host}/mirror/app:${sbom.fallbackTag}`)).toString()) as { manifests: { digest: string; artifactType?: string }[] };
    expect(fallbackIndex.manifests).toEqual([expect.objectContaining({ digest: sbom.digest, artifactType: 'application/spdx+json' })]);
    expect(result.referrers).toEqual(expect.arrayContaining([signature.digest, sbom.digest]));
    // The target's own referrer discovery finds the SBOM too.
    const atTarget = await findReferrers(dst, 'mirror/app', image.digest);
    expect(atTarget.descriptors.map((d) => d.digest)).toEqual([sbom.digest]);
  });

  it('pushes the subject first, then its referrers, and the tag last', async () => {
    // Prepare: watch the manifest PUTs the target receives.
    const proxy = await startFaultProxy(dstReg.url);
    const watched = clientFor(proxy);
    try {
      // Act
      await copyImage({ registry: src, repository: 'signed/app', reference: 'v1' }, { registry: watched, repository: 'ordered/app', tag: 'v1' });
      // Assess
      const puts = proxy.requests.filter((r) => Routes.manifestPut.path.test(r.path) && r.method === 'PUT').map((r) => r.path.replace('/v2/ordered/app/manifests/', ''));
      const at = (ref: string): number => puts.indexOf(ref);
      expect(at(image.digest)).toBeGreaterThanOrEqual(0);
      expect(at(sbom.digest)).toBeGreaterThan(at(image.digest));
      expect(at(cosignTag(image.digest, 'sig'))).toBeGreaterThan(at(image.digest));
      expect(at(sbom.fallbackTag)).toBeGreaterThan(at(sbom.digest));
      expect(puts.at(-1)).toBe('v1');
    } finally {
      watched.close();
      await proxy.stop();
    }
  });

  it('with referrers: false only the subject arrives: no signature tag, no SBOM, no fallback tag', async () => {
    // Act
    const result = await copyImage(
      { registry: src, repository: 'signed/app', reference: 'v1' },
      { registry: dst, repository: 'bare/app', tag: 'v1' },
      { referrers: false },
    );
    // Assess
    expect(result.referrers).toEqual([]);
    expect(await skopeoDigest(`${dstReg.host}/bare/app:v1`)).toBe(image.digest);
    expect(await manifestStatus(dstReg, 'bare/app', cosignTag(image.digest, 'sig'))).toBe(404);
    expect(await manifestStatus(dstReg, 'bare/app', signature.digest)).toBe(404);
    expect(await manifestStatus(dstReg, 'bare/app', sbom.digest)).toBe(404);
    expect(await manifestStatus(dstReg, 'bare/app', sbom.fallbackTag)).toBe(404);
    expect(await dst.tagList('bare/app')).toEqual(['v1']);
  });

  it('carries the referrers of an index\'s children (a signed child of a 3-platform index)', async () => {
    // Prepare
    const index: PushedIndex = await pushOciIndex(srcReg, 'signed/multi', 'v1');
    const child = index.children[1] as PushedImage;
    const childSig = await pushCosignSignature(srcReg, 'signed/multi', child.digest);
    const indexSbom = await pushSbomReferrer(srcReg, 'signed/multi', index.descriptor);
    // Act
    const result = await copyImage({ registry: src, repository: 'signed/multi', reference: 'v1' }, { registry: dst, repository: 'mirror/multi', tag: 'v1' });
    // Assess
    expect(await skopeoDigest(`${dstReg.host}/mirror/multi:v1`)).toBe(index.digest);
    expect(await skopeoDigest(`${dstReg.host}/mirror/multi:${cosignTag(child.digest, 'sig')}`)).toBe(childSig.digest);
    expect(await skopeoDigest(`${dstReg.host}/mirror/multi@${indexSbom.digest}`)).toBe(indexSbom.digest);
    expect(result.referrers).toEqual(expect.arrayContaining([childSig.digest, indexSbom.digest]));
    // No cosign tag that the source lacks was invented.
    const tags = await dst.tagList('mirror/multi');
    expect(tags.filter((t) => cosignTags(index.digest).includes(t))).toEqual([]);
  });
});
