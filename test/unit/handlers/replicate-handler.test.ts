// The replicate and reconcile handlers over in-memory registries: correlation ids in logs and audit, rejections, metrics, env.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { ReplicationFailedError } from '../../../functions/replication/errors.ts';
import { imageActionEvent } from '../../../functions/replication/event.ts';
import type { ReplicationDeps } from '../../../functions/replication/replicate.ts';
import { createReconcileHandler } from '../../../functions/handlers/reconcile.ts';
import { createReplicateHandler, handler as deployedHandler, type RejectedResult } from '../../../functions/handlers/replicate.ts';
import { MissingEnvironmentError } from '../../../functions/env.ts';
import { lambdaContext } from '../../../functions/handlers/context.ts';
import { pushImage } from '../../helpers/memory-registry.ts';
import { memoryAdapter, replicationConfig } from '../replication/support.ts';

/** Captures what Powertools writes to stdout and stderr (JSON log lines, EMF metric documents). */
let lines: Record<string, unknown>[] = [];
beforeEach(() => {
  lines = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim().startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  vi.restoreAllMocks();
});

function setup() {
  const source = memoryAdapter('source');
  const a = memoryAdapter('target-a');
  const b = memoryAdapter('target-b');
  const audit = new AuditLog(new InMemoryAuditStore());
  const deps: ReplicationDeps = { config: replicationConfig(), adapters: new Map([source, a, b].map((x) => [x.name, x])), audit, copyOptions: { retryDelayMs: 1 } };
  const powertools = { logger: new Logger({ serviceName: 'replicate-test' }), metrics: new Metrics({ namespace: 'RegmanTest', serviceName: 'replicate-test' }), tracer: new Tracer({ enabled: false }) };
  return { source, a, b, audit, deps, powertools };
}

