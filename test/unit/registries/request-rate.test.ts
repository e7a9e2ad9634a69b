// rateLimit.requestsPerSecond: the token bucket (table-tested on a fake clock) and its wiring into every adapter's client.
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenBucket, composeInterceptors, requestRateInterceptor, sharedTokenBucket } from '../../../functions/registries/request-rate.ts';
import { ECRClient } from '@aws-sdk/client-ecr';
import { createAdapter } from '../../../functions/registries/factory.ts';
import { createDockerHubAdapter } from '../../../functions/registries/dockerhub/adapter.ts';
import type { RequestFn } from '../../../functions/oci/transport.ts';

/** A clock that only moves when the bucket sleeps, so waits are exact and instant. */
function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('TokenBucket', () => {
  it.each([
    { rate: 5, takes: 5, sleeps: 0, note: 'a full bucket serves its burst at once' },
    { rate: 5, takes: 6, sleeps: 1, note: 'the sixth waits for one token (200 ms)' },
    { rate: 2, takes: 6, sleeps: 4, note: 'burst 2, then one token every 500 ms' },
    { rate: 0.5, takes: 2, sleeps: 1, note: 'below one per second: burst 1, then 2 s' },
  ])('rate $rate, $takes takes: $note', async ({ rate, takes, sleeps }) => {
    // Prepare
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSecond: rate, now: clock.now, sleep: clock.sleep });
    // Act
    await Promise.all(Array.from({ length: takes }, () => bucket.take()));
    // Assess: the waits add up to exactly the tokens the burst could not cover.
    expect(clock.slept).toHaveLength(sleeps);
    const expected = Math.max(0, takes - bucket.burst) / rate;
    expect(clock.now() / 1000).toBeCloseTo(expected, 5);
  });

  it('refills while idle, never above the burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 4, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 4; i++) await bucket.take();
    await clock.sleep(10_000); // a long quiet spell
    clock.slept.length = 0;
    for (let i = 0; i < 4; i++) await bucket.take();
    expect(clock.slept).toEqual([]);
    await bucket.take();
    expect(clock.slept).toEqual([250]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(/ratePerSecond must be > 0/);
  });

  it('one bucket per key for the process; a new rate replaces it', () => {
    const a = sharedTokenBucket('test:a', 3);
    expect(sharedTokenBucket('test:a', 3)).toBe(a);
    expect(sharedTokenBucket('test:b', 3)).not.toBe(a);
    expect(sharedTokenBucket('test:a', 4)).not.toBe(a);
  });

  it('composeInterceptors runs the outer one first', async () => {
    const order: string[] = [];
    const tag = (name: string) => (next: RequestFn): RequestFn => async (req) => {
      order.push(name);
      return next(req);
    };
    const fn = composeInterceptors(tag('outer'), tag('inner'))!(async () => ({ status: 200 }) as never);
    await fn({ method: 'GET', path: '/v2/', description: 'x' } as never);
    expect(order).toEqual(['outer', 'inner']);
    expect(composeInterceptors(undefined, undefined)).toBeUndefined();
    expect(requestRateInterceptor(() => new TokenBucket({ ratePerSecond: 1 }))).toBeTypeOf('function');
  });
});

describe('rateLimit.requestsPerSecond on a configured registry', () => {
  let server: Server;
  let url: string;
  const arrivals: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      arrivals.push(performance.now());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('every request of the adapter takes a token, and two adapters of the same registry take from one bucket', async () => {
    // Prepare: the process-wide bucket of registry "paced" (the adapters find this one: same key, same rate)
    const bucket = sharedTokenBucket('registry:paced', 10);
    const take = vi.spyOn(bucket, 'take');
    const config = { kind: 'oci' as const, url, insecure: false, public: true, rateLimit: { requestsPerSecond: 10, windowHours: 6 } };
    const one = createAdapter('paced', config);
    const two = createAdapter('paced', config);
    arrivals.length = 0;
    // Act: 16 pings split between them (the pacing itself is the TokenBucket's, tested above on a fake clock)
    await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? one : two).ping()));
    one.close();
    two.close();
    // Assess: one token per request that reached the registry
    expect(arrivals).toHaveLength(16);
    expect(take).toHaveBeenCalledTimes(16);
  });

  it('a registry without the setting takes no token', async () => {
    const bucket = sharedTokenBucket('registry:free', 10);
    const take = vi.spyOn(bucket, 'take');
    const free = createAdapter('free', { kind: 'oci' as const, url, insecure: false, public: true });
    arrivals.length = 0;
    await Promise.all(Array.from({ length: 4 }, () => free.ping()));
    free.close();
    expect(arrivals).toHaveLength(4);
    expect(take).not.toHaveBeenCalled();
  });

  it('Docker Hub: one bucket per credential, shared by every adapter of that account', async () => {
    // Prepare: two accounts of one Hub registry, the first used by two adapters (two copies in one process)
    const host = new URL(url).host;
    const hub = (user: string) =>
      createDockerHubAdapter('hub', { kind: 'dockerhub', namespace: 'acme', public: false, credentials: { env: 'HUB' }, rateLimit: { requestsPerSecond: 5, windowHours: 6 } }, {
        env: { HUB_USERNAME: user, HUB_PASSWORD: 'pw' },
        ociEndpoint: () => ({ host, plainHttp: true }),
        hubApiUrl: 'http://127.0.0.1:9',
      });
    const ci = vi.spyOn(sharedTokenBucket(`dockerhub:${host}|ci`, 5), 'take');
    const ops = vi.spyOn(sharedTokenBucket(`dockerhub:${host}|ops`, 5), 'take');
    const [ciOne, ciTwo, opsOne] = [hub('ci'), hub('ci'), hub('ops')];
    arrivals.length = 0;
    // Act
    const blob = `sha256:${'a'.repeat(64)}`;
    await Promise.all([ciOne, ciTwo, ciTwo, opsOne].map((a) => a.oci.blobHead('acme/app', blob)));
    for (const a of [ciOne, ciTwo, opsOne]) a.close();
    // Assess: the ci account's three requests took from its bucket, the ops account's one from its own
    expect(arrivals).toHaveLength(4);
    expect(ci).toHaveBeenCalledTimes(3);
    expect(ops).toHaveBeenCalledTimes(1);
  });
});

