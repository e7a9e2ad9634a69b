// reconcile on real registries through createAdapters: drift (missing and moved tags) is found, repaired and audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { reconcile } from '../../functions/replication/reconcile.ts';
import type { ReplicationDeps } from '../../functions/replication/replicate.ts';
import { cosignTag, pushCosignSignature, pushImage, pushOciIndex } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

let source: RunningRegistry;
let target: RunningRegistry;
let deps: ReplicationDeps;

beforeAll(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  const { config, errors } = validateConfig(
    JSON.stringify({
      registries: { source: { kind: 'oci', url: source.url, public: true }, target: { kind: 'oci', url: target.url, public: true } },
      replication: [{ name: 'teams', source: 'source', repositories: ['team/*'], tags: { include: ['v*'] }, targets: [{ registry: 'target', repositoryPrefix: 'dr' }] }],
    }),
    'reconcile-test.json',
  );
  expect(errors).toEqual([]);
  if (!config) throw new Error('config did not validate');
  deps = { config, adapters: createAdapters(config, {}), audit: new AuditLog(new InMemoryAuditStore()) };
});

afterAll(async () => {
  if (deps) closeAdapters(deps.adapters.values());
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('reconcile on real registries', () => {
  it('repairs missing and moved tags, leaves others alone, and is quiet on the next run', async () => {
    // Prepare: team/app v1 (replicated earlier, then moved at the source), team/web v2 (never replicated), other/x (no rule)
    const old = await pushImage(source, 'team/app', 'v1', { layers: [1000] });
    await pushImage(target, 'dr/team/app', 'v1', { layers: [1000] });
    const moved = await pushImage(source, 'team/app', 'v1', { layers: [1500] });
    const index = await pushOciIndex(source, 'team/web', 'v2');
    await pushImage(source, 'team/web', 'dev', { layers: [100] });
    await pushImage(source, 'other/x', 'v1', { layers: [100] });
    expect(moved.digest).not.toBe(old.digest);
    // Act
    const report = await reconcile(deps, { correlationId: 'reconcile-it' });
    const again = await reconcile(deps);
    // Assess
    expect(report).toMatchObject({ checked: 2, repaired: 2, failed: 0 });
    expect(report.items.map((i) => [i.targetRepository, i.tag, i.status]).sort()).toEqual([['dr/team/app', 'v1', 'repaired'], ['dr/team/web', 'v2', 'repaired']]);
    expect(await skopeoDigest(`${target.host}/dr/team/app:v1`)).toBe(moved.digest);
    expect(await skopeoDigest(`${target.host}/dr/team/web:v2`)).toBe(index.digest);
    await expect(skopeoDigest(`${target.host}/dr/other/x:v1`)).rejects.toThrow();
    expect(again).toMatchObject({ checked: 2, inSync: 2, repaired: 0, failed: 0 });
    const records = await deps.audit.query({ action: 'reconcile' });
    expect(records).toHaveLength(2);
    expect(records.every((r) => r.correlationId === 'reconcile-it' && r.outcome === 'success')).toBe(true);
  });

  it('repairs a tag in sync whose signature, child manifest and layer were deleted at the target', async () => {
    // Prepare: team/signed v3 and its cosign signature, and team/multi v4 (an index), all replicated
    const signed = await pushImage(source, 'team/signed', 'v3');
    const signature = await pushCosignSignature(source, 'team/signed', signed.digest);
    const index = await pushOciIndex(source, 'team/multi', 'v4', ['linux/amd64', 'linux/arm64']);
    expect((await reconcile(deps)).failed).toBe(0);
    const sigTag = cosignTag(signed.digest, 'sig');
    expect(await skopeoDigest(`${target.host}/dr/team/signed:${sigTag}`)).toBe(signature.digest);
    // …then deleted there: the signature (and so its tag), one child, a layer of the other child
    const raw = new RawRegistryClient(target);
    const [first, second] = index.children;
    for (const path of [
      `/v2/dr/team/signed/manifests/${signature.digest}`,
      `/v2/dr/team/multi/manifests/${first!.digest}`,
      `/v2/dr/team/multi/blobs/${second!.layers.at(-1)!.digest}`,
    ]) {
      expect((await raw.request('DELETE', path)).status).toBe(202);
    }
    // Act
    const report = await reconcile(deps, { correlationId: 'reconcile-repairs' });
    // Assess: the tags were in sync, yet each pair is repaired and says what was missing
    const bySubject = new Map(report.items.map((i) => [i.targetRepository, i]));
    expect(bySubject.get('dr/team/signed')).toMatchObject({ status: 'repaired', targetDigest: signed.digest, repairs: { referrers: expect.arrayContaining([sigTag]) } });
    expect(bySubject.get('dr/team/multi')).toMatchObject({ status: 'repaired', repairs: { children: [first!.digest], blobs: [second!.layers.at(-1)!.digest] } });
    expect(await skopeoDigest(`${target.host}/dr/team/signed:${sigTag}`)).toBe(signature.digest);
    expect(await skopeoDigest(`${target.host}/dr/team/multi@${first!.digest}`)).toBe(first!.digest);
    const records = (await deps.audit.query({ action: 'reconcile' })).filter((r) => r.correlationId === 'reconcile-repairs');
    expect(records.find((r) => r.repository === 'team/signed')?.details).toMatchObject({ repaired: { referrers: expect.arrayContaining([sigTag]) } });
    expect((await reconcile(deps)).repaired).toBe(0);
  });
});
