// listImagesViaOci against the in-memory Registry: tags by digest, index children, referrers, sizes, blobs.
import { describe, expect, it } from 'vitest';
import { OciError } from '../../../functions/oci/errors.ts';
import type { Registry } from '../../../functions/oci/registry.ts';
import type { Manifest } from '../../../functions/oci/types.ts';
import { listImagesViaOci } from '../../../functions/registries/oci/listing.ts';
import type { ImageInfo } from '../../../functions/registries/adapter.ts';
import {
  MemoryRegistry, pushCosignSignature, pushFallbackIndex, pushImage, pushMultiPlatform, pushReferrer,
} from '../../helpers/memory-registry.ts';

const REPO = 'team/app';

function blobsOf(m: Manifest): { digest: string; size: number }[] {
  return [...(m.config ? [m.config] : []), ...m.layers].map((b) => ({ digest: b.digest, size: b.size }));
}

function byDigest(images: readonly ImageInfo[]): Map<string, ImageInfo> {
  return new Map(images.map((i) => [i.digest, i]));
}

/** Wraps a Registry so that each call waits a little and the most calls in flight at once is recorded. */
function slowCounting(inner: Registry): Registry & { maxInFlight: number } {
  let inFlight = 0;
  const out = {
    maxInFlight: 0,
  } as Registry & { maxInFlight: number };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'maxInFlight') return out.maxInFlight;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        inFlight++;
        out.maxInFlight = Math.max(out.maxInFlight, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 5));
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          inFlight--;
        }
      };
    },
  }) as Registry & { maxInFlight: number };
}

