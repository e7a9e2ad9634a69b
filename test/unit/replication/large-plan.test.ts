// planLargeImage over in-memory registries: push order, blob de-duplication across platforms and targets, small payloads.
import { describe, expect, it } from 'vitest';
import { OciError } from '../../../functions/oci/errors.ts';
import { LargeImageErrorName } from '../../../functions/replication/large/errors.ts';
import { MAX_PLAN_BYTES, planLargeImage } from '../../../functions/replication/large/plan.ts';
import type { LargeImageInput, LargeImageTarget } from '../../../functions/replication/large/types.ts';
import { MemoryRegistry, pushCosignSignature, pushImage, pushMultiPlatform, pushReferrer } from '../../helpers/memory-registry.ts';
import { memoryAdapter } from './support.ts';

const A: LargeImageTarget = { rule: 'mirror', registry: 'target-a', repository: 'team/app', referrers: true };
const B: LargeImageTarget = { rule: 'mirror', registry: 'target-b', repository: 'mirror/team/app', referrers: true };

function setup() {
  const source = memoryAdapter('source', new MemoryRegistry({ host: 'source.test:5000', referrersApi: true }));
  const adapters = new Map([source, memoryAdapter('target-a'), memoryAdapter('target-b')].map((x) => [x.name, x]));
  return { source, adapters };
}

const input = (digest: string, targets: LargeImageTarget[], tag = 'v1'): LargeImageInput => ({
  correlationId: 'corr-1',
  actor: 'event:aws.ecr',
  executionName: 'corr-1-abc',
  sourceRegistry: 'source',
  repository: 'team/app',
  digest,
  tag,
  targets,
});

describe('planLargeImage', () => {
  it('lists each blob once (shared by platforms and targets) and each target\'s manifests in push order, tag last', async () => {
    // Prepare
    const { source, adapters } = setup();
    const { index, children } = await pushMultiPlatform(source.oci, 'team/app', 'v1');
    const sig = await pushCosignSignature(source.oci, 'team/app', index);
    const sbom = await pushReferrer(source.oci, 'team/app', children[0]!);
    // Act
    const plan = await planLargeImage(input(index.digest, [A, B]), { adapters });
    // Assess: blobs: 1 shared + 3 own + 3 configs + sig (config, layer) + sbom (empty config, body)
    const expected = new Set([...children.flatMap((c) => [c.config!, ...c.layers]), sig.config!, ...sig.layers, sbom.config!, ...sbom.layers].map((b) => b.digest));
    expect(plan.blobs.map((b) => b.digest).sort()).toEqual([...expected].sort());
    expect(plan.blobs.every((b) => b.targets.length === 2 && b.targets[0] === 0 && b.targets[1] === 1)).toBe(true);
    expect(plan.totalBytes).toBe(plan.blobs.reduce((s, b) => s + b.size, 0));
    for (const t of plan.targets) {
      const order = t.manifests.map((m) => (m.tag ? `${m.digest}:${m.tag}` : m.digest));
      const at = (d: string) => order.indexOf(d);
      for (const c of children) expect(at(c.digest)).toBeLessThan(at(index.digest));
      expect(at(children[0]!.digest)).toBeLessThan(at(sbom.digest));
      expect(at(index.digest)).toBeLessThan(at(sig.digest));
      expect(at(sig.digest)).toBeLessThan(at(`${sig.digest}:${index.digest.replace(':', '-')}.sig`));
      expect(order.at(-1)).toBe(`${index.digest}:v1`);
      expect(t.root).toBe(index.digest);
      expect(t.blobCount).toBe(expected.size);
    }
    // digests and sizes only: no manifest bodies in the state
    const json = JSON.stringify(plan);
    expect(json).not.toContain('"raw"');
    expect(json).not.toContain('schemaVersion');
    expect(Buffer.byteLength(json)).toBeLessThan(8 * 1024);
  });

  it('follows each target\'s rule: one platform tags the child, no referrers leaves signatures out', async () => {
    // Prepare
    const { source, adapters } = setup();
    const { index, children } = await pushMultiPlatform(source.oci, 'team/app', 'v1');
    await pushCosignSignature(source.oci, 'team/app', index);
    const arm: LargeImageTarget = { ...B, platforms: ['linux/arm64'], referrers: false };
    // Act
    const plan = await planLargeImage(input(index.digest, [A, arm]), { adapters });
    // Assess
    const b = plan.targets[1]!;
    expect(b.root).toBe(children[1]!.digest);
    expect(b.manifests.map((m) => m.tag ?? m.digest)).toEqual([children[1]!.digest, 'v1']);
    const armBlobs = new Set([children[1]!.config!, ...children[1]!.layers].map((x) => x.digest));
    for (const blob of plan.blobs) expect(blob.targets).toEqual(armBlobs.has(blob.digest) ? [0, 1] : [0]);
    expect(b.blobCount).toBe(armBlobs.size);
  });

  it('refuses a platform subset (its index is not at the source) as a fatal error', async () => {
    // Prepare
    const { source, adapters } = setup();
    const { index } = await pushMultiPlatform(source.oci, 'team/app', 'v1');
    // Act
    const err = await planLargeImage(input(index.digest, [{ ...A, platforms: ['linux/amd64', 'linux/arm64'] }]), { adapters }).catch((e: unknown) => e as Error);
    // Assess
    expect(err).toMatchObject({ name: LargeImageErrorName.fatal, code: 'PLATFORM_SUBSET_UNSUPPORTED' });
  });

  it('refuses a plan that would not fit in a Step Functions state', async () => {
    // Prepare: ~1400 tiny distinct layers → well over MAX_PLAN_BYTES of descriptors
    const { source, adapters } = setup();
    const layers = Array.from({ length: 1400 }, (_, i) => Buffer.from(`layer-${i}`));
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers });
    // Act
    const err = await planLargeImage(input(image.digest, [A]), { adapters }).then(() => new Error('no error'), (e: unknown) => e as Error);
    // Assess
    expect(err).toMatchObject({ name: LargeImageErrorName.fatal, code: 'PLAN_TOO_LARGE' });
    expect(err.message).toContain(String(MAX_PLAN_BYTES));
  });

  it('names a registry missing from the config as fatal, and a source outage as retryable', async () => {
    // Prepare
    const { source, adapters } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [10] });
    source.registry.addFault({ method: 'manifestGet', times: 1, error: () => new OciError('registry unavailable', { code: 'UNAVAILABLE', retryable: true }) });
    // Act
    const unknown = await planLargeImage(input(image.digest, [{ ...A, registry: 'gone' }]), { adapters }).catch((e: unknown) => e as Error);
    const outage = await planLargeImage(input(image.digest, [A]), { adapters }).catch((e: unknown) => e as Error);
    // Assess
    expect(unknown).toMatchObject({ name: LargeImageErrorName.fatal, code: 'REGISTRY_UNKNOWN' });
    expect(outage).toMatchObject({ name: LargeImageErrorName.retryable });
  });
});