describe('rateLimit.requestsPerSecond beyond the OCI data plane', () => {
  it("ECR: each API attempt takes from the registry's bucket, the one its OCI data plane uses", async () => {
    // Prepare: a real ECRClient whose HTTP handler answers DescribeRepositories itself (so the middleware stack runs)
    const calls: string[] = [];
    const client = new ECRClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      requestHandler: {
        handle: async (req: { headers: Record<string, string> }) => {
          calls.push(req.headers['x-amz-target'] ?? '?');
          const body = JSON.stringify({ repositories: [{ repositoryName: `team/app${calls.length}` }], ...(calls.length < 3 ? { nextToken: `t${calls.length}` } : {}) });
          return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(body)]) } };
        },
      },
    });
    const take = vi.spyOn(sharedTokenBucket('registry:ecr-paced', 7), 'take');
    const ecr = createAdapter('ecr-paced', { kind: 'ecr', region: 'eu-west-1', accountId: '123456789012', public: false, rateLimit: { requestsPerSecond: 7, windowHours: 6 } }, { ecrClientFactory: () => client } as never);
    // Act: three pages of DescribeRepositories
    const repos = await ecr.listRepositories();
    ecr.close();
    // Assess: one token per HTTP call
    expect(repos).toEqual(['team/app1', 'team/app2', 'team/app3']);
    expect(calls).toEqual(Array(3).fill('AmazonEC2ContainerRegistry_V20150921.DescribeRepositories'));
    expect(take).toHaveBeenCalledTimes(3);
  });

  it("ECR without the setting: the API calls take no token", async () => {
    const client = new ECRClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      requestHandler: { handle: async () => ({ response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from('{"repositories":[]}')]) } }) },
    });
    const take = vi.spyOn(sharedTokenBucket('registry:ecr-free', 7), 'take');
    const ecr = createAdapter('ecr-free', { kind: 'ecr', region: 'eu-west-1', accountId: '123456789012', public: false }, { ecrClientFactory: () => client } as never);
    expect(await ecr.listRepositories()).toEqual([]);
    ecr.close();
    expect(take).not.toHaveBeenCalled();
  });

  it("Docker Hub: each Hub API call (login, every page) takes from the account's bucket", async () => {
    // Prepare: Hub's API answered by a stub: a login, then two pages of repositories
    const urls: string[] = [];
    const fetchImpl = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      urls.push(url.pathname);
      if (url.pathname.endsWith('/login') || url.pathname.endsWith('/auth/token')) return Response.json({ token: 'hub-jwt', access_token: 'hub-jwt' });
      const page = url.searchParams.get('page') === '2' ? 2 : 1;
      return Response.json({ results: [{ name: `app${page}`, namespace: 'acme' }], next: page === 1 ? `${url.origin}${url.pathname}?page_size=100&page=2` : null });
    }) as typeof fetch;
    const take = vi.spyOn(sharedTokenBucket('dockerhub:hub.paced.test|ci', 3), 'take');
    const hub = createDockerHubAdapter('hub', { kind: 'dockerhub', namespace: 'acme', public: false, credentials: { env: 'HUB' }, rateLimit: { requestsPerSecond: 3, windowHours: 6 } }, {
      env: { HUB_USERNAME: 'ci', HUB_PASSWORD: 'pw' },
      ociEndpoint: () => ({ host: 'hub.paced.test', plainHttp: true }),
      hubApiUrl: 'http://hub-api.test',
      fetchImpl,
    });
    // Act
    const repos = await hub.listRepositories();
    hub.close();
    // Assess
    expect(repos).toEqual(['app1', 'app2']);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    expect(take).toHaveBeenCalledTimes(urls.length);
  });
});
