// How many blob transfers a copy runs at once: DEFAULT_CONCURRENCY without the option, the option's count with it.
import { describe, expect, it } from 'vitest';
import { copyImage, DEFAULT_CONCURRENCY, type CopyEvent } from '../../../functions/oci/copy.ts';
import { MemoryRegistry, pushImage } from '../../helpers/memory-registry.ts';

function twoRegistries(): { src: MemoryRegistry; dst: MemoryRegistry } {
  return { src: new MemoryRegistry({ host: 'src.test:5000' }), dst: new MemoryRegistry({ host: 'dst.test:5000' }) };
}

/** Counts blob transfers in flight from the copy's events ('started' is emitted once a transfer has its slot). */
function inFlight(): { onEvent: (e: CopyEvent) => void; peak: () => number } {
  const active = new Set<string>();
  let peak = 0;
  return {
    onEvent: (e) => {
      if (e.type !== 'blob') return;
      if (e.phase === 'started') active.add(e.digest);
      if (e.phase === 'finished' || e.phase === 'skipped' || e.phase === 'mounted' || e.phase === 'failed') active.delete(e.digest);
      peak = Math.max(peak, active.size);
    },
    peak: () => peak,
  };
}

describe('blob transfer concurrency', () => {
  it(`runs ${DEFAULT_CONCURRENCY} blobs at once by default`, async () => {
    expect(DEFAULT_CONCURRENCY).toBe(8);
    const { src, dst } = twoRegistries();
    const image = await pushImage(src, 'team/app', 'v1', { layers: Array.from({ length: 20 }, () => 40_000) });
    const seen = inFlight();
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { onEvent: seen.onEvent });
    expect(result.blobs.uploaded).toBe(21);
    expect(seen.peak()).toBe(DEFAULT_CONCURRENCY);
    expect(dst.tagDigest('team/app', 'v1')).toBe(image.digest);
  });

  it('runs as many as the concurrency option says', async () => {
    const { src, dst } = twoRegistries();
    await pushImage(src, 'team/app', 'v1', { layers: Array.from({ length: 10 }, () => 40_000) });
    for (const concurrency of [1, 3]) {
      const seen = inFlight();
      await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: `c${concurrency}/app`, tag: 'v1' }, { concurrency, onEvent: seen.onEvent });
      expect(seen.peak()).toBe(concurrency);
    }
  });
});
