// The replicate handler end to end: AWS-documented event shape, real registries via createAdapters, dynalite audit + idempotency.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, DynamoAuditStore } from '../../functions/audit/index.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import { createAdapters, closeAdapters } from '../../functions/registries/factory.ts';
import { ReplicationFailedError } from '../../functions/replication/errors.ts';
import { DynamoReplicationState } from '../../functions/replication/dynamo-state.ts';
import type { ReplicationDeps, ReplicationOutcome } from '../../functions/replication/replicate.ts';
import { UNTAGGED_REASON } from '../../functions/replication/rules.ts';
import { createIdempotencyStore } from '../../functions/handlers/idempotency.ts';
import { lambdaContext } from '../../functions/handlers/context.ts';
import { createReplicateHandler, type RejectedResult } from '../../functions/handlers/replicate.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushCosignSignature, pushImage, pushOciIndex } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

/** The AWS-documented "Event for a completed image push" (test/fixtures/ecr-events, SOURCE.md). */
const SAMPLE = JSON.parse(readFileSync(new URL('../fixtures/ecr-events/ecr-image-action-push-success.json', import.meta.url), 'utf8')) as {
  id: string;
  detail: Record<string, string>;
} & Record<string, unknown>;

/** The sample with this push's id, repository, digest and tag (or none). */
function sampleEvent(id: string, repository: string, digest: string, tag?: string): Record<string, unknown> {
  const detail: Record<string, string> = { ...SAMPLE.detail, 'repository-name': repository, 'image-digest': digest };
  if (tag === undefined) delete detail['image-tag'];
  else detail['image-tag'] = tag;
  return { ...SAMPLE, id, detail };
}

let source: RunningRegistry;
let targetA: RunningRegistry;
let targetB: RunningRegistry;
let proxyB: FaultProxy;
let db: DynaliteHandle;
let deps: ReplicationDeps;
let audit: AuditLog;
let replicate: ReturnType<typeof createReplicateHandler>;

beforeAll(async () => {
  [source, targetA, targetB, db] = await Promise.all([startRegistry(), startRegistry(), startRegistry(), startDynalite()]);
  // target-b is reached through a proxy that counts requests (and can fail them).
  proxyB = await startFaultProxy(targetB.url);
  const yaml = JSON.stringify({
    version: 1,
    registries: {
      source: { kind: 'oci', url: source.url, public: true },
      'target-a': { kind: 'oci', url: targetA.url, public: true },
      'target-b': { kind: 'oci', url: proxyB.url, public: true },
    },
    replication: [
      {
        name: 'mirror-releases',
        source: 'source',
        repositories: ['team/**'],
        tags: { include: ['/^v\\d+(\\.\\d+)*$/', 'latest'], exclude: ['*-dirty'] },
        targets: [{ registry: 'target-a' }, { registry: 'target-b', repositoryPrefix: 'mirror' }],
        referrers: true,
      },
    ],
  });
  const { config, errors } = validateConfig(yaml, 'test-config.json');
  expect(errors).toEqual([]);
  if (!config) throw new Error('config did not validate');
  audit = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
  const state = new DynamoReplicationState({ docClient: db.docClient, tableName: db.tableNames.replicationState });
  deps = { config, adapters: createAdapters(config, {}), audit, state, copyOptions: { retries: 0, retryDelayMs: 1 } };
  replicate = createReplicateHandler(() => deps, {
    idempotency: { persistenceStore: createIdempotencyStore({ tableName: db.tableNames.idempotency, endpoint: db.endpoint }) },
    // The source is a plain OCI registry standing in for ECR: map the event's account/region to it.
    sourceRegistry: () => 'source',
    logger: new Logger({ serviceName: 'replicate-it', logLevel: 'WARN' }),
    metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'replicate-it' }),
    tracer: new Tracer({ enabled: false }),
  });
});

afterAll(async () => {
  if (deps) closeAdapters(deps.adapters.values());
  await Promise.all([proxyB?.stop(), source?.stop(), targetA?.stop(), targetB?.stop(), db?.stop()]);
});

