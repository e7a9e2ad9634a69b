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
    for (const next of [s?.Next, ...(s?.Catch ?? []).map((c) => c.Next)]) if (next) queue.push(next);
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
    for (const s of Object.values(asl.States)) if (!s.Next) expect(['Succeed', 'Fail']).toContain(s.Type);
    expect(asl.States.Plan?.Next).toBe('CopyBlobs');
    expect(mapState.Next).toBe('PublishManifests');
    expect(asl.States.PublishManifests?.Next).toBe('Record');
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
