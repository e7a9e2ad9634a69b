// Retention races a push on a real registry: a tag pushed onto a planned digest between listing and DELETE is not deleted with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { validateConfig } from '../../functions/config/index.ts';
import type { RegistryAdapter } from '../../functions/registries/adapter.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { parsePolicy } from '../../functions/retention/index.ts';
import { sweepRepository } from '../../functions/retention/sweep.ts';
import { CHANGED_SINCE_PLAN } from '../../functions/retention/sweep-recheck.ts';
import { pushImage, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const OLD = { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' };
const NOW = new Date('2024-06-01T00:00:00Z');
const policy = parsePolicy({ delete: { olderThanDays: 30 }, keep: { tags: ['v*', 'prod-*'] } });

describe('retention apply rechecks the registry before each DELETE (real registry)', () => {
  let reg: RunningRegistry;
  let adapters: Map<string, RegistryAdapter>;
  let adapter: RegistryAdapter;

  beforeAll(async () => {
    reg = await startRegistry();
    const { config, errors } = validateConfig(JSON.stringify({ version: 1, registries: { local: { kind: 'oci', url: reg.url, public: true } } }), 'race.json');
    expect(errors).toEqual([]);
    adapters = createAdapters(config!, {}) as Map<string, RegistryAdapter>;
    adapter = adapters.get('local')!;
  }, 60_000);

  afterAll(async () => {
    if (adapters) closeAdapters(adapters.values());
    await reg?.stop();
  });

  async function exists(repo: string, digest: string): Promise<boolean> {
    const res = await new RawRegistryClient(reg).request('HEAD', `/v2/${repo}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' },
    });
    return res.status === 200;
  }

  it('skips a digest that was tagged prod-* after the plan ("skipped: changed since plan"), deletes the rest, and verifies the registry\'s current tags', async () => {
    // Prepare: three old builds planned for expiry, one kept release.
    const repo = 'race/app';
    const builds: PushedImage[] = [];
    for (const tag of ['build-1', 'build-2', 'build-3']) builds.push(await pushImage(reg, repo, tag, { layers: [64], annotations: OLD }));
    const release = await pushImage(reg, repo, 'v1.0.0', { layers: [64], annotations: OLD });
    const audit = new AuditLog(new InMemoryAuditStore());
    let raced = false;

    // Act: right before build-2's recheck (after the plan listed it), someone tags it prod-1.
    const report = await sweepRepository({
      adapter, repository: repo, policy, policyName: 'race', mode: 'apply', now: NOW, maxDeleteShare: 1,
      audit, correlationId: 'race-1', actor: 'test',
      beforeRecheck: async (digest) => {
        if (digest !== builds[1]!.digest || raced) return;
        raced = true;
        await adapter.tagImage(repo, digest, 'prod-1');
      },
    });

    // Assess: build-2 and its new tag survive; the others are gone; the report says why.
    expect(raced).toBe(true);
    expect(report.status).toBe('applied');
    expect(report.counts).toMatchObject({ expired: 3, deleted: 2, skipped: 1, failed: 0 });
    expect(report.skipped).toEqual([expect.objectContaining({ digest: builds[1]!.digest, error: `${CHANGED_SINCE_PLAN}: now tagged prod-1` })]);
    expect(await skopeoDigest(`${reg.host}/${repo}:prod-1`)).toBe(builds[1]!.digest);
    expect(await exists(repo, builds[0]!.digest)).toBe(false);
    expect(await exists(repo, builds[2]!.digest)).toBe(false);
    expect(await exists(repo, release.digest)).toBe(true);
    // Verified against the registry now: prod-1 and build-2 (on the skipped digest) and v1.0.0 exist.
    expect(report.verified).toMatchObject({ tags: 3, problems: [] });
    const skippedRecord = (await audit.query({})).find((r) => r.digest === builds[1]!.digest);
    expect(skippedRecord).toMatchObject({ action: 'retention.delete', outcome: 'skipped', errorMessage: expect.stringContaining(CHANGED_SINCE_PLAN) });
  });

  it('skips an old child manifest that a new index (tagged after the plan) now references', async () => {
    // Prepare: an old untagged-by-policy build whose digest a new multi-arch index will reuse.
    const repo = 'race/multi';
    const old = await pushImage(reg, repo, 'build-1', { layers: [64], annotations: OLD });
    await pushImage(reg, repo, 'v1.0.0', { layers: [64], annotations: OLD });
    const audit = new AuditLog(new InMemoryAuditStore());

    // Act: an index that names the old image as a child is pushed and tagged v2.0.0 before the recheck.
    const report = await sweepRepository({
      adapter, repository: repo, policy, policyName: 'race', mode: 'apply', now: NOW, maxDeleteShare: 1,
      audit, correlationId: 'race-2', actor: 'test',
      beforeRecheck: async () => {
        const raw = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [{ mediaType: old.mediaType, digest: old.digest, size: old.raw.length, platform: { os: 'linux', architecture: 'amd64' } }],
        });
        await adapter.oci.manifestPut(repo, 'v2.0.0', { raw: Buffer.from(raw), mediaType: 'application/vnd.oci.image.index.v1+json' });
      },
    });

    // Assess
    expect(report.skipped.map((s) => s.digest)).toEqual([old.digest]);
    expect(report.skipped[0]!.error).toMatch(/skipped: changed since plan: the new manifest sha256:[a-f0-9]{64} \(tagged after the plan\) references it/);
    expect(await exists(repo, old.digest)).toBe(true);
    expect(report.verified?.problems).toEqual([]);
  });
});
