// The replicate-large ASL: valid JSON the local engine accepts, every state reachable, Retry/Catch as designed, placeholders only.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LargeImageErrorName } from '../../../functions/replication/large/errors.ts';
import { REPLICATE_LARGE_ASL, runStateMachine } from '../../../local/step-functions.ts';

interface Retrier { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number; IntervalSeconds?: number }
interface Catcher { ErrorEquals: string[]; Next: string; ResultPath?: string }
interface State {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Variable: string; IsPresent?: boolean; Next: string }[];
  TimestampPath?: string;
  End?: boolean;
  Resource?: string;
  Retry?: Retrier[];
  Catch?: Catcher[];
  TimeoutSeconds?: number;
  ItemsPath?: string;
  MaxConcurrency?: number;
  ItemSelector?: Record<string, string>;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
}
interface Definition { StartAt: string; States: Record<string, State> }

const asl = JSON.parse(readFileSync(REPLICATE_LARGE_ASL, 'utf8')) as Definition;

function reachable(def: Definition): Set<string> {
  const seen = new Set<string>();
  const queue = [def.StartAt];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const s = def.States[name];
    expect(s, `state ${name} is referenced but not defined`).toBeDefined();
    for (const next of [s?.Next, s?.Default, ...(s?.Choices ?? []).map((c) => c.Next), ...(s?.Catch ?? []).map((c) => c.Next)]) if (next) queue.push(next);
  }
  return seen;
}

const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
const mapState = asl.States.CopyBlobs as State;
const copyBlob = mapState.ItemProcessor?.States.CopyBlob as State;

