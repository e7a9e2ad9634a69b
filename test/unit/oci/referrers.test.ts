// Referrers travel with their subject: OCI 1.1 API, fallback tag, cosign tags; after the subject, tag last.
import { describe, expect, it } from 'vitest';
import { copyImage } from '../../../functions/oci/copy.ts';
import { cosignTags, fallbackTag, findReferrers } from '../../../functions/oci/referrers.ts';
import {
  MemoryRegistry,
  pushCosignSignature,
  pushFallbackIndex,
  pushImage,
  pushMultiPlatform,
  pushReferrer,
} from '../../helpers/memory-registry.ts';

function puts(reg: MemoryRegistry): string[] {
  return reg.log.filter((c) => c.method === 'manifestPut').map((c) => c.reference ?? '');
}

describe('fallbackTag / cosignTags', () => {
  it('derive the tag schema names from a digest', () => {
    const d = `sha256:${'ab'.repeat(32)}`;
    expect(fallbackTag(d)).toBe(`sha256-${'ab'.repeat(32)}`);
    expect(cosignTags(d)).toEqual(['sig', 'att', 'sbom'].map((s) => `sha256-${'ab'.repeat(32)}.${s}`));
  });
});

describe('findReferrers', () => {
  it('uses the referrers API when the registry has one', async () => {
    const reg = new MemoryRegistry({ referrersApi: true });
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [10] });
    const sbom = await pushReferrer(reg, 'team/app', image);
    const found = await findReferrers(reg, 'team/app', image.digest);
    expect(found.source).toBe('api');
    expect(found.descriptors.map((d) => d.digest)).toEqual([sbom.digest]);
    expect(found.descriptors[0]?.artifactType).toBe('application/spdx+json');
    expect(found.tags).toEqual([]);
  });

  it('reads the fallback tag and lists cosign tags when there is no API', async () => {
    const reg = new MemoryRegistry();
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [10] });
    const sbom = await pushReferrer(reg, 'team/app', image);
    await pushFallbackIndex(reg, 'team/app', image, [sbom]);
    await pushCosignSignature(reg, 'team/app', image);
    const found = await findReferrers(reg, 'team/app', image.digest);
    expect(found.source).toBe('fallback-tag');
    expect(found.descriptors.map((d) => d.digest)).toEqual([sbom.digest]);
    expect(found.tags).toEqual([fallbackTag(image.digest), `${fallbackTag(image.digest)}.sig`]);
  });

  it('finds nothing for an image without referrers, using a given tag list without listing again', async () => {
    const reg = new MemoryRegistry();
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [10] });
    reg.resetCalls();
    const found = await findReferrers(reg, 'team/app', image.digest, { tags: ['v1'] });
    expect(found).toEqual({ descriptors: [], tags: [], source: 'none' });
    expect(reg.count('tagList')).toBe(0);
    expect(reg.count('manifestGet')).toBe(0);
  });
});

