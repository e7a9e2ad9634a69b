// Docker Hub adapter over a real token-auth registry behind the fault proxy and a Hub-like pull limit, with a fake Hub API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeAdapterContract } from './contract.ts';
import type { DockerhubRegistryConfig } from '../../../functions/config/types.ts';
import { copyImage } from '../../../functions/oci/copy.ts';
import { RegistryClient } from '../../../functions/oci/client.ts';
import { createDockerHubAdapter, type DockerHubAdapter } from '../../../functions/registries/dockerhub/adapter.ts';
import { RateBudget, findRateLimitedError } from '../../../functions/registries/rate-budget.ts';
import { startFaultProxy, Routes, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { startFakeHubApi, startPullLimitProxy, type FakeHub, type PullLimitProxy } from '../../helpers/fake-hub-api.ts';
import { pushImage, pushOciIndex, type PushedIndex } from '../../helpers/images.ts';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../../helpers/registry.ts';
import { skopeoDigest } from '../../helpers/skopeo.ts';

const NAMESPACE = 'acme';
/** The Hub user's password: must never appear in an error message. */
const CANARY = 'canary-hub-pat-7f3a9c1e5b';
const ADMIN = { username: 'hubadmin', password: 'admin-pw-0c4b' };

interface Stack {
  reg: TokenRegistry;
  fault: FaultProxy;
  pullLimit: PullLimitProxy;
  hub: FakeHub;
  stop(): Promise<void>;
}

/** A token registry ← fault proxy ← Hub-like pull-limit proxy, and a fake Hub API over the same registry. */
async function startStack(limit: { limit: number; windowSeconds: number }): Promise<Stack> {
  const reg = await startTokenRegistry({
    users: {
      [ADMIN.username]: { password: ADMIN.password, access: [{ repository: '**', actions: ['pull', 'push', 'delete'] }], catalog: true },
      alice: { password: CANARY, access: [{ repository: `${NAMESPACE}/**`, actions: ['pull', 'push', 'delete'] }] },
    },
  });
  const fault = await startFaultProxy(reg.url);
  const pullLimit = await startPullLimitProxy(fault.url, limit);
  const hub = await startFakeHubApi({ registryUrl: reg.url, registryAccount: ADMIN, users: { alice: CANARY } });
  return {
    reg, fault, pullLimit, hub,
    async stop() {
      await hub.stop();
      await pullLimit.stop();
      await fault.stop();
      await reg.stop();
    },
  };
}

const CONFIG = { kind: 'dockerhub', namespace: NAMESPACE, public: false, credentials: { env: 'HUB' } } as DockerhubRegistryConfig;

function adapterOver(stack: Stack, budget: RateBudget, password = CANARY): DockerHubAdapter {
  return createDockerHubAdapter('hub', CONFIG, {
    env: { HUB_USERNAME: 'alice', HUB_PASSWORD: password },
    ociEndpoint: () => ({ host: stack.pullLimit.host, plainHttp: true }),
    hubApiUrl: stack.hub.url,
    rateBudget: budget,
    ociOptions: { retry: { baseDelayMs: 10, maxDelayMs: 50 } },
  });
}

/** What the contract run did against the quota, read when its fixture stops. */
let contractRun: { injected429: number; refusedByQuota: number; pulls: number; waits: number } | undefined;

describeAdapterContract('dockerhub', async () => {
  // A small quota (8 pulls per 2 s) so that listing and copying have to wait for the window, and two
  // injected 429s with Retry-After on manifest GETs.
  const stack = await startStack({ limit: 8, windowSeconds: 2 });
  const injected = stack.fault.inject({ ...Routes.manifestGet, after: 3, times: 2, fault: { kind: 'status', status: 429, retryAfter: 1 } });
  let waits = 0;
  const budget = new RateBudget({ reserve: 1, maxWaitMs: 15_000, sleep: (ms) => (waits++, new Promise((r) => setTimeout(r, ms))) });
  const adapter = adapterOver(stack, budget);
  return {
    adapter,
    pushUrl: stack.reg.url,
    pushAuth: { creds: ADMIN },
    skopeoCreds: `${ADMIN.username}:${ADMIN.password}`,
    skopeoHost: stack.reg.host,
    async stop() {
      contractRun = { injected429: injected.fired, refusedByQuota: stack.pullLimit.refused, pulls: stack.pullLimit.pulls, waits };
      await stack.stop();
    },
  };
});

describe('dockerhub adapter contract run', () => {
  it('deferred instead of failing: both injected 429s were waited out and the quota was never overrun', () => {
    expect(contractRun?.injected429).toBe(2);
    expect(contractRun?.refusedByQuota).toBe(0);
    // With reserve 1 a window allows 7 pulls: 8 or more means the budget waited for a reset.
    expect(contractRun?.pulls).toBeGreaterThanOrEqual(8);
    // At least one wait for a 429 and one for the quota (the first listing needs more than 7 pulls).
    expect(contractRun?.waits).toBeGreaterThanOrEqual(2);
  });
});

describe('dockerhub adapter: rate budget over a Hub-like pull limit', () => {
  let stack: Stack;
  let plain: RunningRegistry;
  let index: PushedIndex;
  const repo = `${NAMESPACE}/budget/app`;

  beforeAll(async () => {
    stack = await startStack({ limit: 2, windowSeconds: 2 });
    plain = await startRegistry();
    index = await pushOciIndex({ url: stack.reg.url }, repo, 'multi', undefined, { creds: ADMIN });
  }, 120_000);

  afterAll(async () => {
    await plain?.stop();
    await stack?.stop();
  });

  it('defers when the quota runs low and on 429s, and the copy completes with identical digests', async () => {
    // Prepare: an index of two images costs three pulls against a quota of two per 2 s window; the
    // first manifest GET is also refused with 429 Retry-After: 1.
    const waits: number[] = [];
    const budget = new RateBudget({ maxWaitMs: 20_000, sleep: (ms) => (waits.push(ms), new Promise((r) => setTimeout(r, ms))) });
    const adapter = adapterOver(stack, budget);
    const injected = stack.fault.inject({ ...Routes.manifestGet, times: 1, fault: { kind: 'status', status: 429, retryAfter: 1 } });
    try {
      // Act
      const result = await copyImage(
        { registry: adapter.oci, repository: repo, reference: 'multi' },
        { registry: new RegistryClient({ host: plain.host, plainHttp: true }), repository: 'mirror/app', tag: 'multi' },
      );

      // Assess: copied byte-identical; the 429 was waited out and the quota never overrun.
      expect(result.digest).toBe(index.digest);
      expect(await skopeoDigest(`${plain.host}/mirror/app:multi`)).toBe(index.digest);
      expect(injected.fired).toBe(1);
      expect(stack.pullLimit.refused).toBe(0);
      expect(waits.length).toBeGreaterThanOrEqual(2); // one for the 429, one for the spent window
      expect(waits.some((ms) => ms >= 900)).toBe(true);
      expect(budget.state(await adapter.budgetKey()).limit).toBe(2);
    } finally {
      injected.remove();
      adapter.close();
    }
  });

  it('rejects with a retryable RATE_LIMITED error carrying retryAfterSeconds when the wait is too long', async () => {
    // Prepare: the budget already knows the quota is spent for a long time.
    const budget = new RateBudget({ maxWaitMs: 100 });
    const adapter = adapterOver(stack, budget);
    budget.observe(await adapter.budgetKey(), { limit: 2, remaining: 0, windowSeconds: 3600 });
    const pullsBefore = stack.pullLimit.pulls;
    try {
      // Act
      const err = await adapter.oci.manifestGet(repo, index.digest).then(() => undefined, (e: unknown) => e);

      // Assess: deferred, not attempted: no pull was spent.
      const limited = findRateLimitedError(err);
      expect(limited?.reason).toBe('RATE_LIMITED');
      expect(limited?.retryable).toBe(true);
      expect(limited?.retryAfterSeconds).toBeGreaterThan(3000);
      expect(stack.pullLimit.pulls).toBe(pullsBefore);
    } finally {
      adapter.close();
    }
  });

  it('reads through HEAD: a manifest already cached by digest costs no pull', async () => {
    // Prepare
    const adapter = adapterOver(stack, new RateBudget({ maxWaitMs: 20_000 }));
    try {
      await adapter.oci.manifestGet(repo, 'multi');
      const pulls = stack.pullLimit.pulls;
      const heads = stack.pullLimit.heads;

      // Act
      const again = await adapter.oci.manifestGet(repo, 'multi');
      const images = await adapter.listImages('budget/app', { withManifests: false });

      // Assess
      expect(again.digest).toBe(index.digest);
      expect(stack.pullLimit.pulls).toBe(pulls);
      expect(stack.pullLimit.heads).toBe(heads + 1);
      expect(adapter.cache.stats.hits).toBe(1);
      // Without manifests the listing is Hub's API alone, children from its per-platform images.
      const idx = images.find((i) => i.digest === index.digest);
      expect([...(idx?.manifests ?? [])].sort()).toEqual(index.children.map((c) => c.digest).sort());
      expect(idx?.lastPulledAt).toBeNull();
      expect(idx?.pushedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      adapter.close();
    }
  });

  it('never puts the password in an error (canary)', async () => {
    // Prepare: a wrong password that is also a canary.
    const wrong = `${CANARY}-wrong`;
    const adapter = adapterOver(stack, new RateBudget(), wrong);
    try {
      // Act
      const pingErr = await adapter.ping().then(() => undefined, (e: unknown) => e as Error);
      const listErr = await adapter.listRepositories().then(() => undefined, (e: unknown) => e as Error);

      // Assess
      for (const err of [pingErr, listErr]) {
        expect(err).toBeInstanceOf(Error);
        expect(String(err?.message)).not.toContain(CANARY);
        expect(JSON.stringify(err)).not.toContain(CANARY);
      }
      expect(listErr?.message).toMatch(/HTTP 401/);
    } finally {
      adapter.close();
    }
  });

  it('deletes a digest by deleting every tag on it through Hub API', async () => {
    // Prepare: one image under two tags.
    const img = await pushImage({ url: stack.reg.url }, repo, 'old-1', { creds: ADMIN, layers: [256] });
    const admin = new RegistryClient({ host: stack.reg.host, plainHttp: true });
    const adapter = adapterOver(stack, new RateBudget({ maxWaitMs: 20_000 }));
    try {
      await adapter.tagImage('budget/app', img.digest, 'old-2');

      // Act
      await adapter.deleteImage('budget/app', img.digest);

      // Assess
      const deletes = stack.hub.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
      expect(deletes).toEqual(expect.arrayContaining([
        `/v2/namespaces/${NAMESPACE}/repositories/budget%2Fapp/tags/old-1`,
        `/v2/namespaces/${NAMESPACE}/repositories/budget%2Fapp/tags/old-2`,
      ]));
      expect(await adapter.oci.manifestHead(repo, img.digest)).toBeUndefined();
      const images = await adapter.listImages('budget/app', { withManifests: false });
      expect(images.map((i) => i.digest)).not.toContain(img.digest);
      expect(images.find((i) => i.digest === index.digest)?.tags).toEqual(['multi']);
    } finally {
      admin.close();
      adapter.close();
    }
  });
});
