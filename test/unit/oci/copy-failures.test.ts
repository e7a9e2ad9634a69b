// Copy engine failure paths: nothing is tagged on failure, retryable faults recover, aborts stop the copy.
import { describe, expect, it } from 'vitest';
import { copyImage } from '../../../functions/oci/copy.ts';
import { OciError, isOciError } from '../../../functions/oci/errors.ts';
import { MemoryRegistry, pushImage, pushMultiPlatform } from '../../helpers/memory-registry.ts';

const fast = { retryDelayMs: 1 };

function setup(): { src: MemoryRegistry; dst: MemoryRegistry } {
  return { src: new MemoryRegistry({ host: 'src.test:5000' }), dst: new MemoryRegistry({ host: 'dst.test:5000' }) };
}

function tagPuts(reg: MemoryRegistry, tag: string): number {
  return reg.log.filter((c) => c.method === 'manifestPut' && c.reference === tag).length;
}

describe('copyImage: failures leave no tag', () => {
  it.each([
    { name: 'a non-retryable blobPut error on the 2nd blob', fault: { method: 'blobPut' as const, nth: 2, error: () => new OciError('denied', { code: 'DENIED', status: 403 }) }, code: 'DENIED' },
    { name: 'a 503 that keeps failing past the retries', fault: { method: 'blobPut' as const, error: () => new OciError('busy', { code: 'UNAVAILABLE', status: 503, retryable: true }) }, code: 'UNAVAILABLE' },
    { name: 'a source stream reset on every attempt', fault: { method: 'blobGet' as const, breakStreamAfter: 16_384 }, code: undefined },
    { name: 'a 401 on a blob HEAD at the target', fault: { method: 'blobHead' as const, nth: 3, error: () => new OciError('unauthorized', { code: 'UNAUTHORIZED', status: 401 }) }, code: 'UNAUTHORIZED' },
  ])('$name → COPY_INCOMPLETE with the cause, and the tag PUT is never attempted', async ({ fault, code }) => {
    // Prepare
    const { src, dst } = setup();
    await pushImage(src, 'team/app', 'v1', { layers: [40_000, 40_000, 40_000] });
    (fault.method === 'blobGet' ? src : dst).addFault(fault);
    // Act
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { ...fast, retries: 2 }).catch((e: unknown) => e);
    // Assess
    expect(isOciError(err, 'COPY_INCOMPLETE')).toBe(true);
    expect((err as Error).message).toMatch(/The tag "v1" was not published/);
    const cause = (err as Error).cause;
    if (code) expect(isOciError(cause, code as never)).toBe(true);
    else expect((cause as { code?: string }).code).toBe('ECONNRESET');
    expect(dst.tagDigest('team/app', 'v1')).toBeUndefined();
    expect(tagPuts(dst, 'v1')).toBe(0);
    expect(dst.count('manifestPut')).toBe(0);
  });

  it('an index whose child fails is never pushed, nor tagged', async () => {
    const { src, dst } = setup();
    const { index, children } = await pushMultiPlatform(src, 'team/app', 'v1');
    const victim = children[1]!.layers[1]!.digest;
    dst.addFault({ method: 'blobPut', when: (c) => c.reference === victim, error: () => new OciError('denied', { code: 'DENIED' }) });
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, fast).catch((e: unknown) => e);
    expect(isOciError(err, 'COPY_INCOMPLETE')).toBe(true);
    expect(isOciError((err as Error).cause, 'DENIED')).toBe(true);
    expect(dst.rawManifest('team/app', index.digest)).toBeUndefined();
    expect(dst.rawManifest('team/app', children[1]!.digest)).toBeUndefined();
    expect(tagPuts(dst, 'v1')).toBe(0);
    expect(tagPuts(dst, index.digest)).toBe(0);
  });

  it('a failing tag PUT surfaces as COPY_INCOMPLETE after everything below was pushed', async () => {
    const { src, dst } = setup();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [100] });
    dst.addFault({ method: 'manifestPut', when: (c) => c.reference === 'v1', error: () => new OciError('tag immutable', { code: 'DENIED' }) });
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, fast).catch((e: unknown) => e);
    expect(isOciError(err, 'COPY_INCOMPLETE')).toBe(true);
    expect(dst.rawManifest('team/app', image.digest)).toBeDefined();
    expect(dst.tagDigest('team/app', 'v1')).toBeUndefined();
  });
});

