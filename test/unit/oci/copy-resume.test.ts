// Resumable copies in the copy engine: blobs an earlier attempt verified are skipped without a HEAD, each blob verified now is reported once.
import { describe, expect, it } from 'vitest';
import { copyImage, type CopyEvent } from '../../../functions/oci/copy.ts';
import { MemoryRegistry, pushImage } from '../../helpers/memory-registry.ts';

describe('copyImage with resume', () => {
  it('skips the blobs recorded as verified (no HEAD, no upload) and reports the others once', async () => {
    // Prepare: an earlier attempt got the config and the first layer across, then died
    const src = new MemoryRegistry({ host: 'src.test:5000' });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [10_000, 20_000, 30_000] });
    const [first, ...rest] = image.layers;
    const done = [image.config!.digest, first!.digest];
    const target = new MemoryRegistry({ host: 'dst.test:5000' });
    for (const d of [image.config!, first!]) {
      const reader = await src.blobGet('team/app', d.digest);
      await target.blobPut('team/app', { digest: d.digest, size: d.size }, reader.stream);
    }
    target.resetCalls();
    const reported: string[] = [];
    const events: CopyEvent[] = [];
    // Act
    const result = await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: target, repository: 'team/app', tag: 'v1' },
      { resume: { verified: new Set(done), blobVerified: (d) => reported.push(d) }, onEvent: (e) => events.push(e) },
    );
    // Assess
    expect(result.blobs).toEqual({ uploaded: 2, mounted: 0, skipped: 2 });
    expect(target.log.filter((c) => c.method === 'blobHead').map((c) => c.reference).sort()).toEqual(rest.map((l) => l.digest).sort());
    expect(target.count('blobPut')).toBe(2);
    expect(reported.sort()).toEqual(rest.map((l) => l.digest).sort());
    expect(events.filter((e) => e.reason === 'verified at the target by an earlier attempt').map((e) => e.digest).sort()).toEqual([...done].sort());
    expect(target.tagDigest('team/app', 'v1')).toBe(image.digest);
  });

  it('the completeness check of a manifest already there still HEADs recorded blobs (it looks for deletions)', async () => {
    const src = new MemoryRegistry({ host: 'src.test:5000' });
    const dst = new MemoryRegistry({ host: 'dst.test:5000' });
    const image = await pushImage(src, 'team/app', 'v1', { layers: [1000, 2000] });
    await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' });
    dst.resetCalls();
    const all = [image.config!.digest, ...image.layers.map((l) => l.digest)];
    const reported: string[] = [];
    const again = await copyImage(
      { registry: src, repository: 'team/app', reference: 'v1' },
      { registry: dst, repository: 'team/app', tag: 'v1' },
      { resume: { verified: new Set(all), blobVerified: (d) => reported.push(d) } },
    );
    expect(again.noop).toBe(true);
    expect(dst.count('blobHead')).toBe(3);
    expect(reported).toEqual([]);
  });
});
