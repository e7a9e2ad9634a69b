// Replication never rolls a tag back: the three scenarios of issue 8 on real registries, fault proxies and dynalite state.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, DynamoAuditStore } from '../../functions/audit/index.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import { createAdapters, closeAdapters } from '../../functions/registries/factory.ts';
import { DynamoReplicationState } from '../../functions/replication/dynamo-state.ts';
import type { ReplicationDeps, ReplicationOutcome } from '../../functions/replication/replicate.ts';
import { lambdaContext } from '../../functions/handlers/context.ts';
import { createReplicateHandler } from '../../functions/handlers/replicate.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

let source: RunningRegistry;
let targetA: RunningRegistry;
let targetB: RunningRegistry;
let sourceProxy: FaultProxy;
let proxyA: FaultProxy;
let db: DynaliteHandle;
let deps: ReplicationDeps;
let audit: AuditLog;
let replicate: ReturnType<typeof createReplicateHandler>;
let seq = 0;

/** An ECR push event (EventBridge shape) with a unique id, at `time`. */
function pushEvent(repository: string, digest: string, tag: string, time: string, id = `5e5e0000-0000-4000-8000-${String(++seq).padStart(12, '0')}`): Record<string, unknown> {
  return {
    version: '0', id, 'detail-type': 'ECR Image Action', source: 'aws.ecr', account: '123456789012', time, region: 'us-west-2', resources: [],
    detail: { result: 'SUCCESS', 'action-type': 'PUSH', 'repository-name': repository, 'image-digest': digest, 'image-tag': tag },
  };
}

const records = async (repository: string, correlationId?: string) =>
  (await audit.query({ repository, action: 'replicate', order: 'oldest-first' })).filter((r) => correlationId === undefined || r.correlationId === correlationId);

beforeAll(async () => {
  [source, targetA, targetB, db] = await Promise.all([startRegistry(), startRegistry(), startRegistry(), startDynalite()]);
  [sourceProxy, proxyA] = await Promise.all([startFaultProxy(source.url), startFaultProxy(targetA.url)]);
  const { config, errors } = validateConfig(
    JSON.stringify({
      version: 1,
      registries: {
        source: { kind: 'oci', url: sourceProxy.url, public: true },
        'target-a': { kind: 'oci', url: proxyA.url, public: true },
        'target-b': { kind: 'oci', url: targetB.url, public: true },
      },
      replication: [{ name: 'mirror', source: 'source', repositories: ['team/**'], tags: { include: ['*'] }, targets: [{ registry: 'target-a' }, { registry: 'target-b' }] }],
    }),
    'superseded.json',
  );
  expect(errors).toEqual([]);
  audit = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
  deps = {
    config: config!,
    adapters: createAdapters(config!, {}),
    audit,
    state: new DynamoReplicationState({ docClient: db.docClient, tableName: db.tableNames.replicationState }),
    copyOptions: { retries: 0, retryDelayMs: 1 },
  };
  replicate = createReplicateHandler(() => deps, {
    sourceRegistry: () => 'source',
    logger: new Logger({ serviceName: 'superseded-it', logLevel: 'CRITICAL' }),
    metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'superseded-it' }),
    tracer: new Tracer({ enabled: false }),
  });
});

afterAll(async () => {
  if (deps) closeAdapters(deps.adapters.values());
  await Promise.all([sourceProxy?.stop(), proxyA?.stop(), source?.stop(), targetA?.stop(), targetB?.stop(), db?.stop()]);
});

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  sourceProxy.reset();
  proxyA.reset();
});
afterEach(() => vi.restoreAllMocks());

