// syncRepository over in-memory registries: what a no-op re-sync asks of the target (the issue's "about one manifest
// HEAD per tag"), with the completeness check shared across the tags of a run, and without it (--trust-target).
// (That the check repairs what a cleanup deleted is copy-engine-completeness.test.ts's.)
import { describe, expect, it } from 'vitest';
import { syncRepository } from '../../../functions/registries/sync.ts';
import type { Manifest } from '../../../functions/oci/types.ts';
import { pushImage, syntheticBytes } from '../../helpers/memory-registry.ts';
import { memoryAdapter } from '../replication/support.ts';

const TAGS = ['v1', 'v2', 'v3', 'v4'];

/** Four tags whose images share their base layer (as images built FROM one base do), each with its own top layer. */
async function setup() {
  const source = memoryAdapter('source');
  const target = memoryAdapter('target');
  const images: Manifest[] = [];
  const base = syntheticBytes('base', 4096);
  for (const [i, tag] of TAGS.entries()) images.push(await pushImage(source.oci, 'team/app', tag, { layers: [base, 1000 + i] }));
  expect(new Set(images.map((m) => m.layers[0]!.digest)).size).toBe(1);
  const first = await syncRepository({ source, targets: [target], repository: 'team/app', referrers: false });
  expect(first.ok).toBe(true);
  target.registry.resetCalls();
  return { source, target, images };
}

const blobsOf = (images: readonly Manifest[]) => new Set(images.flatMap((m) => [m.config!.digest, ...m.layers.map((l) => l.digest)]));

describe('syncRepository, a no-op re-sync', () => {
  it('checks each blob below the manifests once per run, not once per tag (a shared layer is HEADed once)', async () => {
    // Prepare
    const { source, target, images } = await setup();
    // Act: one tag at a time, so that no two copies check the same blob at the same moment
    const again = await syncRepository({ source, targets: [target], repository: 'team/app', referrers: false, concurrency: 1 });
    // Assess: one tag HEAD per tag, one HEAD per distinct blob, nothing written
    expect(again.targets[0]!.tags.map((t) => t.result?.noop)).toEqual([true, true, true, true]);
    const heads = target.registry.log.filter((c) => c.method === 'manifestHead');
    expect(heads.map((c) => c.reference).sort()).toEqual([...TAGS].sort());
    const blobHeads = target.registry.log.filter((c) => c.method === 'blobHead').map((c) => c.reference);
    expect(blobHeads.length).toBe(blobsOf(images).size);
    expect(new Set(blobHeads)).toEqual(blobsOf(images));
    expect(target.registry.count('blobPut') + target.registry.count('manifestPut')).toBe(0);
  });

  it('with tags in parallel, a shared blob is HEADed at most once per copy in flight', async () => {
    const { source, target, images } = await setup();
    await syncRepository({ source, targets: [target], repository: 'team/app', referrers: false, concurrency: 2 });
    const base = images[0]!.layers[0]!.digest;
    const baseHeads = target.registry.log.filter((c) => c.method === 'blobHead' && c.reference === base).length;
    expect(baseHeads).toBeGreaterThanOrEqual(1);
    expect(baseHeads).toBeLessThanOrEqual(2);
  });

  it('--trust-target, no referrers: one manifest HEAD per tag at each side and nothing else (no manifest GET: a pull on Docker Hub)', async () => {
    const { source, target, images } = await setup();
    source.registry.resetCalls();
    const again = await syncRepository({ source, targets: [target], repository: 'team/app', referrers: false, trustTarget: true });
    expect(again.ok).toBe(true);
    expect(again.targets[0]!.tags.map((t) => [t.result?.digest, t.result?.noop])).toEqual(images.map((m) => [m.digest, true]));
    expect(target.registry.log.map((c) => `${c.method} ${c.reference}`).sort()).toEqual(TAGS.map((t) => `manifestHead ${t}`).sort());
    expect(source.registry.log.map((c) => `${c.method} ${c.reference ?? ''}`).sort()).toEqual(['tagList ', ...TAGS.map((t) => `manifestHead ${t}`)].sort());
  });

  it('--trust-target: a tag that moved at the source is copied as usual', async () => {
    const { source, target } = await setup();
    const moved = await pushImage(source.oci, 'team/app', 'v2', { layers: [7777] });
    const again = await syncRepository({ source, targets: [target], repository: 'team/app', referrers: false, trustTarget: true });
    const v2 = again.targets[0]!.tags.find((t) => t.tag === 'v2')!;
    expect(v2.result).toMatchObject({ digest: moved.digest, noop: false, blobs: { uploaded: 2 } });
    expect(target.registry.tagDigest('team/app', 'v2')).toBe(moved.digest);
  });
});
