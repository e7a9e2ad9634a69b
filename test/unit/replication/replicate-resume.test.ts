// The per-push path resumes too: a replicate attempt that fails mid-copy leaves the blobs it verified in the blob
// progress store, and the retry of the same event (Lambda's async retry) skips them without a HEAD or an upload.
import { describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import type { BlobProgressKey, BlobProgressStore } from '../../../functions/replication/blob-progress.ts';
import { ReplicationFailedError } from '../../../functions/replication/errors.ts';
import type { ImageActionEvent } from '../../../functions/replication/event.ts';
import { replicateImage, type ReplicationDeps } from '../../../functions/replication/replicate.ts';
import { pushImage } from '../../helpers/memory-registry.ts';
import { memoryAdapter, replicationConfig } from './support.ts';

/** A BlobProgressStore over a Map, as the replication-state table's `blobs#` records hold it. */
class MapBlobProgress implements BlobProgressStore {
  readonly records = new Map<string, Set<string>>();
  readonly reads: BlobProgressKey[] = [];
  private id(key: BlobProgressKey): string {
    return `${key.target}#${key.repository}#${key.digest}`;
  }
  async verifiedBlobs(key: BlobProgressKey, only?: readonly string[]): Promise<Set<string>> {
    this.reads.push(key);
    const all = this.records.get(this.id(key)) ?? new Set<string>();
    return new Set(only ? only.filter((d) => all.has(d)) : all);
  }
  async recordVerified(key: BlobProgressKey, digests: readonly string[]): Promise<void> {
    const set = this.records.get(this.id(key)) ?? new Set<string>();
    for (const d of digests) set.add(d);
    this.records.set(this.id(key), set);
  }
  async forget(key: BlobProgressKey): Promise<void> {
    this.records.delete(this.id(key));
  }
}

describe('replicateImage resumes from the blob progress of an earlier attempt', () => {
  it('the retry of a failed copy HEADs and uploads only the blobs the first attempt did not verify', async () => {
    // Prepare: one target; its upload of the biggest layer is refused once, as a crash or a throttle would end it
    const source = memoryAdapter('source');
    const target = memoryAdapter('target-a');
    const progress = new MapBlobProgress();
    const audit = new AuditLog(new InMemoryAuditStore());
    const deps: ReplicationDeps = {
      config: replicationConfig({ targets: [{ registry: 'target-a' }] }),
      adapters: new Map([source, target].map((x) => [x.name, x])),
      audit,
      blobProgress: progress,
      copyOptions: { retryDelayMs: 1 },
    };
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [1000, 2000, 3000, 50_000] });
    const big = image.layers.at(-1)!.digest;
    const blobs = [image.config!.digest, ...image.layers.map((l) => l.digest)];
    target.registry.addFault({ method: 'blobPut', when: (c) => c.reference === big, times: 1, before: () => new Promise((r) => setTimeout(r, 50)), error: () => new OciError('denied (injected)', { code: 'DENIED', status: 403 }) });
    const event: ImageActionEvent = { id: 'evt-resume', time: '2026-12-03T12:00:00Z', account: '123456789012', region: 'us-east-1', repository: 'team/app', digest: image.digest, actionType: 'PUSH', result: 'SUCCESS', tag: 'v1' };
    const input = { event, sourceRegistry: 'source', correlationId: event.id, actor: 'event:aws.ecr' };

    // Act 1: the first attempt fails on the big layer
    const first = await replicateImage(input, deps).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ReplicationFailedError);
    expect(target.registry.tagDigest('team/app', 'v1')).toBeUndefined();
    const key = { target: 'target-a', repository: 'team/app', digest: image.digest };
    const recorded = await progress.verifiedBlobs(key);
    expect(recorded.size).toBeGreaterThan(0);
    expect(recorded.has(big)).toBe(false);
    for (const d of recorded) expect(await target.registry.blobHead('team/app', d)).toBeDefined();
    target.registry.resetCalls();

    // Act 2: the retry of the same event
    const second = await replicateImage(input, deps);

    // Assess: published; the recorded blobs were neither HEADed nor uploaded again
    expect(second.status).toBe('replicated');
    expect(target.registry.tagDigest('team/app', 'v1')).toBe(image.digest);
    const touched = target.registry.log.filter((c) => c.method === 'blobHead' || c.method === 'blobPut').map((c) => c.reference);
    expect(touched.filter((d) => d !== undefined && recorded.has(d))).toEqual([]);
    expect(target.registry.log.filter((c) => c.method === 'blobPut').map((c) => c.reference)).toContain(big);
    const records = await audit.query({ action: 'replicate', order: 'oldest-first' });
    expect(records.map((r) => r.outcome)).toEqual(['failure', 'success']);
    expect(records[1]!.blobs).toEqual({ uploaded: blobs.length - recorded.size, mounted: 0, skipped: recorded.size });
    // Everything is recorded now, for a later reconcile of the same digest.
    expect([...(await progress.verifiedBlobs(key))].sort()).toEqual([...blobs].sort());
  });
});