describe('copyImage: retries', () => {
  it.each([
    { name: 'a 503 on one upload', target: 'dst' as const, fault: { method: 'blobPut' as const, nth: 2, error: () => new OciError('busy', { code: 'UNAVAILABLE', status: 503, retryable: true }) } },
    { name: 'a 429 with Retry-After', target: 'dst' as const, fault: { method: 'blobPut' as const, nth: 1, error: () => new OciError('slow down', { code: 'TOO_MANY_REQUESTS', status: 429, retryable: true, retryAfterSeconds: 0.01 }) } },
    { name: 'a connection reset mid-blob on the source', target: 'src' as const, fault: { method: 'blobGet' as const, nth: 1, breakStreamAfter: 20_000 } },
    { name: 'a network error opening the source blob', target: 'src' as const, fault: { method: 'blobGet' as const, nth: 2, error: () => new OciError('reset', { code: 'NETWORK' }) } },
  ])('recovers from $name with identical digests', async ({ target, fault }) => {
    const { src, dst } = setup();
    const image = await pushImage(src, 'team/app', 'v1', { layers: [60_000, 60_000] });
    (target === 'src' ? src : dst).addFault(fault);
    const retrying: string[] = [];
    const result = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, {
      ...fast,
      onEvent: (e) => e.phase === 'retrying' && retrying.push(e.digest),
    });
    expect(result.digest).toBe(image.digest);
    expect(dst.tagDigest('team/app', 'v1')).toBe(image.digest);
    expect(retrying).toHaveLength(1);
    // The retried blob was read again from a fresh GET.
    expect(src.log.filter((c) => c.method === 'blobGet' && c.reference === retrying[0])).toHaveLength(2);
    expect(result.blobs.uploaded).toBe(3);
  });

  it('does not retry a non-retryable error', async () => {
    const { src, dst } = setup();
    await pushImage(src, 'team/app', 'v1', { layers: [100] });
    dst.addFault({ method: 'blobPut', error: () => new OciError('denied', { code: 'DENIED' }) });
    await expect(copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { ...fast, concurrency: 1 })).rejects.toMatchObject({ code: 'COPY_INCOMPLETE' });
    expect(dst.count('blobPut')).toBe(1);
  });
});

describe('copyImage: abort', () => {
  it('stops on abort mid-copy, throws COPY_INCOMPLETE, and tags nothing', async () => {
    const { src, dst } = setup();
    await pushImage(src, 'team/app', 'v1', { layers: [200_000, 200_000, 200_000, 200_000, 200_000, 200_000] });
    const controller = new AbortController();
    dst.addFault({ method: 'blobPut', nth: 2, before: () => controller.abort(new Error('user pressed ^C')) });
    const err = await copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { signal: controller.signal, concurrency: 2 }).catch((e: unknown) => e);
    expect(isOciError(err, 'COPY_INCOMPLETE')).toBe(true);
    expect((err as Error).message).toMatch(/aborted/);
    expect(((err as Error).cause as Error).message).toBe('user pressed ^C');
    expect(dst.count('blobPut')).toBeLessThan(7);
    expect(dst.count('manifestPut')).toBe(0);
  });

  it('refuses to start when the signal is already aborted', async () => {
    const { src, dst } = setup();
    await pushImage(src, 'team/app', 'v1', { layers: [100] });
    src.resetCalls();
    await expect(copyImage({ registry: src, repository: 'team/app', reference: 'v1' }, { registry: dst, repository: 'team/app', tag: 'v1' }, { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(src.log).toEqual([]);
    expect(dst.log).toEqual([]);
  });
});
