// Rate budgets that defer: a Docker Hub target answering 429 (Retry-After or ratelimit-reset) is re-queued with that delay by the
// local async invoker, audited `replicate.deferred` with the time, never dead-lettered, and completes when the deferral comes back.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { createReplicateHandler } from '../../functions/handlers/replicate.ts';
import { imageActionEvent } from '../../functions/replication/event.ts';
import { closeAdapters } from '../../functions/registries/factory.ts';
import { DynamoReplicationState } from '../../functions/replication/dynamo-state.ts';
import { MAX_DEFERRALS, type DeferredReplication } from '../../functions/replication/deferral.ts';
import type { ReplicationDeps } from '../../functions/replication/types.ts';
import { createAsyncInvoker, type AttemptReport, type DeadLetter } from '../../local/async-invoker.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { hubBehindProxy } from '../helpers/hub-behind-proxy.ts';
import { pushImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

let source: RunningRegistry;
let hubRegistry: RunningRegistry;
let proxy: FaultProxy;
let db: DynaliteHandle;
let deps: ReplicationDeps;
let audit: AuditLog;
const deferred: { work: DeferredReplication; delaySeconds: number; at: number }[] = [];
const deadLetters: DeadLetter[] = [];
const attempts: AttemptReport<unknown>[] = [];
let clockOffsetMs = 0;
/** False: Hub keeps refusing, as for a credential whose quota never returns. */
let budgetComesBack = true;
let invoker: ReturnType<typeof createAsyncInvoker<Record<string, unknown> | DeferredReplication>>;

beforeAll(async () => {
  [source, hubRegistry, db] = await Promise.all([startRegistry(), startRegistry(), startDynalite()]);
  // Docker Hub's data plane is this registry behind the fault proxy, which answers 429 on demand.
  proxy = await startFaultProxy(hubRegistry.url);
  // The budget's clock jumps ahead when a deferral is queued: the wait it asked for has "passed".
  const { config, adapters } = hubBehindProxy(source.url, proxy, { repositories: ['app*'], now: () => Date.now() + clockOffsetMs, file: 'deferral-test.json' });
  audit = new AuditLog(new InMemoryAuditStore());
  deps = {
    config,
    adapters,
    audit,
    state: new DynamoReplicationState({ docClient: db.docClient, tableName: db.tableNames.replicationState }),
    copyOptions: { retries: 0, retryDelayMs: 1 },
    // The local stack's deferral: the async invoker runs the work again later (shortened here; the fault is gone by then).
    deferrals: {
      defer: async (work, delaySeconds) => {
        deferred.push({ work, delaySeconds, at: Date.now() });
        if (budgetComesBack) {
          proxy.clearFaults();
          clockOffsetMs += delaySeconds * 1000;
        }
        invoker.invokeLater(work, 20);
      },
    },
  };
  const replicate = createReplicateHandler(() => deps, {
    sourceRegistry: () => 'source',
    logger: new Logger({ serviceName: 'deferral-it', logLevel: 'SILENT' as 'WARN' }),
    metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'deferral-it' }),
    tracer: new Tracer({ enabled: false }),
  });
  invoker = createAsyncInvoker<Record<string, unknown> | DeferredReplication>({
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
  await Promise.all([proxy?.stop(), source?.stop(), hubRegistry?.stop(), db?.stop()]);
});

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  deferred.length = 0;
  deadLetters.length = 0;
  attempts.length = 0;
  budgetComesBack = true;
  proxy.reset();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('a Docker Hub target out of budget', () => {
  it.each([
    { name: '429 with Retry-After: 120', headers: { 'retry-after': '120' } as Record<string, string>, seconds: 120 },
    { name: '429 with ratelimit-reset: 900 (no Retry-After)', headers: { 'ratelimit-reset': '900', 'ratelimit-remaining': '0;w=21600' } as Record<string, string>, seconds: 900 },
  ])('$name: deferred with that delay, audited with the time, not dead-lettered, then replicated', async ({ headers, seconds }) => {
    // Prepare: every request to Hub is refused until the deferral is queued
    const repo = `app-${seconds}`;
    const image = await pushImage(source, repo, 'v1', { layers: [2048, 4096] });
    proxy.inject({ times: Infinity, fault: { kind: 'status', status: 429, headers } });
    const started = Date.now();
    // Act
    invoker.invoke(imageActionEvent({ id: `evt-${seconds}`, repository: repo, digest: image.digest, tag: 'v1' }));
    await invoker.idle();
    // Assess: one deferral with the registry's delay, no failed attempt, nothing in the DLQ
    expect(deferred.map((d) => [d.delaySeconds, d.work.deferrals, d.work.targets])).toEqual([[seconds, 1, ['to-hub#hub']]]);
    expect(Date.parse(deferred[0]!.work.notBefore) - started).toBeGreaterThanOrEqual(seconds * 1000 - 1000);
    expect(attempts.filter((a) => !a.ok)).toEqual([]);
    expect(deadLetters).toEqual([]);
    const records = await audit.query({ repository: repo, order: 'oldest-first' });
    expect(records.map((r) => `${r.action} ${r.outcome}`)).toEqual(['replicate.deferred skipped', 'replicate success']);
    const first = records[0]!;
    expect(first).toMatchObject({ target: 'hub', correlationId: `evt-${seconds}`, errorCode: 'RATE_LIMITED', digest: image.digest });
    const retryAt = Date.parse(String(first.details?.retryAt));
    expect(retryAt - started).toBeGreaterThanOrEqual(seconds * 1000 - 1000);
    expect(retryAt - Date.now()).toBeLessThanOrEqual(seconds * 1000);
    expect(first.details).toMatchObject({ retryAfterSeconds: seconds, deferrals: 1 });
    // The deferred run copied the image (through the proxy, now quiet) with its digest
    const head = await new RawRegistryClient(hubRegistry.url).request('HEAD', `/v2/acme/${repo}/manifests/v1`, { headers: { accept: image.mediaType } });
    expect(head.headers['docker-content-digest']).toBe(image.digest);
    expect(proxy.count(Routes.manifestPut)).toBeGreaterThanOrEqual(1);
  });

  it(`a budget that never comes back: after ${MAX_DEFERRALS} deferrals the target fails, is retried, and only then dead-lettered`, async () => {
    const image = await pushImage(source, 'app-never', 'v1', { layers: [1024] });
    budgetComesBack = false;
    proxy.inject({ times: Infinity, fault: { kind: 'status', status: 429, retryAfter: 600 } });
    invoker.invoke(imageActionEvent({ id: 'evt-never', repository: 'app-never', digest: image.digest, tag: 'v1' }));
    await invoker.idle();
    expect(deferred.map((d) => d.work.deferrals)).toEqual(Array.from({ length: MAX_DEFERRALS }, (_, i) => i + 1));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ attempts: 3, correlationId: 'evt-never', event: { kind: 'regman.deferred-replication', deferrals: MAX_DEFERRALS } });
    const records = await audit.query({ repository: 'app-never', order: 'oldest-first' });
    expect(records.filter((r) => r.action === 'replicate.deferred')).toHaveLength(MAX_DEFERRALS);
    expect(records.filter((r) => r.action === 'replicate').map((r) => `${r.outcome} ${r.errorCode}`)).toEqual(Array(3).fill('failure TOO_MANY_REQUESTS'));
  });
});
