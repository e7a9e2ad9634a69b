// The fan-out decision: budget arithmetic, estimates, the replicateImage branch, and the Step Functions starter (aws-sdk-client-mock).
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { readEnvironment } from '../../../functions/env.ts';
import type { ImageActionEvent } from '../../../functions/replication/event.ts';
import { DEFAULT_FANOUT_POLICY, decideFanout, estimateCopy, fanoutLimitBytes, fanoutPolicyFromEnvironment } from '../../../functions/replication/large/decision.ts';
import { SfnFanoutStarter, largeImageExecutionName, type FanoutStarter } from '../../../functions/replication/large/image.ts';
import type { LargeImageInput } from '../../../functions/replication/large/types.ts';
import { replicateImage, type ReplicationDeps } from '../../../functions/replication/replicate.ts';
import { pushCosignSignature, pushImage, pushMultiPlatform } from '../../helpers/memory-registry.ts';
import { memoryAdapter, replicationConfig } from './support.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('decideFanout', () => {
  it.each([
    { missing: 2 * GiB, remainingMs: undefined, fanout: false, why: 'at the byte limit' },
    { missing: 2 * GiB + 1, remainingMs: undefined, fanout: true, why: 'over the byte limit' },
    { missing: 1 * GiB, remainingMs: 900_000, fanout: false, why: '15 min × 50 MiB/s × 0.5 is over 2 GiB: the byte limit rules' },
    { missing: 1 * GiB, remainingMs: 30_000, fanout: true, why: '30 s × 50 MiB/s × 0.5 = 750 MiB < 1 GiB' },
    { missing: 700 * MiB, remainingMs: 30_000, fanout: false, why: 'under the time-bound limit' },
  ])('$why → fanout $fanout', ({ missing, remainingMs, fanout }) => {
    // Act
    const decision = decideFanout({ totalBytes: missing, missingBytes: missing, blobs: 3, checkedTargets: true }, DEFAULT_FANOUT_POLICY, remainingMs);
    // Assess
    expect(decision.fanout).toBe(fanout);
    expect(decision.limitBytes).toBe(fanoutLimitBytes(DEFAULT_FANOUT_POLICY, remainingMs));
    expect(decision.reason).toContain(String(missing));
  });

  it('reads the policy from the environment, with defaults, and names a bad variable', () => {
    expect(fanoutPolicyFromEnvironment(readEnvironment({}))).toEqual(DEFAULT_FANOUT_POLICY);
    expect(fanoutPolicyFromEnvironment(readEnvironment({ REGMAN_FANOUT_BYTES: '1048576', REGMAN_FANOUT_THROUGHPUT: '1000', REGMAN_FANOUT_SAFETY: '0.25' }))).toEqual({
      maxBytes: MiB,
      throughputBytesPerSecond: 1000,
      safetyFactor: 0.25,
    });
    expect(() => fanoutPolicyFromEnvironment(readEnvironment({ REGMAN_FANOUT_BYTES: '2GiB' }))).toThrow(/REGMAN_FANOUT_BYTES.*"2GiB"/);
    expect(() => fanoutPolicyFromEnvironment(readEnvironment({ REGMAN_FANOUT_SAFETY: '2' }))).toThrow(/REGMAN_FANOUT_SAFETY/);
  });
});

describe('estimateCopy', () => {
  it('does not ask the targets when the total is under the limit, and subtracts what they hold when over', async () => {
    // Prepare
    const source = memoryAdapter('source');
    const target = memoryAdapter('target-a');
    const { index, children, shared } = await pushMultiPlatform(source.oci, 'team/app', 'v1', { sharedLayerSize: 40_000, layerSize: 20_000 });
    await pushImage(target.oci, 'team/app', undefined, { layers: [shared] });
    const src = { registry: source.oci, repository: 'team/app', digest: index.digest };
    const dst = [{ registry: target.oci, repository: 'team/app' }];
    const unique = new Set(children.flatMap((c) => [c.config!, ...c.layers]).map((b) => b.digest)).size;
    target.registry.resetCalls();
    // Act
    const under = await estimateCopy(src, dst, 10 * MiB);
    const headsUnder = target.registry.count('blobHead');
    const over = await estimateCopy(src, dst, 1000);
    // Assess: the shared layer counts once, and once present it is not missing
    expect(under).toMatchObject({ blobs: unique, checkedTargets: false, missingBytes: under.totalBytes });
    expect(headsUnder).toBe(0);
    expect(under.totalBytes).toBeGreaterThan(40_000 + 3 * 20_000);
    expect(over).toMatchObject({ checkedTargets: true, missingBytes: under.totalBytes - 40_000 });
  });
});

const EVENT: ImageActionEvent = { id: 'evt-1', time: '2024-05-08T20:45:12Z', account: '123456789012', region: 'us-east-1', repository: 'team/app', digest: '', actionType: 'PUSH', result: 'SUCCESS', tag: 'v1.0' };

function setup(maxBytes: number, remainingMs?: number) {
  const source = memoryAdapter('source');
  const a = memoryAdapter('target-a');
  const b = memoryAdapter('target-b');
  const started: LargeImageInput[] = [];
  const starter: FanoutStarter = { start: async (input) => (started.push(input), { executionName: input.executionName, executionArn: `arn:x:${input.executionName}` }) };
  const audit = new AuditLog(new InMemoryAuditStore());
  const deps: ReplicationDeps = {
    config: replicationConfig(),
    adapters: new Map([source, a, b].map((x) => [x.name, x])),
    audit,
    fanout: { starter, policy: { ...DEFAULT_FANOUT_POLICY, maxBytes }, ...(remainingMs !== undefined ? { remainingTimeMs: () => remainingMs } : {}) },
  };
  return { source, a, b, started, audit, deps };
}

