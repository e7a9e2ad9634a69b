// Copy engine against the in-memory registry: digests and bytes preserved, ladder order, no-ops, mounts, platforms.
import { describe, expect, it } from 'vitest';
import { copyImage, type CopyEvent } from '../../../functions/oci/copy.ts';
import { MemoryRegistry, pushImage, pushMultiPlatform, syntheticBytes } from '../../helpers/memory-registry.ts';
import { isOciError } from '../../../functions/oci/errors.ts';

function twoRegistries(): { src: MemoryRegistry; dst: MemoryRegistry } {
  return { src: new MemoryRegistry({ host: 'src.test:5000' }), dst: new MemoryRegistry({ host: 'dst.test:5000' }) };
}

describe('copyImage: single image', () => {
  it.each([
    { name: 'OCI manifest', docker: false },
    { name: 'Docker schema2 manifest', docker: true },
  ])('copies a $name with identical digest and raw bytes, tag last', async ({ docker }) => {
    // Prepare
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [30_000, 50_000], docker });
    // Act
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'mirror/app', tag: 'v1' });
    // Assess
    expect(result.digest).toBe(image.digest);
    expect(result.mediaType).toBe(image.mediaType);
    expect(dst.tagDigest('mirror/app', 'v1')).toBe(image.digest);
    expect(dst.rawManifest('mirror/app', image.digest)?.equals(image.raw)).toBe(true);
    expect(result.blobs).toEqual({ uploaded: 3, mounted: 0, skipped: 0 });
    expect(result.bytesUploaded).toBe(30_000 + 50_000 + (image.config?.size ?? 0));
    expect(result.noop).toBe(false);
    expect(result.manifests).toEqual([image.digest]);
    const puts = dst.log.filter((c) => c.method === 'manifestPut' || c.method === 'blobPut');
    expect(puts.at(-1)).toEqual({ method: 'manifestPut', repository: 'mirror/app', reference: 'v1' });
    expect(puts.filter((c) => c.method === 'blobPut')).toHaveLength(3);
  });

  it('copies by digest without a tag when the target names none', async () => {
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    const result = await copyImage({ registry: src, repository: 'team/app', reference: image.digest }, { registry: dst, repository: 'team/app' });
    expect(result.tag).toBeUndefined();
    expect(dst.rawManifest('team/app', image.digest)?.equals(image.raw)).toBe(true);
    expect(await dst.tagList('team/app')).toEqual([]);
  });

  it('a re-copy is a no-op: zero blob uploads, zero manifest PUTs, zero mounts', async () => {
    const { src, dst } = twoRegistries();
    await pushImage(src, 'team/app', 'v1', { layers: [1000, 2000] });
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    dst.resetCalls();
    const events: CopyEvent[] = [];
    const again = await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: dst, repository: 'team/app', tag: 'v1' },
      { onEvent: (e) => events.push(e) },
    );
    expect(again.noop).toBe(true);
    expect(dst.count('blobPut')).toBe(0);
    expect(dst.count('manifestPut')).toBe(0);
    expect(dst.count('blobMount')).toBe(0);
    // The completeness check HEADs the config and both layers, and moves nothing.
    expect(dst.count('blobHead')).toBe(3);
    expect(again.repaired).toEqual({ children: [], blobs: [], referrers: [] });
    expect(again.blobs).toEqual({ uploaded: 0, mounted: 0, skipped: 0 });
    expect(events).toContainEqual(expect.objectContaining({ type: 'manifest', phase: 'skipped', digest: again.digest }));
  });

  it('with trustTarget a re-copy does not even HEAD the blobs', async () => {
    const { src, dst } = twoRegistries();
    await pushImage(src, 'team/app', 'v1', { layers: [1000, 2000] });
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    dst.resetCalls();
    const again = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { trustTarget: true });
    expect(again.noop).toBe(true);
    expect(dst.count('blobHead')).toBe(0);
  });

  it('retags without moving blobs when the target has the digest under another tag', async () => {
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000] });
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    dst.resetCalls();
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'stable' });
    expect(dst.tagDigest('team/app', 'stable')).toBe(image.digest);
    expect(dst.count('blobPut')).toBe(0);
    expect(dst.count('manifestPut')).toBe(1);
    expect(result.noop).toBe(false);
  });

  it('skips blobs the target already has (HEAD) and uploads the rest', async () => {
    const { src, dst } = twoRegistries();
    const base = syntheticBytes('base', 10_000);
    await pushImage(dst, 'team/app', 'old', { layers: [base] });
    await pushImage(src, 'team/app', 'v2', { layers: [base, 5000] });
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v2' }, { registry: dst, repository: 'team/app', tag: 'v2' });
    expect(result.blobs).toEqual({ uploaded: 2, mounted: 0, skipped: 1 });
  });

  it('fails with the source error and writes nothing when the source manifest is missing', async () => {
    const { src, dst } = twoRegistries();
    await pushImage(src, 'team/app', 'v1', { layers: [10] });
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'nope' }, { registry: dst, repository: 'team/app', tag: 'x' }).catch((e: unknown) => e);
    expect(isOciError(err, 'MANIFEST_UNKNOWN')).toBe(true);
    expect(dst.log).toEqual([]);
  });
});