describe('replication never rolls a tag back', () => {
  it('target-a down for A, then the tag moves to B and replicates; the retry of A moves nothing back', async () => {
    // Prepare: A is pushed while target-a is down
    const a = await pushImage(source, 'team/retry', 'v1.0.0');
    const eventA = pushEvent('team/retry', a.digest, 'v1.0.0', '2026-12-01T10:00:00Z');
    const outage = proxyA.inject({ fault: { kind: 'status', status: 503 }, times: Infinity });
    await expect(replicate(eventA, lambdaContext())).rejects.toThrow(/target-a/);
    outage.remove();
    const b = await pushImage(source, 'team/retry', 'v1.0.0');
    await replicate(pushEvent('team/retry', b.digest, 'v1.0.0', '2026-12-01T10:00:30Z'), lambdaContext());
    // Act: Lambda's retry of A, a minute later
    const retried = (await replicate(eventA, lambdaContext())) as ReplicationOutcome;
    // Assess
    expect(await skopeoDigest(`${targetA.host}/team/retry:v1.0.0`)).toBe(b.digest);
    expect(await skopeoDigest(`${targetB.host}/team/retry:v1.0.0`)).toBe(b.digest);
    expect(retried.targets.find((t) => t.target === 'target-a')).toMatchObject({ status: 'skipped', superseded: { eventDigest: a.digest, currentDigest: b.digest } });
    // target-b was done by A's first attempt: not run again, not audited again.
    expect(retried.targets.find((t) => t.target === 'target-b')).toMatchObject({ earlierAttempt: true });
    const ofA = await records('team/retry', String(eventA.id));
    expect(ofA.map((r) => `${r.target} ${r.outcome}`).sort()).toEqual(['target-a failure', 'target-a skipped', 'target-b success']);
    const skipped = ofA.find((r) => r.outcome === 'skipped');
    expect(skipped?.details).toMatchObject({ superseded: { eventDigest: a.digest, currentDigest: b.digest } });
    expect(String(skipped?.details?.reason)).toMatch(/^superseded/);
  });

  it('two quick pushes (a large A, then a small B): A finishes last and both targets end at B', async () => {
    // Prepare: A's layer streams slowly from the source; B is small
    const a = await pushImage(source, 'team/quick', 'v2', { layers: [512 * 1024] });
    sourceProxy.inject({ ...Routes.blobGet, path: new RegExp(a.layers[0]!.digest.slice(7)), times: Infinity, fault: { kind: 'slow', bytesPerSecond: 384 * 1024 } });
    const copyOfA = replicate(pushEvent('team/quick', a.digest, 'v2', '2026-12-01T11:00:00Z'), lambdaContext()) as Promise<ReplicationOutcome>;
    const b = await pushImage(source, 'team/quick', 'v2');
    // Act
    const ofB = (await replicate(pushEvent('team/quick', b.digest, 'v2', '2026-12-01T11:00:01Z'), lambdaContext())) as ReplicationOutcome;
    const ofA = await copyOfA;
    // Assess
    expect(ofB.status).toBe('replicated');
    expect(ofA.status).toBe('skipped');
    for (const t of ofA.targets) expect(t).toMatchObject({ status: 'skipped', superseded: { eventDigest: a.digest, currentDigest: b.digest } });
    expect(await skopeoDigest(`${source.host}/team/quick:v2`)).toBe(b.digest);
    expect(await skopeoDigest(`${targetA.host}/team/quick:v2`)).toBe(b.digest);
    expect(await skopeoDigest(`${targetB.host}/team/quick:v2`)).toBe(b.digest);
    const audited = await records('team/quick');
    expect(audited.filter((r) => r.digest === a.digest).map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('five quick moves of one tag, their events handled at once in reverse order: both targets end at the last', async () => {
    // Prepare
    const pushed = [];
    for (let i = 0; i < 5; i++) pushed.push(await pushImage(source, 'team/moves', 'v4'));
    const events = pushed.map((p, i) => pushEvent('team/moves', p.digest, 'v4', `2026-12-01T13:00:0${i}Z`));
    // Act
    await Promise.all([...events].reverse().map((e) => replicate(e, lambdaContext())));
    // Assess
    const last = pushed.at(-1)!.digest;
    expect(await skopeoDigest(`${targetA.host}/team/moves:v4`)).toBe(last);
    expect(await skopeoDigest(`${targetB.host}/team/moves:v4`)).toBe(last);
    const audited = await records('team/moves');
    expect(audited.filter((r) => r.outcome === 'success').map((r) => r.digest)).toEqual([last, last]);
    expect(audited.filter((r) => r.outcome === 'skipped')).toHaveLength(8);
  });

  it('a late duplicate, and an older event while the source is unreachable, leave the newer digest in place', async () => {
    // Prepare: A then B, both replicated
    const a = await pushImage(source, 'team/late', 'v3');
    const eventA = pushEvent('team/late', a.digest, 'v3', '2026-12-01T12:00:00Z');
    await replicate(eventA, lambdaContext());
    const b = await pushImage(source, 'team/late', 'v3');
    await replicate(pushEvent('team/late', b.digest, 'v3', '2026-12-01T12:05:00Z'), lambdaContext());
    const before = (await records('team/late')).length;
    // Act 1: EventBridge delivers A again hours later (past the idempotency window)
    const duplicate = (await replicate(eventA, lambdaContext())) as ReplicationOutcome;
    // Act 2: another (older) event for A arrives while the source cannot be reached at all
    sourceProxy.inject({ fault: { kind: 'status', status: 503 }, times: Infinity });
    const older = (await replicate(pushEvent('team/late', a.digest, 'v3', '2026-12-01T12:01:00Z'), lambdaContext())) as ReplicationOutcome;
    sourceProxy.clearFaults();
    // Assess
    expect(duplicate.targets.every((t) => t.earlierAttempt === true)).toBe(true);
    expect(older.targets.map((t) => [t.status, t.superseded?.by, t.superseded?.currentDigest])).toEqual([
      ['skipped', 'newer-event', b.digest],
      ['skipped', 'newer-event', b.digest],
    ]);
    expect(await skopeoDigest(`${targetA.host}/team/late:v3`)).toBe(b.digest);
    expect(await skopeoDigest(`${targetB.host}/team/late:v3`)).toBe(b.digest);
    const after = await records('team/late');
    expect(after.slice(before).map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
    expect(after.filter((r) => r.outcome === 'success')).toHaveLength(4);
  });
});
