// Docker Hub's pull limit across invocations: two adapters (two Lambdas, each with its own in-process budget) spend one
// DynamoDB-counted quota; past it a manifest GET is deferred (RateLimitedError until the first pulls leave the rolling window) without reaching Hub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerhubRegistryConfig } from '../../../functions/config/types.ts';
import { createDockerHubAdapter, type DockerHubAdapter } from '../../../functions/registries/dockerhub/adapter.ts';
import { RateBudget, findRateLimitedError } from '../../../functions/registries/rate-budget.ts';
import { DynamoPullBudget, slotMs } from '../../../functions/registries/shared-pull-budget.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';
import { Routes, startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { pushImage, type PushedImage } from '../../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.ts';

const CONFIG = { kind: 'dockerhub', namespace: 'acme', public: false, credentials: { env: 'HUB' }, rateLimit: { pulls: 3, windowHours: 6 } } as DockerhubRegistryConfig;

let registry: RunningRegistry;
let proxy: FaultProxy;
let db: DynaliteHandle;
let images: PushedImage[];

beforeAll(async () => {
  [registry, db] = await Promise.all([startRegistry(), startDynalite()]);
  proxy = await startFaultProxy(registry.url);
  images = [];
  for (const tag of ['v1', 'v2', 'v3', 'v4']) images.push(await pushImage(registry, 'acme/app', tag, { layers: [512] }));
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), registry?.stop(), db?.stop()]);
});

/** One invocation: its own adapter and in-process budget, the shared DynamoDB budget. */
function invocation(): DockerHubAdapter {
  return createDockerHubAdapter('hub', CONFIG, {
    env: { HUB_USERNAME: 'ci', HUB_PASSWORD: 'pw' },
    ociEndpoint: () => ({ host: proxy.host, plainHttp: true }),
    hubApiUrl: 'http://127.0.0.1:9',
    rateBudget: new RateBudget(),
    sharedPullBudget: new DynamoPullBudget({ docClient: db.docClient, tableName: db.tableNames.replicationState }),
  });
}

describe('Docker Hub pull budget shared across invocations', () => {
  it('spends rateLimit.pulls once between two invocations, then defers the next pull until the first leaves the rolling window', async () => {
    const [a, b] = [invocation(), invocation()];
    // Each in-process budget alone would allow 3 pulls: together they get 3.
    const firstPull = Date.now();
    await a.oci.manifestGet('acme/app', images[0]!.digest);
    await b.oci.manifestGet('acme/app', images[1]!.digest);
    await a.oci.manifestGet('acme/app', images[2]!.digest);
    expect(proxy.count(Routes.manifestGet)).toBe(3);
    const err = await b.oci.manifestGet('acme/app', images[3]!.digest).then(() => undefined, (e: unknown) => e);
    const limited = findRateLimitedError(err);
    expect(limited).toBeDefined();
    expect(limited?.budgetKey).toBe(`${proxy.host}|ci`);
    // Rolling window: back when the first pull (made a moment ago) is six hours old, counted from the end of its slot.
    const back = Math.floor(firstPull / slotMs(6 * 3600)) * slotMs(6 * 3600) + slotMs(6 * 3600) + 6 * 3600_000;
    expect(limited!.retryAfterSeconds).toBeGreaterThanOrEqual(Math.floor((back - Date.now()) / 1000) - 5);
    expect(limited!.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil((back - Date.now()) / 1000) + 1);
    expect(limited!.retryAfterSeconds).toBeGreaterThanOrEqual(6 * 3600 - 60);
    // Never sent: Hub would have counted it (or answered 429).
    expect(proxy.count(Routes.manifestGet)).toBe(3);
    // HEADs are free at Hub and are not counted.
    expect((await a.oci.manifestHead('acme/app', 'v4'))?.digest).toBe(images[3]!.digest);
    a.close();
    b.close();
  });
});