describe('createReplicateHandler', () => {
  it('replicates, tagging every log line with the event id and emitting per-target metrics', async () => {
    // Prepare
    const { source, a, audit, deps, powertools } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [1200] });
    const replicate = createReplicateHandler(() => deps, { ...powertools, sourceRegistry: () => 'source' });
    const event = imageActionEvent({ id: 'evt-42', repository: 'team/app', digest: image.digest, tag: 'v1' });
    // Act
    const result = await replicate(event, lambdaContext({ awsRequestId: 'req-1' }));
    // Assess
    expect(result.status).toBe('replicated');
    expect(a.registry.tagDigest('team/app', 'v1')).toBe(image.digest);
    expect((await audit.query({ action: 'replicate' })).map((r) => r.correlationId)).toEqual(['evt-42', 'evt-42']);
    const logs = lines.filter((l) => typeof l.message === 'string');
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const l of logs) expect(l.correlation_id).toBe('evt-42');
    expect(logs.some((l) => l.message === 'Replication to target-b replicated' && l.function_request_id === 'req-1')).toBe(true);
    const emf = lines.filter((l) => l._aws !== undefined);
    const bytesDocs = emf.filter((d) => d.ReplicatedBytes !== undefined);
    expect(bytesDocs.map((d) => d.target).sort()).toEqual(['target-a', 'target-b']);
    expect(bytesDocs.every((d) => (d.ReplicatedBytes as number) > 1200)).toBe(true);
  });

  it('rejects a malformed event without throwing: logged and audited with the event id', async () => {
    // Prepare
    const { audit, deps, powertools } = setup();
    const replicate = createReplicateHandler(() => deps, { ...powertools, sourceRegistry: () => 'source' });
    const event = imageActionEvent({ id: 'evt-bad', repository: 'team/app', digest: 'sha256:1234', tag: 'v1' });
    // Act
    const result = (await replicate(event, lambdaContext({ awsRequestId: 'req-2' }))) as RejectedResult;
    // Assess
    expect(result).toMatchObject({ status: 'rejected', correlationId: 'evt-bad', errorCode: 'EVENT_INVALID' });
    expect(result.reason).toMatch(/detail\.image-digest/);
    const [record] = await audit.query({ action: 'event.rejected' });
    expect(record).toMatchObject({ outcome: 'rejected', correlationId: 'evt-bad', actor: 'event:aws.ecr', errorCode: 'EVENT_INVALID', details: { field: 'detail.image-digest', requestId: 'req-2' } });
    expect(lines.find((l) => l.message === 'Event rejected')).toMatchObject({ level: 'ERROR', correlation_id: 'evt-bad' });
  });

  it('uses the Lambda request id as correlation id when the event has none', async () => {
    const { audit, deps, powertools } = setup();
    const replicate = createReplicateHandler(() => deps, powertools);
    const result = await replicate({ hello: 'world' }, lambdaContext({ awsRequestId: 'req-3' }));
    expect(result).toMatchObject({ status: 'rejected', correlationId: 'req-3' });
    expect((await audit.query({ action: 'event.rejected' }))[0]?.correlationId).toBe('req-3');
  });

  it('rejects an event from an account and region the config does not know', async () => {
    const { audit, deps, powertools } = setup();
    const replicate = createReplicateHandler(() => deps, powertools);
    const event = imageActionEvent({ id: 'evt-x', repository: 'team/app', digest: `sha256:${'a'.repeat(64)}`, tag: 'v1', account: '111122223333' });
    const result = await replicate(event);
    expect(result).toMatchObject({ status: 'rejected', errorCode: 'SOURCE_UNKNOWN', reason: expect.stringMatching(/account 111122223333 in us-east-1/) });
    expect(await audit.query({ action: 'event.rejected' })).toHaveLength(1);
  });

  it('throws the retryable ReplicationError after auditing a failed target', async () => {
    // Prepare
    const { source, b, audit, deps, powertools } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v2', { layers: [100] });
    b.registry.addFault({ method: 'manifestHead', error: () => new OciError('down', { code: 'UNAVAILABLE', status: 503 }) });
    const replicate = createReplicateHandler(() => deps, { ...powertools, sourceRegistry: () => 'source' });
    // Act
    const err = await replicate(imageActionEvent({ id: 'evt-f', repository: 'team/app', digest: image.digest, tag: 'v2' })).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(ReplicationFailedError);
    expect((err as ReplicationFailedError).retryable).toBe(true);
    expect((await audit.query({ action: 'replicate' })).map((r) => r.outcome).sort()).toEqual(['failure', 'success']);
    expect(lines.find((l) => l.message === 'Replication failed; the event will be retried')).toMatchObject({
      correlation_id: 'evt-f',
      errorCode: 'REPLICATION_FAILED',
      retryable: true,
      failures: [{ target: 'target-b', errorCode: 'UNAVAILABLE', message: expect.stringContaining('down') }],
    });
  });

  it('builds deps once, and again after a failed build', async () => {
    const { deps, powertools } = setup();
    let calls = 0;
    const replicate = createReplicateHandler(() => {
      calls += 1;
      if (calls === 1) throw new Error('secrets unavailable');
      return deps;
    }, powertools);
    const event = imageActionEvent({ id: 'evt-d', repository: 'team/app', digest: `sha256:${'b'.repeat(64)}`, actionType: 'DELETE' });
    await expect(replicate(event)).rejects.toThrow('secrets unavailable');
    await replicate(event);
    await replicate(event);
    expect(calls).toBe(2);
  });
});

describe('createReconcileHandler', () => {
  it('reconciles with the event id as correlation id and the named rules', async () => {
    const { source, b, audit, deps, powertools } = setup();
    const image = await pushImage(source.oci, 'team/app', 'v1', { layers: [100] });
    const run = createReconcileHandler(() => deps, powertools);
    const report = await run({ id: 'sched-7', rules: ['mirror'] });
    expect(report).toMatchObject({ correlationId: 'sched-7', repaired: 2, failed: 0 });
    expect(b.registry.tagDigest('mirror/team/app', 'v1')).toBe(image.digest);
    expect((await audit.query({ action: 'reconcile' })).every((r) => r.correlationId === 'sched-7')).toBe(true);
    expect(lines.find((l) => l.message === 'Reconcile finished')).toMatchObject({ correlation_id: 'sched-7', repaired: 2 });
  });
});

describe('the deployed handler', () => {
  it('imports without its environment and names the missing variable on first use', async () => {
    const event = imageActionEvent({ id: 'evt-env', repository: 'team/app', digest: `sha256:${'c'.repeat(64)}`, tag: 'v1' });
    const err = await deployedHandler(event, lambdaContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingEnvironmentError);
    expect((err as MissingEnvironmentError).variable).toBe('AUDIT_TABLE');
    expect((err as Error).message).toMatch(/AUDIT_TABLE is not set/);
  });
});
