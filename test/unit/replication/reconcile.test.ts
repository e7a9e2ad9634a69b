// reconcile over in-memory registries: drift found and repaired (audited), in-sync tags left alone, failures reported.
import { describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { ReplicationError } from '../../../functions/replication/errors.ts';
import { ReplicationMetric } from '../../../functions/replication/observability.ts';
import { reconcile } from '../../../functions/replication/reconcile.ts';
import type { ReplicationDeps } from '../../../functions/replication/replicate.ts';
import { pushCosignSignature, pushImage } from '../../helpers/memory-registry.ts';
import { RecordingMetrics, memoryAdapter, replicationConfig } from './support.ts';

function setup() {
  const source = memoryAdapter('source');
  const a = memoryAdapter('target-a');
  const b = memoryAdapter('target-b');
  const audit = new AuditLog(new InMemoryAuditStore());
  const metrics = new RecordingMetrics();
  const deps: ReplicationDeps = { config: replicationConfig(), adapters: new Map([source, a, b].map((x) => [x.name, x])), audit, metrics, copyOptions: { retryDelayMs: 1 } };
  return { source, a, b, audit, metrics, deps };
}

describe('reconcile', () => {
  it('copies missing and different tags, leaves in-sync ones, and audits each repair as reconcile', async () => {
    // Prepare
    const { source, a, b, audit, metrics, deps } = setup();
    const v1 = await pushImage(source.oci, 'team/app', 'v1', { layers: [500] });
    const latest = await pushImage(source.oci, 'team/app', 'latest', { layers: [700] });
    await pushImage(source.oci, 'team/app', 'dev', { layers: [300] }); // not selected by the rule
    await pushCosignSignature(source.oci, 'team/app', v1);
    // target-a: a different image under v1 (drift), and the same latest (pushed from the same seed).
    const stale = await pushImage(a.oci, 'team/app', 'v1', { layers: [500], seed: 'an older build' });
    await pushImage(a.oci, 'team/app', 'latest', { layers: [700] });
    // Act
    const report = await reconcile(deps, { correlationId: 'sched-1' });
    // Assess: 2 tags × 2 targets compared; a:latest in sync; a:v1 different; b has nothing
    expect(report).toMatchObject({ correlationId: 'sched-1', checked: 4, inSync: 1, repaired: 3, failed: 0, errors: [] });
    expect(a.registry.tagDigest('team/app', 'v1')).toBe(v1.digest);
    expect(b.registry.tagDigest('mirror/team/app', 'v1')).toBe(v1.digest);
    expect(b.registry.tagDigest('mirror/team/app', 'latest')).toBe(latest.digest);
    expect(b.registry.tagDigest('mirror/team/app', 'dev')).toBeUndefined();
    // The signature travelled with its subject.
    expect(b.registry.tagDigest('mirror/team/app', `${v1.digest.replace(':', '-')}.sig`)).toBeDefined();
    const records = await audit.query({ action: 'reconcile' });
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.actor === 'system:reconcile' && r.correlationId === 'sched-1' && r.outcome === 'success')).toBe(true);
    expect(records.find((r) => r.target === 'target-a')?.details).toMatchObject({ previousDigest: stale.digest });
    expect(metrics.points.filter((p) => p.name === ReplicationMetric.reconcileRepaired)).toHaveLength(3);
  });

  it('does nothing on a second run', async () => {
    const { source, audit, deps } = setup();
    await pushImage(source.oci, 'team/app', 'v1', { layers: [500] });
    await reconcile(deps);
    const second = await reconcile(deps);
    expect(second).toMatchObject({ checked: 2, inSync: 2, repaired: 0, failed: 0 });
    expect(await audit.query({ action: 'reconcile' })).toHaveLength(2);
  });

  it('reports and audits a target that fails, and still repairs the other', async () => {
    // Prepare
    const { source, a, b, audit, deps } = setup();
    await pushImage(source.oci, 'team/app', 'v1', { layers: [500] });
    b.registry.addFault({ method: 'manifestHead', error: () => new OciError('registry down', { code: 'UNAVAILABLE', status: 503 }) });
    // Act
    const report = await reconcile(deps);
    // Assess
    expect(report).toMatchObject({ checked: 2, repaired: 1, failed: 1 });
    expect(report.items.find((i) => i.status === 'failed')).toMatchObject({ target: 'target-b', tag: 'v1', errorCode: 'UNAVAILABLE' });
    expect(a.registry.tagDigest('team/app', 'v1')).toBeDefined();
    expect((await audit.query({ action: 'reconcile' })).map((r) => [r.target, r.outcome]).sort()).toEqual([['target-a', 'success'], ['target-b', 'failure']]);
  });

  it('reports a source it cannot list, audited', async () => {
    const { source, audit, deps } = setup();
    source.registry.addFault({ method: 'catalog', error: () => new OciError('catalog disabled', { code: 'DENIED', status: 403 }) });
    const report = await reconcile(deps);
    expect(report.failed).toBe(1);
    expect(report.errors[0]).toMatchObject({ rule: 'mirror', errorCode: 'DENIED' });
    expect((await audit.query({ action: 'reconcile' }))[0]).toMatchObject({ outcome: 'failure', source: 'source', errorCode: 'DENIED' });
  });

  it('runs only the named rules, and refuses unknown names', async () => {
    const { source, deps } = setup();
    await pushImage(source.oci, 'team/app', 'v1', { layers: [10] });
    await expect(reconcile(deps, { rules: ['nope'] })).rejects.toThrow(ReplicationError);
    await expect(reconcile(deps, { rules: ['nope'] })).rejects.toThrow(/Unknown replication rule "nope": the config has mirror/);
    expect((await reconcile(deps, { rules: ['mirror'] })).repaired).toBe(2);
  });
});
