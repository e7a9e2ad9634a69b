// A large image FROM Docker Hub when the account's pulls are spent by other invocations: every step is its own "Lambda"
// (own adapters, own in-process budget) spending one DynamoDB-counted rolling budget. Plan's manifest GET is refused by the
// shared budget before it reaches Hub, Plan answers a deferral until the oldest pulls leave the window, the REAL
// replicate-large ASL Waits for it, and every pull Plan and PublishManifests then make is counted in the shared item.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import type { DockerhubRegistryConfig } from '../../functions/config/types.ts';
import { validateConfig } from '../../functions/config/validate-config.ts';
import type { RegmanConfig } from '../../functions/config/types.ts';
import { createLargeImageCopyBlobHandler } from '../../functions/handlers/large-image-copy-blob.ts';
import { createLargeImagePlanHandler } from '../../functions/handlers/large-image-plan.ts';
import { createLargeImagePublishHandler } from '../../functions/handlers/large-image-publish.ts';
import { createLargeImageRecordHandler } from '../../functions/handlers/large-image-record.ts';
import { createReplicateHandler } from '../../functions/handlers/replicate.ts';
import { lambdaContext } from '../../functions/handlers/context.ts';
import { createDockerHubAdapter } from '../../functions/registries/dockerhub/adapter.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import type { RegistryAdapter } from '../../functions/registries/adapter.ts';
import { RateBudget } from '../../functions/registries/rate-budget.ts';
import { DynamoPullBudget, slotMs } from '../../functions/registries/shared-pull-budget.ts';
import { imageActionEvent } from '../../functions/replication/event.ts';
import type { DeferredStep, LargeImageInput, StepDeferral } from '../../functions/replication/large/types.ts';
import type { ReplicationDeps, ReplicationOutcome } from '../../functions/replication/types.ts';
import { createLocalFanoutStarter, type LocalTaskHandler } from '../../local/step-functions.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const KiB = 1024;
const SIX_HOURS = 6 * 3600;
const PULLS = 3;

let hubRegistry: RunningRegistry;
let target: RunningRegistry;
let proxy: FaultProxy;
let db: DynaliteHandle;
let config: RegmanConfig;
let audit: AuditLog;
const opened: Map<string, RegistryAdapter>[] = [];
/** Time as every budget sees it: a Wait "passes" what it waited for (the local engine's Waits are shortened). */
let clockOffsetMs = 0;
const now = (): number => Date.now() + clockOffsetMs;
const deferrals: { step: string; at: number; deferral: StepDeferral }[] = [];
const calls = new Map<string, number>();

const shared = (): DynamoPullBudget => new DynamoPullBudget({ docClient: db.docClient, tableName: db.tableNames.replicationState, now });

/** One "Lambda": its own adapters (own manifest cache and in-process budget) over the one shared pull budget. */
function invocationDeps(): ReplicationDeps {
  const adapters = createAdapters({ registries: { target: config.registries.target! } });
  adapters.set('hub', createDockerHubAdapter('hub', config.registries.hub as DockerhubRegistryConfig, {
    env: { HUB_USERNAME: 'ci', HUB_PASSWORD: 'pw' },
    ociEndpoint: () => ({ host: proxy.host, plainHttp: true }),
    hubApiUrl: 'http://127.0.0.1:9',
    rateBudget: new RateBudget({ now }),
    sharedPullBudget: shared(),
  }));
  opened.push(adapters);
  return { config, adapters, audit, copyOptions: { retries: 0, retryDelayMs: 1 } };
}

function observed(step: string, handler: LocalTaskHandler): LocalTaskHandler {
  return async (input) => {
    calls.set(step, (calls.get(step) ?? 0) + 1);
    const answer = await handler(input);
    const deferral = (answer as Partial<DeferredStep> | null)?.deferral;
    if (deferral) {
      deferrals.push({ step, at: now(), deferral });
      clockOffsetMs += deferral.retryAfterSeconds * 1000;
    }
    return answer;
  };
}

const quiet = () => ({ logger: new Logger({ serviceName: 'plan-budget-it', logLevel: 'SILENT' }), tracer: new Tracer({ enabled: false }) });

beforeAll(async () => {
  [hubRegistry, target, db] = await Promise.all([startRegistry(), startRegistry(), startDynalite()]);
  proxy = await startFaultProxy(hubRegistry.url);
  const validated = validateConfig(
    JSON.stringify({
      version: 1,
      registries: {
        hub: { kind: 'dockerhub', namespace: 'acme', credentials: { env: 'HUB' }, rateLimit: { pulls: PULLS, windowHours: 6 } },
        target: { kind: 'oci', url: target.url, public: true },
      },
      replication: [{ name: 'from-hub', source: 'hub', repositories: ['app*'], tags: { include: ['v*'] }, targets: [{ registry: 'target' }] }],
    }),
    'plan-budget-it.json',
  );
  expect(validated.errors).toEqual([]);
  config = validated.config!;
  audit = new AuditLog(new InMemoryAuditStore());
});

