// syncRepository with two tags that name the same index, copied at once to one target. The target
// models what distribution 2.8.2 (filesystem storage) does when a manifest is PUT while another PUT of it
// is rewriting its link files: an index PUT that lists it is refused (400 MANIFEST_BLOB_UNKNOWN).
// Measured on the real registry, 300 rounds of (child PUT x2, index PUT by digest, index PUT by tag) at
// once: 160 of the 600 index PUTs were refused so; 300 rounds of two tag PUTs of one index refused none.
// The once-in-CI failure of cli-dry-run.test.ts ("1 of 2 tag copies failed: b v2") was this: both tags'
// copies pushed the same children, and one copy's index PUT met the other's child PUT.
import { describe, expect, it } from 'vitest';
import { DelegatingRegistry } from '../../../functions/oci/delegating-registry.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { parseManifest } from '../../../functions/oci/manifest.ts';
import type { Manifest } from '../../../functions/oci/types.ts';
import { syncRepository, type SyncEvent } from '../../../functions/registries/sync.ts';
import { MemoryRegistry, pushCosignSignature, pushMultiPlatform } from '../../helpers/memory-registry.ts';
import { memoryAdapter } from '../replication/support.ts';

const isDigest = (ref: string): boolean => ref.startsWith('sha256:');
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/**
 * A MemoryRegistry front with distribution's rewrite window, held open: a PUT by digest of a manifest
 * the target already has, or is being sent already (a rewrite of its link files), stays in flight until an index PUT that lists it
 * arrives, or 50 event-loop turns; such an index PUT, by digest or by tag, is refused with 400
 * MANIFEST_BLOB_UNKNOWN, as distribution answers inside the window. Records every manifest PUT.
 */
class RewriteWindowTarget extends DelegatingRegistry {
  readonly puts: string[] = [];
  private readonly rewriting = new Map<string, () => void>();
  private readonly sending = new Set<string>();

  constructor(readonly memory: MemoryRegistry) {
    super(memory);
  }

  override async manifestPut(repository: string, reference: string, manifest: Pick<Manifest, 'raw' | 'mediaType'>): Promise<string> {
    this.puts.push(reference);
    const busy = parseManifest(manifest.raw, manifest.mediaType).manifests.find((c) => this.rewriting.has(c.digest));
    if (busy !== undefined) {
      this.rewriting.get(busy.digest)?.();
      throw new OciError(`${this.host}/${repository}:${reference}: MANIFEST_BLOB_UNKNOWN: blob unknown to registry (${busy.digest}, being rewritten)`, {
        code: 'MANIFEST_INVALID', status: 400, registry: this.host,
      });
    }
    if (!isDigest(reference)) return super.manifestPut(repository, reference, manifest);
    if (!this.sending.has(reference) && this.memory.rawManifest(repository, reference) === undefined) {
      this.sending.add(reference);
      try {
        return await super.manifestPut(repository, reference, manifest);
      } finally {
        this.sending.delete(reference);
      }
    }
    let release = (): void => undefined;
    const refused = new Promise<void>((resolve) => (release = resolve));
    this.rewriting.set(reference, release);
    try {
      await Promise.race([refused, turns(50)]);
      return await super.manifestPut(repository, reference, manifest);
    } finally {
      this.rewriting.delete(reference);
    }
  }
}

async function setup() {
  const source = memoryAdapter('source');
  const { index, children } = await pushMultiPlatform(source.oci, 'team/app', 'v1', { layerSize: 5000 });
  await source.oci.manifestPut('team/app', 'v2', index);
  const signature = await pushCosignSignature(source.oci, 'team/app', index);
  const memory = new MemoryRegistry({ host: 'target.test:5000' });
  const oci = new RewriteWindowTarget(memory);
  const target = { ...memoryAdapter('target', memory), oci };
  return { source, target, oci, memory, index, children, signature };
}

describe('syncRepository, two tags of one digest to one target at once', () => {
  it('pushes each manifest once by digest; the second tag waits for the first copy, then only its tag is PUT', async () => {
    // Prepare
    const { source, target, oci, memory, index, children, signature } = await setup();
    const events: SyncEvent[] = [];
    // Act
    const result = await syncRepository({ source, targets: [target], repository: 'team/app', concurrency: 2, onEvent: (e) => events.push(e) });
    // Assess
    expect(result.targets[0]!.tags.map((o) => [o.tag, o.result?.digest, o.error?.message])).toEqual([['v1', index.digest, undefined], ['v2', index.digest, undefined]]);
    expect(result.ok).toBe(true);
    const byDigest = oci.puts.filter(isDigest);
    expect(byDigest.sort()).toEqual([index.digest, ...children.map((c) => c.digest), signature.digest].sort());
    expect(oci.puts.filter((r) => r === 'v1' || r === 'v2').sort()).toEqual(['v1', 'v2']);
    // Every blob went up once, whichever copy sent it.
    const uploaded = result.targets[0]!.tags.reduce((n, o) => n + (o.result?.blobs.uploaded ?? 0), 0);
    expect(uploaded).toBe(memory.count('blobPut'));
    expect(new Set(memory.log.filter((c) => c.method === 'blobPut').map((c) => c.reference)).size).toBe(memory.count('blobPut'));
    // Nothing tagged before the index it names was at the target.
    expect(oci.puts.indexOf('v2')).toBeGreaterThan(oci.puts.indexOf(index.digest));
    expect(memory.tagDigest('team/app', 'v1')).toBe(index.digest);
    expect(memory.tagDigest('team/app', 'v2')).toBe(index.digest);
    // The events keep their shape: each tag started and finished once, its copy events tagged with it.
    expect(events.filter((e) => e.type === 'tag-finished').map((e) => e.type === 'tag-finished' && e.tag).sort()).toEqual(['v1', 'v2']);
    const waited = events.filter((e) => e.type === 'copy' && e.event.type === 'manifest' && e.event.reason === 'pushed by a concurrent copy');
    expect(waited.map((e) => e.type === 'copy' && [e.tag, e.event.digest])).toContainEqual(['v2', index.digest]);
  });

  it('when the first copy of the digest fails, the waiting tag pushes it itself', async () => {
    // Prepare: the first PUT of the index by digest is refused (not retryable)
    const { source, target, memory, index } = await setup();
    memory.addFault({
      method: 'manifestPut', nth: 1, when: (c) => c.reference === index.digest,
      error: () => new OciError('denied (injected)', { code: 'DENIED', status: 403, registry: memory.host }),
    });
    // Act
    const result = await syncRepository({ source, targets: [target], repository: 'team/app', concurrency: 2 });
    // Assess
    const [v1, v2] = result.targets[0]!.tags;
    expect(v1!.error?.message).toMatch(/denied \(injected\)/);
    expect(v2!.result?.digest).toBe(index.digest);
    expect(memory.tagDigest('team/app', 'v1')).toBeUndefined();
    expect(memory.tagDigest('team/app', 'v2')).toBe(index.digest);
  });
});
