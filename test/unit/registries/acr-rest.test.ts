// The ACR adapter end to end without any Azure SDK: a local server plays AAD's token endpoint, ACR's
// token exchange, its /acr/v1 listing API (with Link pagination) and the OCI manifest DELETE.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createAcrAdapter } from '../../../functions/registries/acr/adapter.ts';
import type { RegistryAdapter } from '../../../functions/registries/adapter.ts';
import { readBody, sendJson } from '../../helpers/http-json.ts';

const SECRET = 'sp-secret-CANARY-rest-91ab';
const LOGIN_SERVER = 'fakeacr.azurecr.io';
const d = (c: string): string => `sha256:${c.repeat(64)}`;

interface Call {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** Sent with an Authorization header (not the first, challenged try). */
  readonly authorized: boolean;
}

describe('ACR adapter over REST (no SDK)', () => {
  let server: Server;
  let host = '';
  let calls: Call[] = [];
  const repositories = ['a/one', 'b/two', 'c/three', 'd/four', 'e/five'];
  const manifests = new Map<string, { digest: string; tags?: string[]; createdTime: string; imageSize: number; references?: { digest: string }[] }[]>();

  function challenge(res: ServerResponse, scope: string): void {
    sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, {
      'www-authenticate': `Bearer realm="http://${host}/oauth2/token",service="${LOGIN_SERVER}",scope="${scope}"`,
    });
  }

  /** ACR's access tokens, here `acr-access:<scopes>`: a request is allowed when its scope was granted. */
  function granted(req: IncomingMessage, scope: string): boolean {
    const auth = req.headers.authorization ?? '';
    return auth.startsWith('Bearer acr-access:') && auth.slice('Bearer acr-access:'.length).split(' ').includes(scope);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const body = await readBody(req);
    const form = new URLSearchParams(body);
    calls.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), authorized: req.headers.authorization !== undefined });
    if (url.pathname === '/tenant-9/oauth2/v2.0/token') {
      if (form.get('client_secret') !== SECRET) {
        return sendJson(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      return sendJson(res, 200, { token_type: 'Bearer', expires_in: 3599, access_token: 'aad-access-CANARY-1' });
    }
    if (url.pathname === '/oauth2/exchange') {
      if (form.get('access_token') !== 'aad-access-CANARY-1' || form.get('service') !== LOGIN_SERVER) return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
      return sendJson(res, 200, { refresh_token: 'acr-refresh-CANARY-1' });
    }
    if (url.pathname === '/oauth2/token') {
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'acr-refresh-CANARY-1') return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
      return sendJson(res, 200, { access_token: `acr-access:${form.get('scope') ?? ''}` });
    }
    if (url.pathname === '/acr/v1/_catalog') {
      if (!granted(req, 'registry:catalog:*')) return challenge(res, 'registry:catalog:*');
      // Pages of 2, linked relatively, the api-version kept in the link as ACR does.
      const last = url.searchParams.get('last');
      const rest = last ? repositories.filter((r) => r > last) : repositories;
      const page = rest.slice(0, 2);
      const more: Record<string, string> = rest.length > 2 ? { link: `</acr/v1/_catalog?last=${encodeURIComponent(page[1] ?? '')}&n=2&api-version=2021-07-01>; rel="next"` } : {};
      return sendJson(res, 200, { repositories: page }, more);
    }
    const m = /^\/acr\/v1\/(.+)\/_manifests$/.exec(url.pathname);
    if (m?.[1] !== undefined) {
      const name = m[1];
      if (!granted(req, `repository:${name}:metadata_read`)) return challenge(res, `repository:${name}:metadata_read`);
      const all = manifests.get(name) ?? [];
      const last = url.searchParams.get('last');
      const start = last ? all.findIndex((x) => x.digest === last) + 1 : 0;
      const page = all.slice(start, start + 2);
      // This link has no api-version: the client adds it again.
      const more: Record<string, string> = start + 2 < all.length ? { link: `</acr/v1/${name}/_manifests?last=${page[1]?.digest ?? ''}&n=2>; rel="next"` } : {};
      return sendJson(res, 200, { registry: LOGIN_SERVER, imageName: name, manifests: page }, more);
    }
    const del = /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (del?.[1] !== undefined && req.method === 'DELETE') {
      const scope = `repository:${del[1]}:delete`;
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer acr-access:') || !auth.includes(scope.replace(':delete', ':'))) return challenge(res, scope);
      const list = manifests.get(del[1]) ?? [];
      const i = list.findIndex((x) => x.digest === del[2]);
      if (i < 0) return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
      list.splice(i, 1);
      res.writeHead(202, { 'content-length': '0' }).end();
      return;
    }
    return sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: url.pathname }] });
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: String(err) }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    host = `127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    calls = [];
    manifests.set('team/app', [
      { digest: d('1'), tags: ['v1', 'latest'], createdTime: '2026-11-01T10:00:00.1234567Z', imageSize: 300, references: [{ digest: d('2') }, { digest: d('3') }] },
      { digest: d('2'), createdTime: '2026-11-01T09:59:00Z', imageSize: 100 },
      { digest: d('3'), createdTime: '2026-11-01T09:59:01Z', imageSize: 200 },
    ]);
  });

  const adapter = (secret = SECRET): RegistryAdapter =>
    createAcrAdapter('acr-rest', { kind: 'acr', loginServer: LOGIN_SERVER, public: false, credentials: { env: 'ACR' } }, {
      env: { ACR_TENANT_ID: 'tenant-9', ACR_CLIENT_ID: 'app-9', ACR_CLIENT_SECRET: secret, AZURE_AUTHORITY_HOST: `http://${host}` },
      ociEndpoint: () => ({ host, plainHttp: true }),
      ociOptions: { retry: { maxAttempts: 1 } },
    });

  it('lists repositories from /acr/v1/_catalog across Link pages, one AAD token and one exchange for all', async () => {
    // Prepare
    const acr = adapter();
    try {
      // Act
      const repos = await acr.listRepositories();
      const again = await acr.listRepositories();
      // Assess
      expect(repos).toEqual(repositories);
      expect(again).toEqual(repositories);
      expect(calls.filter((c) => c.path === '/tenant-9/oauth2/v2.0/token')).toHaveLength(1);
      expect(calls.filter((c) => c.path === '/oauth2/exchange')).toHaveLength(1);
      const pages = calls.filter((c) => c.path === '/acr/v1/_catalog' && c.query.last !== undefined).map((c) => c.query);
      expect(pages.slice(0, 2)).toEqual([{ last: 'b/two', n: '2', 'api-version': '2021-07-01' }, { last: 'd/four', n: '2', 'api-version': '2021-07-01' }]);
    } finally {
      acr.close();
    }
  });

  it('lists every manifest of a repository, untagged children included, across pages', async () => {
    const acr = adapter();
    try {
      const images = await acr.listImages('team/app', { withManifests: false });
      expect(images).toEqual([
        { digest: d('1'), tags: ['v1', 'latest'], pushedAt: '2026-11-01T10:00:00.123Z', sizeBytes: 300, manifests: [d('2'), d('3')] },
        { digest: d('2'), tags: [], pushedAt: '2026-11-01T09:59:00.000Z', sizeBytes: 100 },
        { digest: d('3'), tags: [], pushedAt: '2026-11-01T09:59:01.000Z', sizeBytes: 200 },
      ]);
      const pages = calls.filter((c) => c.path === '/acr/v1/team/app/_manifests' && c.query.last !== undefined);
      expect(pages.map((c) => c.query)).toEqual([{ last: d('2'), n: '2', 'api-version': '2021-07-01' }]);
    } finally {
      acr.close();
    }
  });

  it('its /acr/v1 calls go through the OCI transport\'s intercept, where rateLimit.requestsPerSecond paces requests', async () => {
    // Prepare: an intercept that records what passes (the factory puts the token bucket there).
    const through: string[] = [];
    const acr = createAcrAdapter('acr-rest', { kind: 'acr', loginServer: LOGIN_SERVER, public: false, credentials: { env: 'ACR' } }, {
      env: { ACR_TENANT_ID: 'tenant-9', ACR_CLIENT_ID: 'app-9', ACR_CLIENT_SECRET: SECRET, AZURE_AUTHORITY_HOST: `http://${host}` },
      ociEndpoint: () => ({ host, plainHttp: true }),
      ociOptions: { intercept: (next) => (req) => (through.push(new URL(req.path, 'http://x').pathname), next(req)) },
    });
    try {
      // Act
      await acr.listRepositories();
      await acr.listImages('team/app', { withManifests: false });
      // Assess
      expect(through).toEqual(['/acr/v1/_catalog', '/acr/v1/_catalog', '/acr/v1/_catalog', '/acr/v1/team/app/_manifests', '/acr/v1/team/app/_manifests']);
    } finally {
      acr.close();
    }
  });

  it('deletes by digest with the OCI DELETE; a digest already gone is done', async () => {
    const acr = adapter();
    try {
      // Act
      await acr.deleteImage('team/app', d('3'));
      await acr.deleteImage('team/app', d('3'));
      // Assess
      expect(manifests.get('team/app')?.map((m) => m.digest)).toEqual([d('1'), d('2')]);
      expect(calls.filter((c) => c.method === 'DELETE' && c.authorized).map((c) => c.path)).toEqual([`/v2/team/app/manifests/${d('3')}`, `/v2/team/app/manifests/${d('3')}`]);
    } finally {
      acr.close();
    }
  });

  it('a refused client secret: a clear error naming the service principal, without the secret, not retried', async () => {
    // Prepare
    const wrong = 'wrong-secret-CANARY-rest-77cd';
    const acr = adapter(wrong);
    try {
      // Act
      const err = await acr.listRepositories().then(() => undefined, (e: unknown) => e as Error & { retryable?: boolean; problem?: string });
      // Assess
      expect(err?.message).toBe(
        'could not get an AAD token for https://containerregistry.azure.net/.default from service principal from env ACR: ' +
          `service principal app-9 of tenant tenant-9: http://${host}/tenant-9/oauth2/v2.0/token answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.`,
      );
      expect(err?.problem).toBe('access-denied');
      expect(err?.retryable).toBe(false);
      expect(`${err?.message} ${err?.stack} ${JSON.stringify(err)}`).not.toContain(wrong);
      expect(calls.map((c) => c.path)).toEqual(['/tenant-9/oauth2/v2.0/token']);
    } finally {
      acr.close();
    }
  });
});
