import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DelegatingRegistry } from '../../../functions/oci/delegating-registry.ts';
import { MemoryRegistry, pushImage } from '../../helpers/memory-registry.ts';

class FixedTags extends DelegatingRegistry {
  override async tagList(): Promise<string[]> {
    return ['pinned'];
  }
}

describe('DelegatingRegistry', () => {
  it('forwards every call it does not override to the registry it wraps', async () => {
    const inner = new MemoryRegistry({ host: 'inner.test:5000' });
    const view = new FixedTags(inner);
    expect(view.host).toBe('inner.test:5000');

    const image = await pushImage(view, 'team/app', 'v1', { layers: [64] });
    expect(inner.tagDigest('team/app', 'v1')).toBe(image.digest);
    expect((await view.manifestHead('team/app', 'v1'))?.digest).toBe(image.digest);
    expect((await view.manifestGet('team/app', image.digest)).digest).toBe(image.digest);

    const layer = image.layers[0]!;
    expect(await view.blobHead('team/app', layer.digest)).toBe(64);
    const read = await view.blobGet('team/app', layer.digest);
    expect(read.size).toBe(64);
    read.stream.resume();
    expect(await view.blobMount('other/app', layer.digest, 'team/app')).toBe(inner.hasBlob('other/app', layer.digest));
    const bytes = Buffer.from('a new blob');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await view.blobPut('other/app', { digest, size: bytes.length }, Readable.from([bytes]));
    expect(inner.hasBlob('other/app', digest)).toBe(true);
    expect(await view.catalog()).toEqual(await inner.catalog());
    expect(await view.referrers('team/app', image.digest)).toEqual(await inner.referrers('team/app', image.digest));

    expect(await view.tagList()).toEqual(['pinned']);
    expect(await inner.tagList('team/app')).toEqual(['v1']);

    await view.manifestDelete('team/app', image.digest);
    expect(await inner.manifestHead('team/app', image.digest)).toBeUndefined();
    for (const method of ['manifestPut', 'manifestHead', 'manifestGet', 'blobHead', 'blobGet', 'blobMount', 'blobPut', 'catalog', 'referrers', 'manifestDelete'] as const) {
      expect(inner.count(method), method).toBeGreaterThan(0);
    }
  });
});