describe('copyImage: same registry', () => {
  it('mounts blobs from the source repository instead of uploading', async () => {
    const reg = new MemoryRegistry();
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [1000, 2000] });
    reg.resetCalls();
    const result = await copyImage({ registry: reg, repository: 'team/app', reference: 'v1' }, { registry: reg, repository: 'prod/app', tag: 'v1' });
    expect(result.blobs).toEqual({ uploaded: 0, mounted: 3, skipped: 0 });
    expect(reg.count('blobMount')).toBe(3);
    expect(reg.count('blobPut')).toBe(0);
    expect(reg.count('blobGet')).toBe(0);
    expect(reg.tagDigest('prod/app', 'v1')).toBe(image.digest);
  });

  it('uploads when the registry declines the mount', async () => {
    const reg = new MemoryRegistry({ mount: false });
    await pushImage(reg, 'team/app', 'v1', { layers: [1000] });
    reg.resetCalls();
    const result = await copyImage({ registry: reg, repository: 'team/app', reference: 'v1' }, { registry: reg, repository: 'prod/app', tag: 'v1' });
    expect(result.blobs).toEqual({ uploaded: 2, mounted: 0, skipped: 0 });
    expect(reg.count('blobMount')).toBe(2);
    expect(reg.count('blobPut')).toBe(2);
  });

  it('retags within one repository with no blob traffic at all', async () => {
    const reg = new MemoryRegistry();
    const image = await pushImage(reg, 'team/app', 'v1', { layers: [1000] });
    reg.resetCalls();
    const result = await copyImage({ registry: reg, repository: 'team/app', reference: 'v1' }, { registry: reg, repository: 'team/app', tag: 'stable' });
    expect(reg.tagDigest('team/app', 'stable')).toBe(image.digest);
    expect(reg.count('blobHead') + reg.count('blobGet') + reg.count('blobPut') + reg.count('blobMount')).toBe(0);
    expect(reg.log.filter((c) => c.method === 'manifestPut')).toEqual([{ method: 'manifestPut', repository: 'team/app', reference: 'stable' }]);
    expect(result.digest).toBe(image.digest);
  });
});

