// addToFallbackIndex: the client's half of the referrers tag schema, table-tested on the in-memory registry.
import { describe, expect, it } from 'vitest';
import { addToFallbackIndex } from '../../../functions/oci/referrers-fallback.ts';
import { fallbackTag } from '../../../functions/oci/referrers.ts';
import { parseManifest } from '../../../functions/oci/manifest.ts';
import { isOciError } from '../../../functions/oci/errors.ts';
import { MemoryRegistry, pushImage, pushReferrer } from '../../helpers/memory-registry.ts';

describe('addToFallbackIndex', () => {
  it('starts an empty index on 404, skips a duplicate, and ignores a manifest without subject', async () => {
    // Prepare: a registry that does not maintain the index itself, so only the function under test writes it.
    const reg = new MemoryRegistry({ maintainFallbackIndex: false });
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [100] });
    const sbom = parseManifest((await pushReferrer(reg, 'team/app', image)).raw);
    expect(await reg.tagList('team/app')).toEqual(['v1']);
    // Act + Assess
    expect(await addToFallbackIndex(reg, 'team/app', sbom)).toBe(true);
    expect(await addToFallbackIndex(reg, 'team/app', sbom)).toBe(false);
    expect(await addToFallbackIndex(reg, 'team/app', image)).toBe(false);
    const index = await reg.manifestGet('team/app', fallbackTag(image.digest));
    expect(index.manifests).toEqual([
      { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.raw.length, artifactType: 'application/spdx+json' },
    ]);
  });

  it('refuses to overwrite a fallback tag that is not an image index', async () => {
    // Prepare: the fallback tag names an image (someone else's mistake), not an index.
    const reg = new MemoryRegistry({ maintainFallbackIndex: false });
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [100] });
    await pushImage(reg, 'team/app', fallbackTag(image.digest), { layers: [50] });
    const sbom = parseManifest((await pushReferrer(reg, 'team/app', image)).raw);
    // Act
    const err = await addToFallbackIndex(reg, 'team/app', sbom).catch((e: unknown) => e);
    // Assess
    expect(isOciError(err, 'MANIFEST_INVALID')).toBe(true);
    expect((err as Error).message).toContain('not the image index the referrers tag schema expects');
  });
});