describe('listImagesViaOci', () => {
  it('groups tags by digest and fills size and blobs of an image (config + layers)', async () => {
    // Prepare
    const reg = new MemoryRegistry();
    const image = await pushImage(reg, REPO, 'v1', { layers: [1000, 2500] });
    await reg.manifestPut(REPO, 'latest', { raw: image.raw, mediaType: image.mediaType });
    const other = await pushImage(reg, REPO, 'v2', { layers: [300] });

    // Act
    const images = await listImagesViaOci(reg, REPO);

    // Assess
    const found = byDigest(images);
    expect(images).toHaveLength(2);
    expect([...(found.get(image.digest)?.tags ?? [])].sort()).toEqual(['latest', 'v1']);
    expect(found.get(image.digest)?.mediaType).toBe(image.mediaType);
    expect(found.get(image.digest)?.blobs).toEqual(blobsOf(image));
    expect(found.get(image.digest)?.sizeBytes).toBe(blobsOf(image).reduce((s, b) => s + b.size, 0));
    expect(found.get(other.digest)?.tags).toEqual(['v2']);
    expect(found.get(other.digest)?.sizeBytes).toBe(300 + (other.config?.size ?? 0));
  });

  it('lists index children as untagged entries and sizes the index as the sum of its children', async () => {
    const reg = new MemoryRegistry();
    const { index, children } = await pushMultiPlatform(reg, REPO, 'multi');

    const found = byDigest(await listImagesViaOci(reg, REPO));

    const idx = found.get(index.digest);
    expect(idx?.tags).toEqual(['multi']);
    expect(idx?.manifests).toEqual(children.map((c) => c.digest));
    expect(idx?.blobs).toBeUndefined();
    for (const child of children) {
      expect(found.get(child.digest)?.tags).toEqual([]);
      expect(found.get(child.digest)?.blobs).toEqual(blobsOf(child));
    }
    const childSizes = children.map((c) => blobsOf(c).reduce((s, b) => s + b.size, 0));
    expect(idx?.sizeBytes).toBe(childSizes.reduce((a, b) => a + b, 0));
    expect(found.size).toBe(1 + children.length);
  });

  it('finds referrers through the sha256-<hex> fallback index and keeps cosign tags', async () => {
    const reg = new MemoryRegistry({ referrersApi: false });
    const image = await pushImage(reg, REPO, 'v1', { layers: [100] });
    const sbom = await pushReferrer(reg, REPO, image, 'application/spdx+json');
    const fallback = await pushFallbackIndex(reg, REPO, image, [sbom]);
    const sig = await pushCosignSignature(reg, REPO, image);

    const found = byDigest(await listImagesViaOci(reg, REPO));

    expect(found.get(sbom.digest)).toMatchObject({ tags: [], subject: image.digest, artifactType: 'application/spdx+json' });
    expect(found.get(fallback.digest)).toMatchObject({ tags: [`sha256-${image.digest.slice(7)}`], manifests: [sbom.digest] });
    expect(found.get(sig.digest)?.tags).toEqual([`sha256-${image.digest.slice(7)}.sig`]);
    // distribution-like registry: the referrers API is asked once, not once per digest.
    expect(reg.calls.referrers).toBe(1);
  });

  it('falls back to the sha256-<hex> tag when the referrers API answers with an error (405)', async () => {
    const reg = new MemoryRegistry({ referrersApi: true });
    reg.addFault({ method: 'referrers', error: () => new OciError('referrers: HTTP 405', { code: 'UNSUPPORTED', status: 405 }) });
    const image = await pushImage(reg, REPO, 'v1', { layers: [100] });
    const sbom = await pushReferrer(reg, REPO, image, 'application/spdx+json');
    await pushFallbackIndex(reg, REPO, image, [sbom]);

    const found = byDigest(await listImagesViaOci(reg, REPO));

    expect(found.get(sbom.digest)).toMatchObject({ subject: image.digest, artifactType: 'application/spdx+json' });
    expect(reg.calls.referrers).toBe(1);
  });

  it('gives a fallback child its subject from the tag when its manifest has no subject field', async () => {
    const reg = new MemoryRegistry();
    const image = await pushImage(reg, REPO, 'v1', { layers: [100] });
    const legacy = await pushImage(reg, REPO, undefined, { layers: [10], seed: 'legacy-attestation' });
    await pushFallbackIndex(reg, REPO, image, [legacy]);

    const found = byDigest(await listImagesViaOci(reg, REPO));

    expect(found.get(legacy.digest)?.subject).toBe(image.digest);
  });

  it('finds untagged referrers through the referrers API when the registry has it', async () => {
    const reg = new MemoryRegistry({ referrersApi: true });
    const image = await pushImage(reg, REPO, 'v1', { layers: [100] });
    const sbom = await pushReferrer(reg, REPO, image, 'application/spdx+json');
    const sigOfSbom = await pushReferrer(reg, REPO, sbom, 'application/vnd.dev.sigstore.bundle.v0.3+json');

    const found = byDigest(await listImagesViaOci(reg, REPO));

    expect(found.get(sbom.digest)).toMatchObject({ tags: [], subject: image.digest, artifactType: 'application/spdx+json' });
    expect(found.get(sigOfSbom.digest)).toMatchObject({ subject: sbom.digest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });
    expect(found.get(sbom.digest)?.blobs).toEqual(blobsOf(sbom));
  });

  it('names an artifact by its config media type when the manifest has no artifactType', async () => {
    const reg = new MemoryRegistry();
    const helm = await pushImage(reg, REPO, 'chart', { layers: [50] });
    // Re-push the same shape with a Helm config type, as `helm push` does.
    const json = JSON.parse(helm.raw.toString()) as { config: { mediaType: string } };
    json.config.mediaType = 'application/vnd.cncf.helm.config.v1+json';
    await reg.manifestPut(REPO, 'chart', { raw: Buffer.from(JSON.stringify(json)), mediaType: helm.mediaType });

    const images = await listImagesViaOci(reg, REPO);

    expect(images).toHaveLength(1);
    expect(images[0]?.artifactType).toBe('application/vnd.cncf.helm.config.v1+json');
  });

  it('reads no manifest bodies with withManifests: false', async () => {
    const reg = new MemoryRegistry();
    const { index } = await pushMultiPlatform(reg, REPO, 'multi');
    const gets = reg.calls.manifestGet ?? 0;

    const images = await listImagesViaOci(reg, REPO, { withManifests: false });

    expect(images).toEqual([{ digest: index.digest, tags: ['multi'], mediaType: index.mediaType }]);
    expect(reg.calls.manifestGet ?? 0).toBe(gets);
  });

  it('drops an index child the registry no longer has', async () => {
    const reg = new MemoryRegistry();
    const { index, children } = await pushMultiPlatform(reg, REPO, 'multi');
    const gone = children[1] as Manifest;
    await reg.manifestDelete(REPO, gone.digest);

    const found = byDigest(await listImagesViaOci(reg, REPO));

    expect(found.has(gone.digest)).toBe(false);
    expect(found.get(index.digest)?.manifests).toContain(gone.digest);
    expect(found.size).toBe(3);
  });

  it('keeps manifest requests within the concurrency bound', async () => {
    const mem = new MemoryRegistry();
    const base = await pushImage(mem, REPO, 't0', { layers: [10] });
    for (let i = 1; i < 20; i++) await pushImage(mem, REPO, `t${i}`, { layers: [10], seed: `s${i}` });
    const reg = slowCounting(mem);

    const images = await listImagesViaOci(reg, REPO, { concurrency: 3 });

    expect(images).toHaveLength(20);
    expect(images.some((i) => i.digest === base.digest)).toBe(true);
    expect(reg.maxInFlight).toBe(3);
  });

  it('stops when the signal is aborted', async () => {
    const reg = new MemoryRegistry();
    await pushImage(reg, REPO, 'v1', { layers: [10] });
    const controller = new AbortController();
    controller.abort(new Error('user gave up'));
    await expect(listImagesViaOci(reg, REPO, { signal: controller.signal })).rejects.toThrow(/user gave up/);
  });

  it('fails with NAME_UNKNOWN for a repository the registry does not have', async () => {
    await expect(listImagesViaOci(new MemoryRegistry(), 'no/such')).rejects.toMatchObject({ code: 'NAME_UNKNOWN' });
  });
});