describe('copyImage: index', () => {
  it.each([
    { name: 'OCI index', docker: false },
    { name: 'Docker manifest list', docker: true },
  ])('copies a 3-platform $name: children first, shared layer once, index digest unchanged', async ({ docker }) => {
    const { src, dst } = twoRegistries();
    const { index, children, shared } = await pushMultiPlatform(src, 'team/app', 'v1', { docker });
    const sharedDigest = `sha256:${(await import('node:crypto')).createHash('sha256').update(shared).digest('hex')}`;
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    expect(result.digest).toBe(index.digest);
    expect(dst.rawManifest('team/app', index.digest)?.equals(index.raw)).toBe(true);
    for (const c of children) expect(dst.rawManifest('team/app', c.digest)?.equals(c.raw)).toBe(true);
    // 1 shared layer + 3 own layers + 3 configs, each uploaded once.
    expect(result.blobs.uploaded).toBe(7);
    expect(dst.log.filter((c) => c.method === 'blobPut' && c.reference === sharedDigest)).toHaveLength(1);
    expect(new Set(result.manifests)).toEqual(new Set([index.digest, ...children.map((c) => c.digest)]));
    const manifestPuts = dst.log.filter((c) => c.method === 'manifestPut').map((c) => c.reference);
    expect(manifestPuts.slice(0, 3).sort()).toEqual(children.map((c) => c.digest).sort());
    expect(manifestPuts.slice(3)).toEqual([index.digest, 'v1']);
  });

  it('a re-copy of an index is a no-op', async () => {
    const { src, dst } = twoRegistries();
    await pushMultiPlatform(src, 'team/app', 'v1');
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    dst.resetCalls();
    const again = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    expect(again.noop).toBe(true);
    expect(dst.count('blobPut') + dst.count('manifestPut') + dst.count('blobMount')).toBe(0);
  });

  it('copies only the missing children when the target has some', async () => {
    const { src, dst } = twoRegistries();
    const { children } = await pushMultiPlatform(src, 'team/app', 'v1');
    const first = children[0]!;
    await copyImage({ registry: src, repository: 'team/app', reference: first.digest }, { registry: dst, repository: 'team/app' });
    dst.resetCalls();
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    const pushed = dst.log.filter((c) => c.method === 'manifestPut').map((c) => c.reference);
    expect(pushed).not.toContain(first.digest);
    expect(pushed).toHaveLength(4); // two children, the index by digest, the tag
  });
});

describe('copyImage: platform filter', () => {
  it.each([
    { platform: 'linux/arm/v7', child: 2 },
    { platform: 'linux/arm64', child: 1 },
    { platform: 'linux/aarch64', child: 1 },
    { platform: 'linux/x86_64', child: 0 },
  ])('--platform $platform copies that child and tags it (the index is not rewritten)', async ({ platform, child }) => {
    const { src, dst } = twoRegistries();
    const { index, children } = await pushMultiPlatform(src, 'team/app', 'v1');
    const want = children[child]!;
    const result = await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: dst, repository: 'team/app', tag: 'v1' },
      { platforms: [platform] },
    );
    expect(result.digest).toBe(want.digest);
    expect(dst.tagDigest('team/app', 'v1')).toBe(want.digest);
    expect(dst.rawManifest('team/app', want.digest)?.equals(want.raw)).toBe(true);
    expect(dst.rawManifest('team/app', index.digest)).toBeUndefined();
    expect(result.blobs.uploaded).toBe(3);
  });

  it('copies the whole index unchanged when the filter selects every platform', async () => {
    const { src, dst } = twoRegistries();
    const { index } = await pushMultiPlatform(src, 'team/app', 'v1');
    const result = await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: dst, repository: 'team/app', tag: 'v1' },
      { platforms: ['linux/amd64', 'linux/arm64', 'linux/arm'] },
    );
    expect(result.digest).toBe(index.digest);
  });

  it('pushes a filtered index when the filter selects several but not all platforms', async () => {
    // Prepare
    const { src, dst } = twoRegistries();
    const { index } = await pushMultiPlatform(src, 'team/app', 'v1');
    const source = await src.manifestGet('team/app', 'v1');
    // Act
    const result = await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: dst, repository: 'team/app', tag: 'v1' },
      { platforms: ['linux/amd64', 'linux/arm64'] },
    );
    // Assess: a new index of exactly those two children, tagged; the third child never copied.
    expect(result.digest).not.toBe(index.digest);
    const copied = await dst.manifestGet('team/app', 'v1');
    expect(copied.digest).toBe(result.digest);
    expect(copied.mediaType).toBe(source.mediaType);
    const platformsOf = (m: typeof copied): string[] => m.manifests.map((c) => `${c.platform?.os}/${c.platform?.architecture}`);
    expect(platformsOf(copied)).toEqual(['linux/amd64', 'linux/arm64']);
    const dropped = source.manifests.find((c) => c.platform?.architecture === 'arm');
    expect(await dst.manifestHead('team/app', dropped!.digest)).toBeUndefined();
    for (const c of copied.manifests) expect(await dst.manifestHead('team/app', c.digest)).toBeDefined();
  });

  it.each([
    { platforms: ['windows/amd64'], code: 'NOT_FOUND', message: /available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7/ },
    { platforms: ['linux'], code: 'INVALID_REFERENCE', message: /invalid platform "linux"/ },
  ])('rejects $platforms with $code before writing anything', async ({ platforms, code, message }) => {
    const { src, dst } = twoRegistries();
    await pushMultiPlatform(src, 'team/app', 'v1');
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { platforms }).catch((e: unknown) => e);
    expect(isOciError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    expect((err as Error).message).toMatch(message);
    expect(dst.log).toEqual([]);
  });

  it('checks a single image against its config platform', async () => {
    const { src, dst } = twoRegistries();
    await pushImage(src, 'team/app', 'v1', { layers: [100], platform: { os: 'linux', architecture: 'arm64' } });
    const ok = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { platforms: ['linux/arm64'] });
    expect(dst.tagDigest('team/app', 'v1')).toBe(ok.digest);
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v2' }, { platforms: ['linux/amd64'] }).catch((e: unknown) => e);
    expect(isOciError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).message).toMatch(/single-platform image for linux\/arm64, not linux\/amd64/);
  });
});

