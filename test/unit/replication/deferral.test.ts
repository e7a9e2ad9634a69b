// Deferral: which errors defer (and for how long), the deferred message, the SFN queue (aws-sdk-client-mock), and the replicate-deferred ASL run locally.
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { OciError } from '../../../functions/oci/errors.ts';
import { RateLimitedError } from '../../../functions/registries/rate-budget.ts';
import { deferralOf, isDeferredReplication, type DeferredReplication } from '../../../functions/replication/deferral.ts';
import { SfnDeferralQueue, deferralExecutionName } from '../../../functions/replication/sfn-deferral.ts';
import { REPLICATE_DEFERRED_ASL, runStateMachine } from '../../../local/step-functions.ts';

const WORK: DeferredReplication = {
  kind: 'regman.deferred-replication',
  id: 'evt-1',
  correlationId: 'evt-1',
  sourceRegistry: 'ecr',
  actor: 'event:aws.ecr',
  event: { id: 'evt-1', repository: 'app', digest: `sha256:${'a'.repeat(64)}`, tag: 'v1' } as DeferredReplication['event'],
  notBefore: '2026-01-01T00:00:00.000Z',
  deferrals: 1,
  targets: ['to-hub#hub'],
};

describe('deferralOf', () => {
  const limited = new RateLimitedError('spent', { budgetKey: 'registry-1.docker.io|ci', retryAfterSeconds: 3600, registry: 'registry-1.docker.io' });
  it.each([
    { name: 'a RateLimitedError', err: limited, want: { retryAfterSeconds: 3600, budgetKey: 'registry-1.docker.io|ci', registry: 'registry-1.docker.io' } },
    { name: 'one as the cause of COPY_INCOMPLETE', err: new OciError('copy did not finish', { code: 'COPY_INCOMPLETE', cause: limited }), want: { retryAfterSeconds: 3600, budgetKey: 'registry-1.docker.io|ci', registry: 'registry-1.docker.io' } },
    { name: 'a 429 asking for 900 s', err: new OciError('429', { code: 'COPY_INCOMPLETE', cause: new OciError('429', { code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 900, registry: 'r' }) }), want: { retryAfterSeconds: 900, registry: 'r' } },
    { name: 'a 429 without a delay', err: new OciError('429', { code: 'TOO_MANY_REQUESTS' }), want: undefined },
    { name: 'a 500', err: new OciError('boom', { code: 'UNAVAILABLE', retryAfterSeconds: 5 }), want: undefined },
    { name: 'not an error', err: 'nope', want: undefined },
  ])('$name → $want', ({ err, want }) => {
    expect(deferralOf(err)).toEqual(want);
  });

  it('recognises the deferred message and nothing else', () => {
    expect(isDeferredReplication(WORK)).toBe(true);
    expect(isDeferredReplication(JSON.parse(JSON.stringify(WORK)))).toBe(true);
    expect(isDeferredReplication({ ...WORK, kind: 'other' })).toBe(false);
    expect(isDeferredReplication({ id: 'x', 'detail-type': 'ECR Image Action' })).toBe(false);
    expect(isDeferredReplication(null)).toBe(false);
  });
});

describe('SfnDeferralQueue', () => {
  it('starts one execution per deferral round, named for it, with the work and its notBefore; a duplicate is not an error', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: 'arn:x' }).rejectsOnce(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const queue = new SfnDeferralQueue({ client: new SFNClient({ region: 'us-east-1' }), stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:deferred' });
    await queue.defer(WORK, 3600);
    await queue.defer(WORK, 3600);
    const calls = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.name).toBe(deferralExecutionName(WORK));
    expect(calls[0]?.name).toMatch(/^evt-1-d1-[0-9a-f]{8}$/);
    expect(JSON.parse(calls[0]?.input ?? '{}')).toEqual({ notBefore: WORK.notBefore, work: WORK });
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    await expect(queue.defer(WORK, 1)).rejects.toThrow(/AccessDenied/);
    sfn.restore();
  });

  it('keeps names within 80 characters of [A-Za-z0-9_-] and apart per round', () => {
    const long = { ...WORK, correlationId: `${'x:'.repeat(60)}` };
    expect(deferralExecutionName(long)).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(deferralExecutionName({ ...WORK, deferrals: 2 })).not.toBe(deferralExecutionName(WORK));
  });
});

describe('statemachines/replicate-deferred.asl.json', () => {
  it('waits for notBefore, then hands the work (only) to replicate', async () => {
    const seen: unknown[] = [];
    const result = await runStateMachine(REPLICATE_DEFERRED_ASL, { notBefore: new Date(Date.now() + 300).toISOString(), work: WORK }, {
      ReplicateFunctionArn: async (input) => (seen.push(input), { status: 'replicated' }),
      'arn:aws:states:::sqs:sendMessage': async () => ({}),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.states).toEqual(['WaitForBudget', 'Replicate']);
    expect(seen).toEqual([WORK]);
  });

  it('retries a failing replicate, then sends the work and the error to the DLQ and fails', async () => {
    let calls = 0;
    const dlq: unknown[] = [];
    const result = await runStateMachine(REPLICATE_DEFERRED_ASL, { notBefore: '2020-01-01T00:00:00Z', work: WORK }, {
      ReplicateFunctionArn: async () => {
        calls++;
        throw Object.assign(new Error('target still failing'), { name: 'ReplicationFailedError' });
      },
      'arn:aws:states:::sqs:sendMessage': async (input) => (dlq.push(input), {}),
    }, { retryIntervalMs: 1 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'RegmanDeferredReplicationFailed' });
    expect(calls).toBe(3);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ QueueUrl: '${DeadLetterQueueUrl}', MessageBody: { work: WORK, error: { Error: 'ReplicationFailedError' } } });
  });
});