// EMF metric documents and log lines go to stdout/stderr; keep the test output readable.
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  proxyB.reset();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const replicateRecords = async (repository: string, correlationId?: string) =>
  (await audit.query({ repository, action: 'replicate', order: 'oldest-first' })).filter((r) => correlationId === undefined || r.correlationId === correlationId);

describe('replicate handler on real registries', () => {
  it('replicates a signed image to every target with identical digests, one audit record per target', async () => {
    // Prepare
    const image = await pushImage(source, 'team/app', 'v1.0', { layers: [4096, 8192] });
    const sig = await pushCosignSignature(source, 'team/app', image.digest);
    const event = sampleEvent('7a3c1f0e-0001-4e9b-9a7d-000000000001', 'team/app', image.digest, 'v1.0');
    // Act
    const result = (await replicate(event, lambdaContext({ awsRequestId: 'req-1' }))) as ReplicationOutcome;
    // Assess
    expect(result.status).toBe('replicated');
    expect(await skopeoDigest(`${targetA.host}/team/app:v1.0`)).toBe(image.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/team/app:v1.0`)).toBe(image.digest);
    const sigTag = `${image.digest.replace(':', '-')}.sig`;
    expect(await skopeoDigest(`${targetA.host}/team/app:${sigTag}`)).toBe(sig.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/team/app:${sigTag}`)).toBe(sig.digest);
    const records = await replicateRecords('team/app', String(event.id));
    expect(records.map((r) => r.target).sort()).toEqual(['target-a', 'target-b']);
    for (const r of records) {
      expect(r).toMatchObject({ action: 'replicate', outcome: 'success', actor: 'event:aws.ecr', source: 'source', digest: image.digest, tags: ['v1.0'] });
      expect(r.blobs?.uploaded).toBeGreaterThanOrEqual(3);
      expect(r.bytes).toBeGreaterThan(12_000);
    }
  });

  it('does the work once when the same event is delivered twice', async () => {
    // Prepare
    const image = await pushImage(source, 'team/dup', 'v2', { layers: [2048] });
    const event = sampleEvent('7a3c1f0e-0002-4e9b-9a7d-000000000002', 'team/dup', image.digest, 'v2');
    const first = await replicate(event, lambdaContext());
    const requestsAfterFirst = proxyB.requests.length;
    expect(proxyB.count(Routes.manifestPut)).toBeGreaterThan(0);
    proxyB.clearRequests();
    // Act
    const second = await replicate(structuredClone(event), lambdaContext());
    // Assess: the idempotency record answered; target-b saw no request at all
    expect(second).toEqual(first);
    expect(requestsAfterFirst).toBeGreaterThan(0);
    expect(proxyB.requests).toHaveLength(0);
    expect(await replicateRecords('team/dup')).toHaveLength(2);
    expect(await skopeoDigest(`${targetB.host}/mirror/team/dup:v2`)).toBe(image.digest);
  });

  it('answers a duplicate from the replication state once its idempotency record expired (dynalite has no TTL: expiry is checked on read)', async () => {
    // Prepare
    const image = await pushImage(source, 'team/expiry', 'v5', { layers: [512] });
    const shortLived = createReplicateHandler(() => deps, {
      idempotency: { persistenceStore: createIdempotencyStore({ tableName: db.tableNames.idempotency, endpoint: db.endpoint }), expiresAfterSeconds: 1 },
      sourceRegistry: () => 'source',
      logger: new Logger({ serviceName: 'replicate-it', logLevel: 'CRITICAL' }),
      metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'replicate-it' }),
      tracer: new Tracer({ enabled: false }),
    });
    const event = sampleEvent('7a3c1f0e-0005-4e9b-9a7d-000000000005', 'team/expiry', image.digest, 'v5');
    await shortLived(event, lambdaContext());
    await shortLived(event, lambdaContext());
    expect(await replicateRecords('team/expiry')).toHaveLength(2);
    proxyB.clearRequests();
    // Act
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = (await shortLived(event, lambdaContext())) as ReplicationOutcome;
    // Assess: past the idempotency window the replication-state table still knows both targets are
    // done: nothing is copied, nothing is audited twice.
    expect(proxyB.requests).toHaveLength(0);
    expect(late.targets.every((t) => t.earlierAttempt === true && t.status === 'replicated')).toBe(true);
    expect(await replicateRecords('team/expiry')).toHaveLength(2);
  });

  it('replicates a multi-arch index once and skips its untagged child events', async () => {
    // Prepare
    const index = await pushOciIndex(source, 'team/multi', 'v3');
    const childEvents = index.children.map((c, i) => sampleEvent(`7a3c1f0e-0003-4e9b-9a7d-00000000000${i}`, 'team/multi', c.digest));
    // Act
    const childResults = await Promise.all(childEvents.map((e) => replicate(e, lambdaContext())));
    const indexResult = await replicate(sampleEvent('7a3c1f0e-0003-4e9b-9a7d-0000000000ff', 'team/multi', index.digest, 'v3'), lambdaContext());
    // Assess
    for (const r of childResults) expect(r).toMatchObject({ status: 'skipped', reason: UNTAGGED_REASON });
    expect(indexResult.status).toBe('replicated');
    expect(await skopeoDigest(`${targetA.host}/team/multi:v3`)).toBe(index.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/team/multi:v3`)).toBe(index.digest);
    expect(await skopeoDigest(`${targetB.host}/mirror/team/multi@${index.children[1]?.digest}`)).toBe(index.children[1]?.digest);
    expect(await replicateRecords('team/multi')).toHaveLength(2);
  });

  it('audits a malformed event as rejected and returns without throwing', async () => {
    // Act: the published sample as is (its digest has 60 hex characters, SOURCE.md)
    const result = (await replicate(SAMPLE, lambdaContext({ awsRequestId: 'req-bad' }))) as RejectedResult;
    // Assess
    expect(result).toMatchObject({ status: 'rejected', correlationId: SAMPLE.id, errorCode: 'EVENT_INVALID' });
    const rejected = (await audit.query({ action: 'event.rejected' })).filter((r) => r.correlationId === SAMPLE.id);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ outcome: 'rejected', details: { field: 'detail.image-digest', requestId: 'req-bad' } });
    expect(rejected[0]?.errorMessage).toMatch(/64 hex characters, this one has 60/);
  });

  it('audits a target that is down, throws for a retry, and the retry runs only the failed target', async () => {
    // Prepare
    const image = await pushImage(source, 'team/down', 'v4', { layers: [1024] });
    const event = sampleEvent('7a3c1f0e-0004-4e9b-9a7d-000000000004', 'team/down', image.digest, 'v4');
    const fault = proxyB.inject({ fault: { kind: 'status', status: 503 }, times: Infinity });
    // Act
    const err = await replicate(event, lambdaContext()).catch((e: unknown) => e);
    fault.remove();
    const retried = await replicate(event, lambdaContext());
    // Assess
    expect(err).toBeInstanceOf(ReplicationFailedError);
    expect((err as ReplicationFailedError).failures.map((f) => f.target)).toEqual(['target-b']);
    expect(retried.status).toBe('replicated');
    const outcomes = (retried as ReplicationOutcome).targets;
    expect(outcomes.find((t) => t.target === 'target-a')).toMatchObject({ status: 'replicated', earlierAttempt: true });
    expect(outcomes.find((t) => t.target === 'target-b')?.earlierAttempt).toBeUndefined();
    const records = await replicateRecords('team/down', String(event.id));
    // One success per target: target-a, done by the first attempt, was not run or audited again.
    expect(records.map((r) => `${r.target} ${r.outcome}`).sort()).toEqual(['target-a success', 'target-b failure', 'target-b success']);
    expect(records.find((r) => r.outcome === 'failure')?.errorCode).toMatch(/UNAVAILABLE|TOO_MANY_REQUESTS|PROTOCOL/);
    expect(await skopeoDigest(`${targetB.host}/mirror/team/down:v4`)).toBe(image.digest);
  });
});
