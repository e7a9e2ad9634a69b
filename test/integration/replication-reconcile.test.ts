// reconcile on real registries through createAdapters: drift (missing and moved tags) is found, repaired and audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { reconcile } from '../../functions/replication/reconcile.ts';
import type { ReplicationDeps } from '../../functions/replication/replicate.ts';
import { pushImage, pushOciIndex } from '../helpers/images.ts';
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
});