describe('statemachines/replicate-large.asl.json', () => {
  it('reaches every state from StartAt, in the Map too, and ends only in Succeed or Fail', () => {
    expect(asl.StartAt).toBe('Plan');
    expect([...reachable(asl)].sort()).toEqual(Object.keys(asl.States).sort());
    const inner = mapState.ItemProcessor as Definition;
    expect([...reachable(inner)].sort()).toEqual(Object.keys(inner.States).sort());
    for (const s of Object.values(asl.States)) if (!s.Next) expect(['Succeed', 'Fail', 'Choice']).toContain(s.Type);
    expect(asl.States.Plan?.Next).toBe('PlanDeferred');
    expect(asl.States.PlanDeferred?.Default).toBe('CopyBlobs');
    expect(mapState.Next).toBe('PublishManifests');
    expect(asl.States.PublishManifests?.Next).toBe('PublishDeferred');
    expect(asl.States.PublishDeferred?.Default).toBe('Record');
    expect(asl.States.RecordFailure?.Next).toBe('ReplicationFailed');
  });

  it('retries every Task on retryable errors only, with backoff, and catches every failure', () => {
    for (const [name, s] of [...tasks, ['CopyBlob', copyBlob] as const]) {
      const retried = (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, name).toContain(LargeImageErrorName.retryable);
      expect(retried, name).toContain('Lambda.TooManyRequestsException');
      expect(retried, name).not.toContain(LargeImageErrorName.fatal);
      expect(retried, name).not.toContain('States.ALL');
      for (const r of s.Retry ?? []) expect((r.BackoffRate ?? 0) > 1 && (r.MaxAttempts ?? 0) >= 3, name).toBe(true);
      expect(s.TimeoutSeconds, name).toBeGreaterThan(0);
      expect(s.Resource, name).toMatch(/^\$\{LargeImage[A-Za-z]+FunctionArn\}$/);
    }
    expect(copyBlob.Retry?.flatMap((r) => r.ErrorEquals)).toContain('States.Timeout');
    for (const name of ['Plan', 'CopyBlobs', 'PublishManifests']) {
      expect(asl.States[name]?.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
    }
    expect(asl.States.Record?.Catch?.[0]?.Next).toBe('AuditFailed');
    expect(asl.States.RecordFailure?.Catch?.[0]?.Next).toBe('AuditFailed');
    expect(asl.States.Record?.Resource).toBe(asl.States.RecordFailure?.Resource);
  });

  it('a step out of rate budget Waits on its own deferral and runs again: Plan, each CopyBlob item, PublishManifests', () => {
    const inner = (mapState.ItemProcessor as Definition).States;
    for (const [states, task, slot, choice, wait] of [
      [asl.States, 'Plan', '$.plan', 'PlanDeferred', 'WaitBeforePlan'],
      [inner, 'CopyBlob', '$.copied', 'BlobDeferred', 'WaitBeforeCopyBlob'],
      [asl.States, 'PublishManifests', '$.published', 'PublishDeferred', 'WaitBeforePublish'],
    ] as const) {
      expect(states[task]?.Next, task).toBe(choice);
      expect(states[choice]?.Choices, task).toEqual([{ Variable: `${slot}.deferral`, IsPresent: true, Next: wait }]);
      expect(states[wait], task).toMatchObject({ Type: 'Wait', TimestampPath: `${slot}.deferral.notBefore`, Next: task });
    }
    expect(copyBlob).toMatchObject({ ResultPath: '$.copied' });
    expect(inner.BlobCopied).toMatchObject({ Type: 'Pass', InputPath: '$.copied', End: true });
    // Docker Hub's window is six hours and a step may wait 12 times: the execution outlives a day.
    expect((asl as { TimeoutSeconds?: number }).TimeoutSeconds).toBeGreaterThanOrEqual(72 * 3600);
  });

  it('runs a deferred item again after its Wait (no Retry spent), the item\'s result is the copy\'s, and the other items go on', async () => {
    // Prepare: blob b answers a deferral once, then copies
    const calls: string[] = [];
    const notBefore = new Date(Date.now() + 90_000).toISOString();
    const handlers = {
      LargeImagePlanFunctionArn: async () => ({ blobs: [{ digest: 'a', targets: [0] }, { digest: 'b', targets: [0] }], targets: [{}], totalBytes: 2 }),
      LargeImageCopyBlobFunctionArn: async (input: unknown) => {
        const item = input as { blob: { digest: string }; copied?: { deferral?: { deferrals: number } } };
        calls.push(`${item.blob.digest}${item.copied?.deferral ? `#${item.copied.deferral.deferrals}` : ''}`);
        if (item.blob.digest === 'b' && !item.copied) return { deferral: { notBefore, retryAfterSeconds: 90, deferrals: 1, reason: 'test', outcomes: [null] } };
        return { digest: item.blob.digest, outcomes: ['uploaded'] };
      },
      LargeImagePublishFunctionArn: async () => [{ target: 't', digest: 'd', manifestsPushed: 1, tagged: true }],
      LargeImageRecordFunctionArn: async (input: unknown) => ({ copied: (input as { copied: unknown }).copied }),
    };
    // Act
    const result = await runStateMachine(REPLICATE_LARGE_ASL, { correlationId: 'c', sourceRegistry: 's', repository: 'r', digest: 'd', targets: [{}] }, handlers, { retryIntervalMs: 0, waitMs: 0 });
    // Assess
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'SUCCEEDED' });
    expect(calls.sort()).toEqual(['a', 'b', 'b#1']);
    expect(result.waits.map((w) => [w.state, (w.input as { copied: { deferral: { notBefore: string } } }).copied.deferral.notBefore])).toEqual([['WaitBeforeCopyBlob', notBefore]]);
    expect(result.output).toEqual({ copied: [{ digest: 'a', outcomes: ['uploaded'] }, { digest: 'b', outcomes: ['uploaded'] }] });
    expect(result.states).not.toContain('RecordFailure');
  });

  it('maps one item per planned blob, at most 8 at once, with a small item selector', () => {
    expect(mapState).toMatchObject({ Type: 'Map', ItemsPath: '$.plan.blobs', MaxConcurrency: 8 });
    expect(Object.keys(mapState.ItemSelector ?? {}).sort()).toEqual(['blob.$', 'correlationId.$', 'digest.$', 'repository.$', 'sourceRegistry.$', 'targets.$']);
    expect(mapState.ItemSelector?.['blob.$']).toBe('$$.Map.Item.Value');
  });

  it('is accepted by the local engine, which refuses to run a Task without a handler', async () => {
    const err = await runStateMachine(REPLICATE_LARGE_ASL, {}, { LargeImagePlanFunctionArn: async () => ({}) }).then(() => new Error('no error'), (e: unknown) => e as Error);
    expect(err.message).toMatch(/CopyBlob.*LargeImageCopyBlobFunctionArn/);
  });

  it('runs the failure branch when Plan fails fatally, without retrying it', async () => {
    // Prepare
    let plans = 0;
    const recorded: unknown[] = [];
    const fatal = Object.assign(new Error('[PLAN_TOO_LARGE] too big'), { name: LargeImageErrorName.fatal });
    // Act
    const result = await runStateMachine(
      REPLICATE_LARGE_ASL,
      { correlationId: 'c', targets: [] },
      {
        LargeImagePlanFunctionArn: async () => {
          plans++;
          throw fatal;
        },
        LargeImageCopyBlobFunctionArn: async () => ({}),
        LargeImagePublishFunctionArn: async () => [],
        LargeImageRecordFunctionArn: async (input) => (recorded.push(input), {}),
      },
      { retryIntervalMs: 0 },
    );
    // Assess
    expect(plans).toBe(1);
    expect(result).toMatchObject({ status: 'FAILED', error: 'RegmanReplicationFailed' });
    expect(result.states).toEqual(['Plan', 'RecordFailure', 'ReplicationFailed']);
    expect(recorded).toEqual([{ correlationId: 'c', targets: [], error: { Error: LargeImageErrorName.fatal, Cause: '[PLAN_TOO_LARGE] too big' } }]);
  });
});
