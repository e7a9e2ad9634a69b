// replicateImage over in-memory registries: one audit record per target, failures isolated then thrown, skips, metrics.
import { describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { ReplicationError, ReplicationFailedError } from '../../../functions/replication/errors.ts';
import type { ImageActionEvent } from '../../../functions/replication/event.ts';
import { ReplicationMetric } from '../../../functions/replication/observability.ts';
import { replicateImage, type ReplicationDeps, type ReplicationEvent } from '../../../functions/replication/replicate.ts';
import { UNTAGGED_REASON } from '../../../functions/replication/rules.ts';
import type { DeferredReplication } from '../../../functions/replication/deferral.ts';
import { RateLimitedError } from '../../../functions/registries/rate-budget.ts';
import { pushCosignSignature, pushImage, pushMultiPlatform } from '../../helpers/memory-registry.ts';
import { RecordingMetrics, memoryAdapter, replicationConfig } from './support.ts';

const EVENT_ID = '13cde686-328b-6117-af20-0e5566167482';

function setup(config = replicationConfig()) {
  const source = memoryAdapter('source');
  const a = memoryAdapter('target-a');
  const b = memoryAdapter('target-b');
  const audit = new AuditLog(new InMemoryAuditStore());
  const metrics = new RecordingMetrics();
  const events: ReplicationEvent[] = [];
  const deps: ReplicationDeps = {
    config,
    adapters: new Map([source, a, b].map((x) => [x.name, x])),
    audit,
    metrics,
    onEvent: (e) => events.push(e),
    copyOptions: { retryDelayMs: 1 },
  };
  return { source, a, b, audit, metrics, events, deps };
}

function pushEvent(repository: string, digest: string, tag?: string, patch: Partial<ImageActionEvent> = {}): ImageActionEvent {
  return { id: EVENT_ID, time: '2024-05-08T20:45:12Z', account: '123456789012', region: 'us-east-1', repository, digest, actionType: 'PUSH', result: 'SUCCESS', ...(tag ? { tag } : {}), ...patch };
}

const input = (event: ImageActionEvent) => ({ event, sourceRegistry: 'source', correlationId: event.id, actor: 'event:aws.ecr' });

describe('replicateImage', () => {
  it('copies a tagged image to every target and writes one audit record per target', async () => {
    // Prepare
    const { source, a, b, audit, metrics, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1.0', { layers: [3000, 5000] });
    // Act
    const outcome = await replicateImage(input(pushEvent('team/app', image.digest, 'v1.0')), deps);
    // Assess
    expect(outcome.status).toBe('replicated');
    expect(a.registry.tagDigest('team/app', 'v1.0')).toBe(image.digest);
    expect(b.registry.tagDigest('mirror/team/app', 'v1.0')).toBe(image.digest);
    const records = await audit.query({ action: 'replicate', order: 'oldest-first' });
    expect(records).toHaveLength(2);
    expect(records.map((r) => r.target).sort()).toEqual(['target-a', 'target-b']);
    for (const r of records) {
      expect(r).toMatchObject({ actor: 'event:aws.ecr', outcome: 'success', correlationId: EVENT_ID, source: 'source', repository: 'team/app', digest: image.digest, tags: ['v1.0'] });
      expect(r.blobs).toEqual({ uploaded: 3, mounted: 0, skipped: 0 });
      expect(r.bytes).toBeGreaterThan(8000);
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.errorCode).toBeUndefined();
    }
    expect(records.find((r) => r.target === 'target-b')?.details).toMatchObject({ rule: 'mirror', targetRepository: 'mirror/team/app', noop: false });
    expect(metrics.value(ReplicationMetric.blobsUploaded, 'target-a')).toBe(3);
    expect(metrics.value(ReplicationMetric.failures, 'target-b')).toBe(0);
    expect(metrics.value(ReplicationMetric.bytes, 'target-a')).toBe(outcome.targets.find((t) => t.target === 'target-a')?.bytes);
  });

  it('names who pushed in every target record, looked up once, and says when the pusher is unknown', async () => {
    // Prepare
    const { source, audit, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v9.1', { layers: [100] });
    const other = await pushImage(source.oci, 'team/app', 'v9.2', { layers: [200] });
    const keys: string[] = [];
    const pusher = {
      pusherOf: async (key: { digest: string; repository: string }) => {
        keys.push(`${key.repository}@${key.digest}`);
        return key.digest === image.digest
          ? ({ principal: 'arn:aws:iam::123456789012:user/Mary_Major', source: 'cloudtrail', eventId: 'e-1' } as const)
          : ({ unknown: true, reason: 'no CloudTrail PutImage record yet' } as const);
      },
    };
    // Act
    await replicateImage(input(pushEvent('team/app', image.digest, 'v9.1')), { ...deps, pusher });
    await replicateImage(input(pushEvent('team/app', other.digest, 'v9.2', { id: 'evt-2' })), { ...deps, pusher });
    // Assess
    const records = await audit.query({ action: 'replicate', order: 'oldest-first' });
    expect(keys).toEqual([`team/app@${image.digest}`, `team/app@${other.digest}`]);
    expect(records.filter((r) => r.digest === image.digest).map((r) => r.details?.pushedBy)).toEqual([
      { principal: 'arn:aws:iam::123456789012:user/Mary_Major', source: 'cloudtrail', eventId: 'e-1' },
      { principal: 'arn:aws:iam::123456789012:user/Mary_Major', source: 'cloudtrail', eventId: 'e-1' },
    ]);
    expect(records.find((r) => r.digest === other.digest)?.details?.pushedBy).toEqual({ unknown: true, reason: 'no CloudTrail PutImage record yet' });
  });

  it('audits a failing target, still replicates the other, then throws a retryable ReplicationError', async () => {
    // Prepare
    const { source, a, b, audit, metrics, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v2', { layers: [1000] });
    b.registry.addFault({ method: 'blobPut', error: () => new OciError('denied by policy', { code: 'DENIED', status: 403 }) });
    // Act
    const err = await replicateImage(input(pushEvent('team/app', image.digest, 'v2')), deps).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(ReplicationError);
    expect(err).toBeInstanceOf(ReplicationFailedError);
    const failed = err as ReplicationFailedError;
    expect(failed.retryable).toBe(true);
    expect(failed.code).toBe('REPLICATION_FAILED');
    expect(failed.failures).toEqual([{ target: 'target-b', errorCode: 'DENIED', message: expect.stringContaining('denied by policy') }]);
    expect(failed.message).toMatch(/target-b \(DENIED/);
    expect((failed.outcome as { status: string }).status).toBe('partial');
    expect(a.registry.tagDigest('team/app', 'v2')).toBe(image.digest);
    expect(b.registry.tagDigest('mirror/team/app', 'v2')).toBeUndefined();
    const records = await audit.query({ action: 'replicate' });
    expect(records).toHaveLength(2);
    expect(records.find((r) => r.target === 'target-a')?.outcome).toBe('success');
    expect(records.find((r) => r.target === 'target-b')).toMatchObject({ outcome: 'failure', errorCode: 'DENIED', correlationId: EVENT_ID });
    expect(metrics.value(ReplicationMetric.failures, 'target-b')).toBe(1);
    expect(metrics.value(ReplicationMetric.successes, 'target-b')).toBe(0);
    expect(metrics.value(ReplicationMetric.successes, 'target-a')).toBe(1);
    expect(metrics.value(ReplicationMetric.failures, 'target-a')).toBe(0);
  });

  it('reports "failed" when every target fails, and a missing target adapter as TARGET_UNKNOWN', async () => {
    // Prepare
    const { source, a, audit, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v3', { layers: [100] });
    a.registry.addFault({ method: 'manifestHead', error: () => new OciError('registry down', { code: 'UNAVAILABLE', status: 503 }) });
    deps.adapters.delete('target-b');
    // Act
    const err = (await replicateImage(input(pushEvent('team/app', image.digest, 'v3')), deps).catch((e: unknown) => e)) as ReplicationFailedError;
    // Assess
    expect((err.outcome as { status: string }).status).toBe('failed');
    expect(err.failures.map((f) => [f.target, f.errorCode]).sort()).toEqual([['target-a', 'UNAVAILABLE'], ['target-b', 'TARGET_UNKNOWN']]);
    expect(await audit.query({ action: 'replicate' })).toHaveLength(2);
  });

  it('is a no-op on a second delivery: nothing uploaded, audited as success with noop', async () => {
    // Prepare
    const { source, a, audit, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v4', { layers: [2000] });
    await replicateImage(input(pushEvent('team/app', image.digest, 'v4')), deps);
    a.registry.resetCalls();
    // Act
    const again = await replicateImage(input(pushEvent('team/app', image.digest, 'v4')), deps);
    // Assess
    expect(again.targets.every((t) => t.noop === true && t.bytes === 0)).toBe(true);
    expect(a.registry.count('blobPut')).toBe(0);
    expect(a.registry.count('manifestPut')).toBe(0);
    expect(await audit.query({ action: 'replicate' })).toHaveLength(4);
  });

  it('replicates a multi-arch index once via its tagged event and skips the untagged child events', async () => {
    // Prepare
    const { source, a, b, audit, events, deps } = setup();
    const { index, children } = await pushMultiPlatform(source.oci, 'team/multi', 'v1');
    // Act
    const childOutcomes = await Promise.all(children.map((c) => replicateImage(input(pushEvent('team/multi', c.digest)), deps)));
    const indexOutcome = await replicateImage(input(pushEvent('team/multi', index.digest, 'v1')), deps);
    // Assess
    for (const o of childOutcomes) expect(o).toMatchObject({ status: 'skipped', reason: UNTAGGED_REASON, targets: [] });
    expect(indexOutcome.status).toBe('replicated');
    expect(a.registry.tagDigest('team/multi', 'v1')).toBe(index.digest);
    expect(b.registry.tagDigest('mirror/team/multi', 'v1')).toBe(index.digest);
    for (const c of children) expect(a.registry.rawManifest('team/multi', c.digest)).toBeDefined();
    expect(await audit.query({ action: 'replicate' })).toHaveLength(2);
    expect(events.filter((e) => e.type === 'skipped')).toHaveLength(3);
  });

  it.each([
    ['a DELETE', { actionType: 'DELETE' }, 'action-type DELETE is not replicated (only PUSH)'],
    ['a failed push', { result: 'FAILURE' }, 'result FAILURE is not replicated (only SUCCESS)'],
    ['a tag the rule excludes', { tag: 'v1-dirty' }, 'no rule (mirror) matches team/app:v1-dirty'],
  ])('skips %s without copying or auditing', async (_name, patch, reason) => {
    // Prepare
    const { source, a, audit, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1-dirty', { layers: [100] });
    // Act
    const outcome = await replicateImage(input(pushEvent('team/app', image.digest, 'v1-dirty', { tag: 'v1', ...patch })), deps);
    // Assess
    expect(outcome).toMatchObject({ status: 'skipped', reason, targets: [] });
    expect(a.registry.count('manifestPut')).toBe(0);
    expect(await audit.query({})).toHaveLength(0);
  });

  it('copies a signature pushed after its subject, and skips (audited) a target that lacks the subject', async () => {
    // Prepare
    const { source, a, b, audit, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v5', { layers: [100] });
    await replicateImage(input(pushEvent('team/app', image.digest, 'v5')), deps);
    await b.registry.manifestDelete('mirror/team/app', image.digest);
    const sig = await pushCosignSignature(source.oci, 'team/app', image);
    const sigTag = `${image.digest.replace(':', '-')}.sig`;
    // Act
    const outcome = await replicateImage(input(pushEvent('team/app', sig.digest, sigTag)), deps);
    // Assess
    expect(outcome.status).toBe('replicated');
    expect(a.registry.tagDigest('team/app', sigTag)).toBe(sig.digest);
    expect(b.registry.tagDigest('mirror/team/app', sigTag)).toBeUndefined();
    const skipped = (await audit.query({ action: 'replicate' })).find((r) => r.tags?.[0] === sigTag && r.target === 'target-b');
    expect(skipped).toMatchObject({ outcome: 'skipped', details: { reason: expect.stringContaining('is not at the target') } });
  });

  it('refuses an unknown source registry without retry', async () => {
    const { deps } = setup();
    const err = (await replicateImage({ ...input(pushEvent('team/app', `sha256:${'a'.repeat(64)}`, 'v1')), sourceRegistry: 'nope' }, deps).catch((e: unknown) => e)) as ReplicationError;
    expect(err.code).toBe('SOURCE_UNKNOWN');
    expect(err.retryable).toBe(false);
  });

  it('throws after the copies when an audit record cannot be written', async () => {
    // Prepare
    const { source, a, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v6', { layers: [100] });
    const broken = { ...deps, audit: { append: async () => Promise.reject(Object.assign(new Error('table gone'), { code: 'AUDIT_STORE' })) } as unknown as ReplicationDeps['audit'] };
    // Act
    const err = (await replicateImage(input(pushEvent('team/app', image.digest, 'v6')), broken).catch((e: unknown) => e)) as ReplicationFailedError;
    // Assess
    expect(err).toBeInstanceOf(ReplicationFailedError);
    expect(err.failures.map((f) => f.errorCode)).toEqual(['AUDIT_STORE', 'AUDIT_STORE']);
    expect(a.registry.tagDigest('team/app', 'v6')).toBe(image.digest);
  });
});

describe('replicateImage: rate budgets', () => {
  const limited = () => new RateLimitedError('spent', { budgetKey: 'hub|ci', retryAfterSeconds: 1800 });

  it('defers only the target out of budget: the other is replicated, the outcome is deferred, nothing is thrown', async () => {
    const { source, b, deps, audit } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [1000] });
    b.registry.addFault({ method: 'manifestHead', error: limited });
    const queued: { work: DeferredReplication; delaySeconds: number }[] = [];
    const outcome = await replicateImage(input(pushEvent('team/app', image.digest, 'v1')), { ...deps, deferrals: { defer: async (work, delaySeconds) => void queued.push({ work, delaySeconds }) } });
    expect(outcome.status).toBe('deferred');
    expect(outcome.targets.map((t) => `${t.target} ${t.status}`).sort()).toEqual(['target-a replicated', 'target-b deferred']);
    expect(queued.map((q) => [q.delaySeconds, q.work.targets, q.work.deferrals])).toEqual([[1800, [`${deps.config.replication[0]!.name}#target-b`], 1]]);
    const records = await audit.query({ order: 'oldest-first' });
    expect(records.map((r) => `${r.action} ${r.target} ${r.outcome}`).sort()).toEqual(['replicate target-a success', 'replicate.deferred target-b skipped']);
  });

  it('a deferral that cannot be queued fails the event (retried), and without a queue the target simply fails', async () => {
    const { source, b, deps } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [1000] });
    b.registry.addFault({ method: 'manifestHead', error: limited });
    const broken = { defer: async () => Promise.reject(new Error('StartExecution: AccessDenied')) };
    await expect(replicateImage(input(pushEvent('team/app', image.digest, 'v1')), { ...deps, deferrals: broken })).rejects.toBeInstanceOf(ReplicationFailedError);
    const err = await replicateImage(input(pushEvent('team/app', image.digest, 'v1', { id: 'other-event' })), deps).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicationFailedError);
    expect((err as ReplicationFailedError).failures.map((f) => f.target)).toEqual(['target-b']);
  });
});