afterAll(async () => {
  for (const a of opened) closeAdapters(a.values());
  await Promise.all([proxy?.stop(), hubRegistry?.stop(), target?.stop(), db?.stop()]);
});

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('large image from Docker Hub with the shared pull budget spent', () => {
  it('Plan is refused by the shared budget, Waits until the oldest pulls leave the rolling window, then Plan and Publish spend from it', async () => {
    // Prepare: the image at Hub; each step a separate invocation
    const image = await pushImage(hubRegistry, 'acme/app', 'v1', { layers: [96 * KiB, 128 * KiB] });
    const taskHandlers: Record<string, LocalTaskHandler> = {
      LargeImagePlanFunctionArn: observed('Plan', createLargeImagePlanHandler(() => invocationDeps(), quiet())),
      LargeImageCopyBlobFunctionArn: observed('CopyBlob', createLargeImageCopyBlobHandler(() => invocationDeps(), quiet())),
      LargeImagePublishFunctionArn: observed('PublishManifests', createLargeImagePublishHandler(() => invocationDeps(), quiet())),
      LargeImageRecordFunctionArn: createLargeImageRecordHandler(() => invocationDeps(), quiet()),
    };
    const fanout = createLocalFanoutStarter({ taskHandlers, retryIntervalMs: 0, waitMs: 20 });
    let started: LargeImageInput | undefined;
    let spentElsewhere = 0;
    const starter = {
      start: async (input: LargeImageInput) => {
        started = input;
        // Other invocations (CI, other images) spend what is left of the account's pulls before Plan runs.
        while ((await shared().take(`${proxy.host}|ci`, 1, { limit: PULLS, windowSeconds: SIX_HOURS })).granted) spentElsewhere++;
        return fanout.start(input);
      },
    };
    const replicateDeps: ReplicationDeps = { ...invocationDeps(), fanout: { starter, policy: { maxBytes: 64 * KiB, throughputBytesPerSecond: 50 * 1024 * KiB, safetyFactor: 0.5 } } };
    const replicate = createReplicateHandler(() => replicateDeps, {
      sourceRegistry: () => 'hub',
      logger: new Logger({ serviceName: 'plan-budget-it', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'RegmanIT', serviceName: 'plan-budget-it' }),
      tracer: new Tracer({ enabled: false }),
    });
    const firstPulls = now();

    // Act
    const outcome = (await replicate(imageActionEvent({ id: 'evt-plan-budget', repository: 'acme/app', digest: image.digest, tag: 'v1' }), lambdaContext())) as ReplicationOutcome;
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'deferred' });
    const pullsBeforePlan = proxy.count(Routes.manifestGet);
    const execution = await fanout.wait(started!.executionName);

    // Assess: fanned out; replicate's estimate pulled, the rest of the quota went elsewhere
    expect(outcome.status).toBe('deferred');
    expect(pullsBeforePlan + spentElsewhere).toBe(PULLS);
    expect(execution.status, JSON.stringify(execution)).toBe('SUCCEEDED');
    // Plan deferred once, for as long as the first pulls need to leave the six-hour rolling window
    expect(deferrals.map((d) => [d.step, d.deferral.deferrals])).toEqual([['Plan', 1]]);
    const back = Math.floor(firstPulls / slotMs(SIX_HOURS)) * slotMs(SIX_HOURS) + slotMs(SIX_HOURS) + SIX_HOURS * 1000;
    const asked = deferrals[0]!.deferral.retryAfterSeconds * 1000;
    expect(asked).toBeGreaterThanOrEqual(back - deferrals[0]!.at - 2000);
    expect(asked).toBeLessThanOrEqual(back - deferrals[0]!.at + 2000);
    expect(asked).toBeGreaterThanOrEqual(SIX_HOURS * 1000 - 60_000);
    expect(execution.waits.map((w) => [w.state, (w.input as { plan: DeferredStep }).plan.deferral.notBefore])).toEqual([['WaitBeforePlan', deferrals[0]!.deferral.notBefore]]);
    expect(calls.get('Plan')).toBe(2);
    // The refused Plan never reached Hub; every pull after the Wait is in the shared item, which holds nothing else now
    const item = await db.docClient.send(new GetCommand({ TableName: db.tableNames.replicationState, Key: { pk: `budget#${proxy.host}|ci`, sk: `rolling#${SIX_HOURS}` } }));
    const counted = Object.values((item.Item?.slots ?? {}) as Record<string, number>).reduce((s, n) => s + n, 0);
    const pullsAfterWait = proxy.count(Routes.manifestGet) - pullsBeforePlan;
    expect(pullsAfterWait).toBeGreaterThanOrEqual(2); // Plan's and PublishManifests' (separate invocations: no shared cache)
    expect(counted).toBe(pullsAfterWait);
    expect((await createAdapters({ registries: { target: config.registries.target! } }).get('target')!.oci.manifestHead('app', 'v1'))?.digest).toBe(image.digest);
  });
});
