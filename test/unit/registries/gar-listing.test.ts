// Google's tags/list extension: parsing its `manifest` map and merging it into the OCI walk.
import { describe, expect, it } from 'vitest';
import { mergeGoogleEntries, parseGoogleTagList } from '../../../functions/registries/gar/listing.ts';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

describe('Google tags/list extension', () => {
  it('reads every manifest with its tags, upload time and size (numbers sent as strings)', () => {
    const body = {
      name: 'p/r/app',
      tags: ['v1'],
      manifest: {
        [d('a')]: { imageSizeBytes: '2048', mediaType: 'application/vnd.oci.image.manifest.v1+json', tag: ['v1'], timeCreatedMs: '0', timeUploadedMs: '1767225600000' },
        [d('b')]: { imageSizeBytes: '0', mediaType: 'application/vnd.oci.image.index.v1+json', tag: [], timeUploadedMs: '1767225601000' },
        'not-a-digest': { tag: ['x'] },
      },
    };
    expect(parseGoogleTagList(body)).toEqual([
      { digest: d('a'), tags: ['v1'], mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: '2026-01-01T00:00:00.000Z', sizeBytes: 2048 },
      { digest: d('b'), tags: [], mediaType: 'application/vnd.oci.image.index.v1+json', pushedAt: '2026-01-01T00:00:01.000Z' },
    ]);
  });

  it('says "not a Google host" for a plain tags/list', () => {
    expect(parseGoogleTagList({ name: 'app', tags: ['v1'] })).toBeUndefined();
    expect(parseGoogleTagList(undefined)).toBeUndefined();
  });

  it('adds push times, keeps the walk\'s sizes, and adds the manifests only Google names', () => {
    // Prepare
    const viaOci = [{ digest: d('a'), tags: ['v1'], sizeBytes: 100 }, { digest: d('c'), tags: [] }];
    const google = [
      { digest: d('a'), tags: ['v1'], pushedAt: '2026-01-01T00:00:00.000Z', sizeBytes: 2048 },
      { digest: d('c'), tags: [], sizeBytes: 50 },
      { digest: d('e'), tags: [], pushedAt: '2025-06-01T00:00:00.000Z', sizeBytes: 10 },
    ];
    // Act
    const { images, added } = mergeGoogleEntries(viaOci, google);
    // Assess
    expect(images).toEqual([
      { digest: d('a'), tags: ['v1'], sizeBytes: 100, pushedAt: '2026-01-01T00:00:00.000Z' },
      { digest: d('c'), tags: [], sizeBytes: 50 },
      { digest: d('e'), tags: [], pushedAt: '2025-06-01T00:00:00.000Z', sizeBytes: 10 },
    ]);
    expect(added).toEqual([d('e')]);
  });
});