describe('copyImage: referrers', () => {
  it('copies an OCI 1.1 referrer found by the API after its subject, and the tag last', async () => {
    // Prepare
    const src = new MemoryRegistry({ host: 'src.test', referrersApi: true });
    const dst = new MemoryRegistry({ host: 'dst.test', referrersApi: true });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    const sbom = await pushReferrer(src, 'team/app', image);
    // Act
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    // Assess
    expect(result.referrers).toEqual([sbom.digest]);
    expect(dst.rawManifest('team/app', sbom.digest)?.equals(sbom.raw)).toBe(true);
    expect(puts(dst)).toEqual([image.digest, sbom.digest, 'v1']);
    expect((await dst.referrers('team/app', image.digest))?.map((d) => d.digest)).toEqual([sbom.digest]);
  });

  it('lists the referrers in the target\'s fallback index, copies a cosign .sig tag, all before the image tag', async () => {
    const src = new MemoryRegistry({ host: 'src.test' });
    const dst = new MemoryRegistry({ host: 'dst.test' });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    const sbom = await pushReferrer(src, 'team/app', image);
    const fallback = await pushFallbackIndex(src, 'team/app', image, [sbom]);
    const sig = await pushCosignSignature(src, 'team/app', image);
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    const fTag = fallbackTag(image.digest);
    expect(dst.tagDigest('team/app', fTag)).toBe(fallback.digest);
    expect(dst.tagDigest('team/app', `${fTag}.sig`)).toBe(sig.digest);
    expect(dst.rawManifest('team/app', sig.digest)?.equals(sig.raw)).toBe(true);
    expect(new Set(result.referrers)).toEqual(new Set([sbom.digest, sig.digest]));
    const order = puts(dst);
    expect(order[0]).toBe(image.digest);
    expect(order.at(-1)).toBe('v1');
    // Each referrer manifest is pushed by digest before the tag that points at it.
    expect(order.indexOf(sbom.digest)).toBeLessThan(order.indexOf(fTag));
    expect(order.indexOf(sig.digest)).toBeLessThan(order.indexOf(`${fTag}.sig`));
  });

  it('copies referrers of index children and referrers of referrers', async () => {
    const src = new MemoryRegistry({ host: 'src.test', referrersApi: true });
    const dst = new MemoryRegistry({ host: 'dst.test' });
    const { index, children } = await pushMultiPlatform(src, 'team/app', 'v1');
    const indexSig = await pushCosignSignature(src, 'team/app', index);
    const childSbom = await pushReferrer(src, 'team/app', children[2]!);
    const sbomSig = await pushCosignSignature(src, 'team/app', childSbom);
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    expect(new Set(result.referrers)).toEqual(new Set([indexSig.digest, childSbom.digest, sbomSig.digest]));
    expect(dst.tagDigest('team/app', `${fallbackTag(childSbom.digest)}.sig`)).toBe(sbomSig.digest);
    const order = puts(dst);
    expect(order.indexOf(childSbom.digest)).toBeGreaterThan(order.indexOf(index.digest));
    expect(order.indexOf(`${fallbackTag(childSbom.digest)}.sig`)).toBeGreaterThan(order.indexOf(childSbom.digest));
    expect(order.at(-1)).toBe('v1');
  });

  it('a re-copy with referrers is a no-op, and a signature added since then is copied', async () => {
    const src = new MemoryRegistry({ host: 'src.test' });
    const dst = new MemoryRegistry({ host: 'dst.test' });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    await pushCosignSignature(src, 'team/app', image);
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    dst.resetCalls();
    const again = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    expect(again.noop).toBe(true);
    expect(dst.count('manifestPut') + dst.count('blobPut')).toBe(0);
    // A new SBOM arrives at the source (fallback tag updated): the next copy brings only it.
    const sbom = await pushReferrer(src, 'team/app', image);
    const fallback = await pushFallbackIndex(src, 'team/app', image, [sbom]);
    dst.resetCalls();
    const third = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    expect(third.noop).toBe(false);
    // The SBOM by digest, then the target's own fallback index, updated by tag (not the source's copied).
    expect(puts(dst)).toEqual([sbom.digest, fallbackTag(image.digest)]);
    expect(dst.tagDigest('team/app', fallbackTag(image.digest))).toBe(fallback.digest);
  });

  it('referrers: false copies none and never lists the source tags', async () => {
    const src = new MemoryRegistry({ host: 'src.test', referrersApi: true });
    const dst = new MemoryRegistry({ host: 'dst.test' });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    await pushReferrer(src, 'team/app', image);
    await pushCosignSignature(src, 'team/app', image);
    src.resetCalls();
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { referrers: false });
    expect(result.referrers).toEqual([]);
    expect(puts(dst)).toEqual([image.digest, 'v1']);
    expect(src.count('tagList') + src.count('referrers')).toBe(0);
  });

  it('a failing referrer copy fails the copy and leaves the image tag unpublished', async () => {
    const src = new MemoryRegistry({ host: 'src.test' });
    const dst = new MemoryRegistry({ host: 'dst.test' });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    const sig = await pushCosignSignature(src, 'team/app', image);
    const { OciError } = await import('../../../functions/oci/errors.ts');
    dst.addFault({ method: 'manifestPut', when: (c) => c.reference === sig.digest, error: () => new OciError('denied', { code: 'DENIED' }) });
    await expect(copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' })).rejects.toMatchObject({ code: 'COPY_INCOMPLETE' });
    expect(dst.tagDigest('team/app', 'v1')).toBeUndefined();
    expect(dst.rawManifest('team/app', image.digest)).toBeDefined();
  });
});