describe('copyImage: transfers', () => {
  it('bounds parallel blob transfers by the concurrency option and reports progress events', async () => {
    const { src, dst } = twoRegistries();
    await pushImage(src, 'team/app', 'v1', { layers: [70_000, 70_000, 70_000, 70_000, 70_000] });
    let active = 0;
    let peak = 0;
    const events: CopyEvent[] = [];
    await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: dst, repository: 'team/app', tag: 'v1' },
      {
        concurrency: 2,
        onEvent: (e) => {
          events.push(e);
          if (e.type !== 'blob') return;
          if (e.phase === 'started') peak = Math.max(peak, ++active);
          if (e.phase === 'finished' || e.phase === 'skipped' || e.phase === 'mounted') active--;
        },
      },
    );
    expect(peak).toBe(2);
    const progress = events.filter((e) => e.phase === 'progress');
    expect(progress.length).toBeGreaterThan(5);
    expect(events.filter((e) => e.type === 'blob' && e.phase === 'finished')).toHaveLength(6);
    expect(events.filter((e) => e.type === 'blob' && e.phase === 'finished').every((e) => e.bytes === e.size)).toBe(true);
  });

  it('uses the resumable (opener + chunkSize) form above the chunk threshold', async () => {
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [200_000] });
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { chunkThreshold: 100_000, chunkSize: 50_000 });
    expect(dst.blobPutBodies.sort()).toEqual(['opener', 'stream']);
    expect(dst.tagDigest('team/app', 'v1')).toBe(image.digest);
  });

  it('a throwing event listener does not break the copy', async () => {
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [100] });
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, {
      onEvent: () => {
        throw new Error('display broke');
      },
    });
    expect(dst.tagDigest('team/app', 'v1')).toBe(image.digest);
  });

  it('de-duplicates a blob that two concurrent copies to the same target need', async () => {
    const { src, dst } = twoRegistries();
    const shared = syntheticBytes('shared', 300_000);
    const a = await pushImage(src, 'team/app', 'a', { layers: [shared] });
    const b = await pushImage(src, 'team/app', 'b', { layers: [shared, 100] });
    const [ra, rb] = await Promise.all([
      copyImage({ registry: src, repository: 'team/app', reference: 'a' }, { registry: dst, repository: 'team/app', tag: 'a' }),
      copyImage({ registry: src, repository: 'team/app', reference: 'b' }, { registry: dst, repository: 'team/app', tag: 'b' }),
    ]);
    const sharedDigest = a.layers[0]!.digest;
    expect(b.layers[0]!.digest).toBe(sharedDigest);
    expect(dst.log.filter((c) => c.method === 'blobPut' && c.reference === sharedDigest)).toHaveLength(1);
    expect(ra.blobs.uploaded + rb.blobs.uploaded + ra.blobs.skipped + rb.blobs.skipped).toBe(5);
    expect(dst.tagDigest('team/app', 'a')).toBe(a.digest);
    expect(dst.tagDigest('team/app', 'b')).toBe(b.digest);
  });
});