const input = (digest: string, tag = 'v1.0') => ({ event: { ...EVENT, digest, tag }, sourceRegistry: 'source', correlationId: EVENT.id, actor: 'event:aws.ecr' });

describe('replicateImage with fan-out', () => {
  it('hands an image over the limit to the state machine: deferred, audited as replicate.fanout per target, nothing copied', async () => {
    // Prepare
    const { source, a, b, started, audit, deps } = setup(10_000);
    const image = await pushImage(source.oci, 'team/app', 'v1.0', { layers: [8000, 8000] });
    // Act
    const outcome = await replicateImage(input(image.digest), deps);
    // Assess
    expect(outcome.status).toBe('deferred');
    expect(outcome.execution?.executionName).toBe(largeImageExecutionName(EVENT.id, image.digest, 'v1.0'));
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      correlationId: EVENT.id,
      actor: 'event:aws.ecr',
      sourceRegistry: 'source',
      repository: 'team/app',
      digest: image.digest,
      tag: 'v1.0',
      targets: [
        { rule: 'mirror', registry: 'target-a', repository: 'team/app', referrers: true },
        { rule: 'mirror', registry: 'target-b', repository: 'mirror/team/app', referrers: true },
      ],
    });
    expect(a.registry.count('blobPut') + b.registry.count('blobPut') + a.registry.count('manifestPut')).toBe(0);
    const records = await audit.query({ order: 'oldest-first' });
    expect(records.map((r) => [r.action, r.target, r.outcome])).toEqual([
      ['replicate.fanout', 'target-a', 'success'],
      ['replicate.fanout', 'target-b', 'success'],
    ]);
    expect(records[0]?.details).toMatchObject({ executionName: outcome.execution?.executionName, executionArn: `arn:x:${outcome.execution?.executionName}` });
  });

  it('copies inline under the limit, and fans out when the remaining time is what is short', async () => {
    // Prepare
    const small = setup(1_000_000);
    const image = await pushImage(small.source.oci, 'team/app', 'v1.0', { layers: [8000, 8000] });
    const late = setup(1_000_000, 0); // no time left: the time-bound limit is 0
    const image2 = await pushImage(late.source.oci, 'team/app', 'v1.0', { layers: [8000, 8000] });
    // Act
    const inline = await replicateImage(input(image.digest), small.deps);
    const deferred = await replicateImage(input(image2.digest), late.deps);
    // Assess
    expect(inline.status).toBe('replicated');
    expect(small.started).toHaveLength(0);
    expect(small.a.registry.tagDigest('team/app', 'v1.0')).toBe(image.digest);
    expect(deferred.status).toBe('deferred');
    expect(late.started).toHaveLength(1);
  });

  it('never fans out a referrer tag: it travels with its subject', async () => {
    // Prepare
    const { source, a, started, deps } = setup(1);
    const image = await pushImage(source.oci, 'team/app', 'v1.0', { layers: [100] });
    await pushImage(a.oci, 'team/app', 'v1.0', { layers: [100] });
    await a.oci.manifestPut('team/app', image.digest, { raw: image.raw, mediaType: image.mediaType });
    const sig = await pushCosignSignature(source.oci, 'team/app', image);
    // Act
    const outcome = await replicateImage(input(sig.digest, `${image.digest.replace(':', '-')}.sig`), { ...deps, config: replicationConfig(), adapters: deps.adapters }).catch((e: unknown) => e);
    // Assess
    expect(started).toHaveLength(0);
    expect((outcome as { status?: string }).status).not.toBe('deferred');
  });
});

describe('SfnFanoutStarter', () => {
  const input: LargeImageInput = {
    correlationId: 'evt/1 with spaces',
    actor: 'event:aws.ecr',
    executionName: largeImageExecutionName('evt/1 with spaces', 'sha256:aa', 'v1'),
    sourceRegistry: 'ecr',
    repository: 'team/app',
    digest: 'sha256:aa',
    tag: 'v1',
    targets: [],
  };
  const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:regman-replicate-large';

  it('starts an execution named for the event, with the input as JSON', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:x`, startDate: new Date() });
    // Act
    const started = await new SfnFanoutStarter({ client: new SFNClient({ region: 'us-east-1' }), stateMachineArn: arn }).start(input);
    // Assess
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({ stateMachineArn: arn, name: input.executionName });
    expect(JSON.parse(calls[0]!.args[0].input.input!)).toEqual(input);
    expect(started).toEqual({ executionName: input.executionName, executionArn: `${arn}:x` });
    expect(input.executionName).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(largeImageExecutionName('evt/1 with spaces', 'sha256:aa', 'v1')).toBe(input.executionName);
    expect(largeImageExecutionName('x'.repeat(200), 'sha256:aa', 'v1')).toHaveLength(80);
    expect(largeImageExecutionName('evt', 'sha256:aa', 'v2')).not.toBe(largeImageExecutionName('evt', 'sha256:aa', 'v1'));
    sfn.restore();
  });

  it('treats ExecutionAlreadyExists (a duplicate event) as started', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    // Act
    const started = await new SfnFanoutStarter({ client: new SFNClient({ region: 'us-east-1' }), stateMachineArn: arn }).start(input);
    // Assess
    expect(started.executionName).toBe(input.executionName);
    expect(started.executionArn).toBe(`arn:aws:states:us-east-1:123456789012:execution:regman-replicate-large:${input.executionName}`);
    sfn.restore();
  });
});
