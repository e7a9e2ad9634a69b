// copyRepository: every tag matching a regex, per-tag outcomes, one failure does not stop the others.
import { describe, expect, it } from 'vitest';
import { copyRepository } from '../../../functions/oci/copy.ts';
import { OciError, isOciError } from '../../../functions/oci/errors.ts';
import { fallbackTag } from '../../../functions/oci/referrers.ts';
import { MemoryRegistry, pushCosignSignature, pushImage } from '../../helpers/memory-registry.ts';

async function prepare(): Promise<{ src: MemoryRegistry; dst: MemoryRegistry; digests: Record<string, string> }> {
  const src = new MemoryRegistry({ host: 'src.test' });
  const dst = new MemoryRegistry({ host: 'dst.test' });
  const digests: Record<string, string> = {};
  for (const tag of ['v1.0', 'v1.1', 'v2.0', 'latest', 'v1.0-rc1']) {
    digests[tag] = (await pushImage(src, 'team/app', tag, { layers: [500, 700] })).digest;
  }
  return { src, dst, digests };
}

describe('copyRepository', () => {
  it.each([
    { pattern: /v1\.\d+/, want: ['v1.0', 'v1.1'] },
    { pattern: /v1.*/, want: ['v1.0', 'v1.0-rc1', 'v1.1'] },
    { pattern: /latest|v2\.0/, want: ['latest', 'v2.0'] },
    { pattern: /nothing/, want: [] },
  ])('copies the tags $pattern matches whole: $want', async ({ pattern, want }) => {
    const { src, dst, digests } = await prepare();
    const result = await copyRepository({ registry: src, repository: 'team/app' }, { registry: dst, repository: 'mirror/app' }, { tagPattern: pattern });
    expect(result.ok).toBe(true);
    expect(result.tags.map((t) => t.tag)).toEqual(want);
    for (const tag of want) {
      expect(dst.tagDigest('mirror/app', tag)).toBe(digests[tag]);
      expect(result.tags.find((t) => t.tag === tag)?.result?.digest).toBe(digests[tag]);
    }
    if (want.length > 0) expect((await dst.tagList('mirror/app')).sort()).toEqual([...want].sort());
  });

  it('reports a failed tag, still copies the others, and is not ok', async () => {
    const { src, dst, digests } = await prepare();
    const v11 = await src.manifestGet('team/app', 'v1.1');
    const victim = v11.layers[0]!.digest;
    dst.addFault({ method: 'blobPut', when: (c) => c.reference === victim, error: () => new OciError('denied', { code: 'DENIED' }) });
    const result = await copyRepository({ registry: src, repository: 'team/app' }, { registry: dst, repository: 'team/app' }, { tagPattern: /v.*/, retryDelayMs: 1 });
    expect(result.ok).toBe(false);
    const failed = result.tags.filter((t) => t.error);
    expect(failed.map((t) => t.tag)).toEqual(['v1.1']);
    expect(isOciError(failed[0]?.error, 'COPY_INCOMPLETE')).toBe(true);
    expect(dst.tagDigest('team/app', 'v1.1')).toBeUndefined();
    for (const tag of ['v1.0', 'v1.0-rc1', 'v2.0']) expect(dst.tagDigest('team/app', tag)).toBe(digests[tag]);
  });

  it('leaves signature tags to their subjects when referrers are on, and copies them as tags when off', async () => {
    const { src, dst } = await prepare();
    const image = await src.manifestGet('team/app', 'v2.0');
    await pushCosignSignature(src, 'team/app', image);
    const sigTag = `${fallbackTag(image.digest)}.sig`;
    const on = await copyRepository({ registry: src, repository: 'team/app' }, { registry: dst, repository: 'a' }, { tagPattern: /.*/ });
    expect(on.tags.map((t) => t.tag)).not.toContain(sigTag);
    expect(dst.tagDigest('a', sigTag)).toBeDefined();
    const off = await copyRepository({ registry: src, repository: 'team/app' }, { registry: dst, repository: 'b' }, { tagPattern: /.*/, referrers: false });
    expect(off.tags.map((t) => t.tag)).toContain(sigTag);
  });

  it('stops starting tags once aborted, and reports them', async () => {
    const { src, dst } = await prepare();
    const controller = new AbortController();
    dst.addFault({ method: 'manifestPut', nth: 1, before: () => controller.abort() });
    const result = await copyRepository({ registry: src, repository: 'team/app' }, { registry: dst, repository: 'team/app' }, { tagPattern: /.*/, signal: controller.signal });
    expect(result.ok).toBe(false);
    expect(result.tags).toHaveLength(5);
    expect(result.tags.every((t) => t.error)).toBe(true);
    expect(await dst.tagList('team/app').catch(() => [])).toEqual([]);
  });
});
