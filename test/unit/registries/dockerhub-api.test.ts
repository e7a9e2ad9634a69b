// Docker Hub API client and listing against the fake Hub API (test/helpers/fake-hub-api.ts) over a real registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticCredentialProvider } from '../../../functions/oci/credentials.ts';
import { DockerHubApi, jwtExpiry, type HubTag } from '../../../functions/registries/dockerhub/api.ts';
import { hubFigures } from '../../../functions/registries/dockerhub/listing.ts';
import { startFakeHubApi, type FakeHub } from '../../helpers/fake-hub-api.ts';
import { pushImage, pushOciIndex, type PushedImage, type PushedIndex } from '../../helpers/images.ts';
import { startTokenRegistry, type TokenRegistry } from '../../helpers/registry.ts';

const ADMIN = { username: 'hubadmin', password: 'admin-pw-77' };
const CANARY = 'canary-pat-1b9e2d4f';

describe('DockerHubApi against the fake Hub', () => {
  let reg: TokenRegistry;
  let hub: FakeHub;
  let image: PushedImage;
  let index: PushedIndex;

  beforeAll(async () => {
    reg = await startTokenRegistry({
      users: { [ADMIN.username]: { password: ADMIN.password, access: [{ repository: '**', actions: ['pull', 'push', 'delete'] }], catalog: true } },
    });
    const auth = { creds: ADMIN };
    image = await pushImage({ url: reg.url }, 'acme/app', 'v1', { ...auth, layers: [1000, 2000] });
    for (const tag of ['v2', 'v3', 'v4']) await pushImage({ url: reg.url }, 'acme/app', tag, { ...auth, layers: [100] });
    index = await pushOciIndex({ url: reg.url }, 'acme/app', 'multi', undefined, auth);
    for (const r of ['acme/one', 'acme/two', 'other/three']) await pushImage({ url: reg.url }, r, 'x', { ...auth, layers: [10] });
    // Pages of 2, so that a handful of tags and repositories need several pages.
    hub = await startFakeHubApi({ registryUrl: reg.url, registryAccount: ADMIN, users: { alice: CANARY }, maxPageSize: 2 });
    hub.markPulled('acme/app', 'v1', '2025-02-03T04:05:06.000Z');
  }, 120_000);

  afterAll(async () => {
    await hub?.stop();
    await reg?.stop();
  });

  const api = (password = CANARY, extra: Partial<ConstructorParameters<typeof DockerHubApi>[0]> = {}): DockerHubApi =>
    new DockerHubApi({
      apiUrl: hub.url, namespace: 'acme', credentials: new StaticCredentialProvider({ username: 'alice', password }),
      sleep: async () => {}, ...extra,
    });

  it('lists the namespace repositories across pages, names without the namespace', async () => {
    // Act
    hub.clearRequests();
    const repos = await api().listRepositories();
    // Assess
    expect(repos.map((r) => r.name).sort()).toEqual(['app', 'one', 'two']);
    const pages = hub.requests.filter((r) => r.path.startsWith('/v2/namespaces/acme/repositories'));
    expect(pages.length).toBe(2);
    expect(pages[0]?.path).toContain('page_size=100');
  });

  it('lists every tag across pages with digest, size, push time and platform images', async () => {
    // Act
    hub.clearRequests();
    const tags = await api().listTags('app');
    // Assess
    expect(tags.map((t) => t.name).sort()).toEqual(['multi', 'v1', 'v2', 'v3', 'v4']);
    expect(hub.requests.filter((r) => r.path.includes('/tags')).length).toBe(3);
    const v1 = tags.find((t) => t.name === 'v1') as HubTag;
    expect(v1.digest).toBe(image.digest);
    expect(v1.full_size).toBe(image.blobs.reduce((n, b) => n + b.size, 0));
    expect(v1.tag_last_pulled).toBe('2025-02-03T04:05:06.000Z');
    const multi = tags.find((t) => t.name === 'multi') as HubTag;
    expect(multi.images?.map((i) => i.digest).sort()).toEqual(index.children.map((c) => c.digest).sort());
  });

  it('maps Hub figures by digest: tags merged, children from platform images, never-pulled as null', async () => {
    // Prepare
    const tags = await api().listTags('app');
    // Act
    const figures = hubFigures(tags);
    // Assess
    expect(figures.get(image.digest)?.lastPulledAt).toBe('2025-02-03T04:05:06.000Z');
    expect(figures.get(image.digest)?.sizeBytes).toBeGreaterThan(3000);
    expect(figures.get(index.digest)?.children?.sort()).toEqual(index.children.map((c) => c.digest).sort());
    expect(figures.get(index.digest)?.lastPulledAt).toBeNull();
    for (const child of index.children) expect(figures.get(child.digest)?.sizeBytes).toBeGreaterThan(0);
  });

  it('merges several tags on one digest: the latest pull and push win', () => {
    const figures = hubFigures([
      { name: 'a', digest: 'sha256:aa', tag_last_pulled: '2025-01-01T00:00:00Z', tag_last_pushed: '2024-01-01T00:00:00Z', full_size: 5 },
      { name: 'b', digest: 'sha256:aa', tag_last_pulled: '2025-03-01T00:00:00Z', tag_last_pushed: '2024-06-01T00:00:00Z', full_size: 5 },
      { name: 'c', digest: 'sha256:aa', tag_last_pulled: null },
    ]);
    expect(figures.get('sha256:aa')).toEqual({ pushedAt: '2024-06-01T00:00:00Z', lastPulledAt: '2025-03-01T00:00:00Z', sizeBytes: 5 });
  });

  it('logs in once and reuses the JWT until it nears expiry', async () => {
    hub.clearRequests();
    const client = api();
    await client.listRepositories();
    await client.listTags('one');
    expect(hub.requests.filter((r) => r.path === '/v2/auth/token').length).toBe(1);
  });

  it('falls back to the deprecated POST /v2/users/login', async () => {
    // Prepare
    const legacy = await startFakeHubApi({ registryUrl: reg.url, registryAccount: ADMIN, users: { alice: CANARY }, legacyLoginOnly: true });
    try {
      // Act
      const repos = await api(CANARY, { apiUrl: legacy.url }).listRepositories();
      // Assess
      expect(repos.length).toBe(3);
      expect(legacy.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(
        expect.arrayContaining(['POST /v2/auth/token 404', 'POST /v2/users/login 200']),
      );
    } finally {
      await legacy.stop();
    }
  });

  it('retries 429s, waiting their Retry-After, then succeeds', async () => {
    const waits: number[] = [];
    const client = api(CANARY, { sleep: async (ms) => void waits.push(ms) });
    await client.checkLogin();
    hub.failNext(2, 429, 2);
    const repos = await client.listRepositories();
    expect(repos.length).toBe(3);
    expect(waits).toEqual([2000, 2000]);
  });

  it('turns a refused login into an UNAUTHORIZED error that never shows the password', async () => {
    const wrong = `${CANARY}-wrong`;
    const err = (await api(wrong).listRepositories().catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/HTTP 401.*Check the Docker Hub username/);
    expect(err.message).not.toContain(CANARY);
  });

  it('deletes a tag, and reports a missing one as false', async () => {
    // Prepare: one digest under two tags.
    const img = await pushImage({ url: reg.url }, 'acme/del', 'a', { creds: ADMIN, layers: [64] });
    await pushImage({ url: reg.url }, 'acme/del', 'keep', { creds: ADMIN, layers: [64] });
    const client = api();
    // Act
    const deleted = await client.deleteTag('del', 'a');
    const missing = await client.deleteTag('del', 'a');
    // Assess
    expect(deleted).toBe(true);
    expect(missing).toBe(false);
    const left = await client.listTags('del');
    expect(left.map((t) => t.name)).toEqual(['keep']);
    expect(left[0]?.digest).not.toBe(img.digest);
  });

  it('refuses a next page on another origin (it would carry the JWT there)', async () => {
    // Prepare: a fetch that answers a first page linking off-site.
    const fetchImpl = (async (input: string | URL | Request) => {
      const url = String(input);
      if (url.endsWith('/v2/auth/token')) return new Response(JSON.stringify({ access_token: 'tok-abcdef' }), { status: 200 });
      return new Response(JSON.stringify({ count: 2, next: 'https://evil.example/v2/page2', results: [{ name: 'a' }] }), { status: 200 });
    }) as typeof fetch;
    const client = api(CANARY, { apiUrl: 'https://hub.invalid', fetchImpl });
    await expect(client.listRepositories()).rejects.toThrow(/another origin/);
  });
});

describe('jwtExpiry', () => {
  it('reads exp from a JWT and gives undefined for other strings', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1700000000 })).toString('base64url');
    expect(jwtExpiry(`h.${payload}.s`)).toBe(1_700_000_000_000);
    expect(jwtExpiry('opaque-token')).toBeUndefined();
  });
});
