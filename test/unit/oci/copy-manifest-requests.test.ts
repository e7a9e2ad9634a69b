// The manifest requests of a copy at the target: each manifest is proven present once (a HEAD that
// found it, or the 201 of this copy's own PUT) before an index or a tag points at it, never twice.
import { describe, expect, it } from 'vitest';
import { copyImage } from '../../../functions/oci/copy.ts';
import { MemoryRegistry, pushImage, pushMultiPlatform } from '../../helpers/memory-registry.ts';

function twoRegistries(): { src: MemoryRegistry; dst: MemoryRegistry } {
  return { src: new MemoryRegistry({ host: 'src.test:5000' }), dst: new MemoryRegistry({ host: 'dst.test:5000' }) };
}

const manifestCalls = (r: MemoryRegistry): string[] =>
  r.log.filter((c) => c.method === 'manifestHead' || c.method === 'manifestPut').map((c) => `${c.method} ${c.reference ?? ''}`);

describe('copy: manifest requests at the target', () => {
  it('a fresh image: HEAD tag and digest (absent), PUT by digest, HEAD tag again, PUT tag; no HEAD after its own 201', async () => {
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000, 2000] });
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { referrers: false });
    expect(result.digest).toBe(image.digest);
    expect(manifestCalls(dst)).toEqual([
      'manifestHead v1',
      `manifestHead ${image.digest}`,
      `manifestPut ${image.digest}`,
      'manifestHead v1',
      'manifestPut v1',
    ]);
    expect(dst.tagDigest('team/app', 'v1')).toBe(image.digest);
  });

  it('an index: each child is HEADed once (absent) and PUT; the index is PUT without re-HEADing the children', async () => {
    const { src, dst } = twoRegistries();
    const { index, children } = await pushMultiPlatform(src, 'team/app', 'v1');
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { referrers: false });
    const calls = manifestCalls(dst);
    for (const child of children) {
      expect(calls.filter((c) => c === `manifestHead ${child.digest}`)).toHaveLength(1);
      expect(calls.filter((c) => c === `manifestPut ${child.digest}`)).toHaveLength(1);
    }
    // Every child PUT comes before the index PUT, and the tag last.
    const indexPut = calls.indexOf(`manifestPut ${index.digest}`);
    for (const child of children) expect(calls.indexOf(`manifestPut ${child.digest}`)).toBeLessThan(indexPut);
    expect(calls.at(-1)).toBe('manifestPut v1');
    expect(dst.tagDigest('team/app', 'v1')).toBe(index.digest);
  });

  it('a manifest already at the target by digest, not tagged: its HEAD is the proof, and the tag is PUT', async () => {
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    await copyImage({ registry: src, repository: 'team/app', reference: image.digest }, { registry: dst, repository: 'team/app' }, { referrers: false });
    dst.log.length = 0;
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { referrers: false });
    expect(result.tagPublished).toBe(true);
    expect(manifestCalls(dst)).toEqual(['manifestHead v1', `manifestHead ${image.digest}`, 'manifestHead v1', 'manifestPut v1']);
    expect(dst.tagDigest('team/app', 'v1')).toBe(image.digest);
  });
});
