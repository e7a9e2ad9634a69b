// A Docker Hub target out of budget during a large-image fan-out: the REAL replicate-large ASL (aws-local-stepfunctions) with the
// real step handlers over real registries. The target (behind the fault proxy) answers 429 with Retry-After; the step answers a
// deferral, the ASL Waits for exactly that delay and runs the step again, no Retry is spent, nothing reaches the DLQ, and the
// image lands complete with the tag last.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { createLargeImageCopyBlobHandler } from '../../functions/handlers/large-image-copy-blob.ts';
import { createLargeImagePlanHandler } from '../../functions/handlers/large-image-plan.ts';
import { createLargeImagePublishHandler } from '../../functions/handlers/large-image-publish.ts';
import { createLargeImageRecordHandler } from '../../functions/handlers/large-image-record.ts';
import { createReplicateHandler } from '../../functions/handlers/replicate.ts';
import { closeAdapters } from '../../functions/registries/factory.ts';
import { imageActionEvent } from '../../functions/replication/event.ts';
import type { DeferredStep, LargeImageInput, StepDeferral } from '../../functions/replication/large/types.ts';
import type { ReplicationDeps } from '../../functions/replication/types.ts';
import { createAsyncInvoker, type AttemptReport, type DeadLetter } from '../../local/async-invoker.ts';
import { createLocalFanoutStarter, type LocalTaskHandler } from '../../local/step-functions.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { hubBehindProxy } from '../helpers/hub-behind-proxy.ts';
import { pushImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const KiB = 1024;

let source: RunningRegistry;
let hubRegistry: RunningRegistry;
let proxy: FaultProxy;
let deps: ReplicationDeps;
let audit: AuditLog;
let fanout: ReturnType<typeof createLocalFanoutStarter>;
let invoker: ReturnType<typeof createAsyncInvoker<Record<string, unknown>>>;
const started: LargeImageInput[] = [];
/** Every deferral a step answered, with the step, the item's blob (CopyBlob) and when. */
const deferrals: { step: string; blob?: string; at: number; deferral: StepDeferral }[] = [];
/** Step invocations by step (and blob): a Retry would show as more calls. */
const calls = new Map<string, number>();
const deadLetters: DeadLetter[] = [];
const attempts: AttemptReport<unknown>[] = [];
/** The Docker Hub budget's clock: a Wait "passes" the delay it waited for (the local engine's Waits are shortened). */
let clockOffsetMs = 0;

const quiet = () => ({ logger: new Logger({ serviceName: 'large-deferral-it', logLevel: 'SILENT' }), tracer: new Tracer({ enabled: false }) });

/** Wraps a step: counts its calls and, when it answers a deferral, lets the budget's time pass and the registry recover. */
function observed(step: string, handler: LocalTaskHandler): LocalTaskHandler {
  return async (input) => {
    const blob = (input as { blob?: { digest: string } }).blob?.digest;
    const key = blob ? `${step} ${blob}` : step;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    const answer = await handler(input);
    const deferral = (answer as Partial<DeferredStep> | null)?.deferral;
    if (deferral) {
      deferrals.push({ step, ...(blob ? { blob } : {}), at: Date.now(), deferral });
      proxy.clearFaults();
      clockOffsetMs += deferral.retryAfterSeconds * 1000;
    }
    return answer;
  };
}

beforeAll(async () => {
  [source, hubRegistry] = await Promise.all([startRegistry(), startRegistry()]);
  proxy = await startFaultProxy(hubRegistry.url);
  const { config, adapters } = hubBehindProxy(source.url, proxy, { repositories: ['big/**'], now: () => Date.now() + clockOffsetMs, file: 'large-deferral-it.json' });
  audit = new AuditLog(new InMemoryAuditStore());
  deps = { config, adapters, audit, copyOptions: { retries: 0, retryDelayMs: 1 } };
  const taskHandlers: Record<string, LocalTaskHandler> = {
    LargeImagePlanFunctionArn: observed('Plan', createLargeImagePlanHandler(() => deps, quiet())),
    LargeImageCopyBlobFunctionArn: observed('CopyBlob', createLargeImageCopyBlobHandler(() => deps, quiet())),
    LargeImagePublishFunctionArn: observed('PublishManifests', createLargeImagePublishHandler(() => deps, quiet())),
    LargeImageRecordFunctionArn: createLargeImageRecordHandler(() => deps, quiet()),
  };
  // Waits are shortened to 20 ms here; what they waited FOR is read from their input (notBefore).
  fanout = createLocalFanoutStarter({ taskHandlers, retryIntervalMs: 0, waitMs: 20 });
  const fanoutDeps: ReplicationDeps = {
    ...deps,
    fanout: { starter: { start: (input: LargeImageInput) => (started.push(input), fanout.start(input)) }, policy: { maxBytes: 64 * KiB, throughputBytesPerSecond: 50 * 1024 * KiB, safetyFactor: 0.5 } },
  };
  const replicate = createReplicateHandler(() => fanoutDeps, {
    sourceRegistry: () => 'source',
    logger: new Logger({ serviceName: 'large-deferral-it', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'large-deferral-it' }),
    tracer: new Tracer({ enabled: false }),
  });
  // The replicate function as Lambda runs it asynchronously: retries, then the DLQ.
  invoker = createAsyncInvoker<Record<string, unknown>>({
    name: 'replicate',
    handler: (event, context) => replicate(event, context),
    retryDelaysMs: [10, 10],
    deadLetters: { send: async (d) => void deadLetters.push(d) },
    onAttempt: (r) => attempts.push(r),
  });
});

afterAll(async () => {
  await invoker?.stop();
  if (deps) closeAdapters(deps.adapters.values());
  await Promise.all([proxy?.stop(), source?.stop(), hubRegistry?.stop()]);
});

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  proxy.reset();
  deferrals.length = 0;
  calls.clear();
  deadLetters.length = 0;
  attempts.length = 0;
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Pushes the event through the invoker and waits for the execution it fanned out to. */
async function replicateLarge(id: string, repository: string, digest: string) {
  invoker.invoke(imageActionEvent({ id, repository, digest, tag: 'v1' }));
  await invoker.idle();
  const input = started.find((s) => s.correlationId === id);
  expect(input, 'the image fanned out').toBeDefined();
  return fanout.wait(input!.executionName);
}

const tagAtHub = async (repository: string, mediaType: string) =>
  (await new RawRegistryClient(hubRegistry.url).request('HEAD', `/v2/acme/${repository}/manifests/v1`, { headers: { accept: mediaType } })).headers['docker-content-digest'];

describe('large image to a Docker Hub target out of budget', () => {
  it('CopyBlob: a 429 with Retry-After: 120 on a blob commit defers the item, which Waits 120 s and copies it; no Retry, no DLQ', async () => {
    // Prepare: Hub refuses the commit of the biggest layer until the deferral is answered
    const image = await pushImage(source, 'big/copy', 'v1', { layers: [96 * KiB, 160 * KiB, 128 * KiB] });
    const victim = image.layers[1]!;
    const fault = proxy.inject({ method: ['POST', 'PUT'], path: new RegExp(`/blobs/uploads/.*${victim.digest.slice('sha256:'.length)}`), times: Infinity, fault: { kind: 'status', status: 429, retryAfter: 120 } });
    // Act
    const execution = await replicateLarge('evt-large-copy', 'big/copy', image.digest);
    // Assess: the item deferred with the registry's delay and the Wait waited for it
    expect(execution.status, JSON.stringify(execution)).toBe('SUCCEEDED');
    expect(fault.fired).toBe(1);
    const mine = deferrals.filter((d) => d.blob === victim.digest);
    expect(mine.map((d) => [d.step, d.deferral.retryAfterSeconds, d.deferral.deferrals])).toEqual([['CopyBlob', 120, 1]]);
    expect(Date.parse(mine[0]!.deferral.notBefore) - mine[0]!.at).toBeGreaterThan(118_000);
    expect(Date.parse(mine[0]!.deferral.notBefore) - mine[0]!.at).toBeLessThanOrEqual(120_000);
    const waits = execution.waits.filter((w) => w.state === 'WaitBeforeCopyBlob');
    const waitedFor = waits.map((w) => (w.input as { blob: { digest: string }; copied: DeferredStep }).copied.deferral).filter((d) => d.reason.includes(victim.digest));
    expect(waitedFor.map((d) => d.notBefore)).toEqual([mine[0]!.deferral.notBefore]);
    expect(execution.states).not.toContain('RecordFailure');
    // The victim ran twice (first try, after the Wait): no Retry was spent on a budget
    expect(calls.get(`CopyBlob ${victim.digest}`)).toBe(2);
    expect(deadLetters).toEqual([]);
    expect(attempts.filter((a) => !a.ok)).toEqual([]);
    // Complete at Hub, tagged, and audited as a success that uploaded every blob
    expect(await tagAtHub('big/copy', image.mediaType)).toBe(image.digest);
    const records = (await audit.query({ repository: 'big/copy', action: 'replicate', order: 'oldest-first' })).filter((r) => r.correlationId === 'evt-large-copy');
    expect(records.map((r) => [r.target, r.outcome])).toEqual([['hub', 'success']]);
    expect(records[0]?.blobs?.uploaded).toBe(image.blobs.length);
  });

  it('PublishManifests: a 429 with Retry-After: 300 on the manifest PUT defers the step, which Waits 300 s and tags; no Retry, no DLQ', async () => {
    // Prepare
    const image = await pushImage(source, 'big/publish', 'v1', { layers: [80 * KiB, 96 * KiB] });
    const fault = proxy.inject({ ...Routes.manifestPut, times: Infinity, fault: { kind: 'status', status: 429, retryAfter: 300 } });
    // Act
    const execution = await replicateLarge('evt-large-publish', 'big/publish', image.digest);
    // Assess
    expect(execution.status, JSON.stringify(execution)).toBe('SUCCEEDED');
    expect(fault.fired).toBe(1);
    expect(deferrals.map((d) => [d.step, d.deferral.retryAfterSeconds, d.deferral.deferrals])).toEqual([['PublishManifests', 300, 1]]);
    const [deferred] = deferrals;
    expect(Date.parse(deferred!.deferral.notBefore) - deferred!.at).toBeGreaterThan(298_000);
    expect(execution.waits.map((w) => [w.state, (w.input as { published: DeferredStep }).published.deferral.notBefore])).toEqual([['WaitBeforePublish', deferred!.deferral.notBefore]]);
    expect(calls.get('PublishManifests')).toBe(2);
    expect(execution.states.filter((s) => s === 'WaitBeforePublish')).toHaveLength(1);
    expect(execution.states).not.toContain('RecordFailure');
    expect(deadLetters).toEqual([]);
    expect(attempts.filter((a) => !a.ok)).toEqual([]);
    expect(await tagAtHub('big/publish', image.mediaType)).toBe(image.digest);
    const records = (await audit.query({ repository: 'big/publish', action: 'replicate', order: 'oldest-first' })).filter((r) => r.correlationId === 'evt-large-publish');
    expect(records.map((r) => [r.target, r.outcome])).toEqual([['hub', 'success']]);
  });
});
