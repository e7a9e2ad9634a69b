// AAD tokens without the Azure SDKs: client secret, workload identity, IMDS and App Service, against a
// local server playing AAD's token endpoint and the managed identity endpoints.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '../../../functions/registries/acr/aad.ts';
import { CredentialError } from '../../../functions/registries/errors.ts';
import { readBody, sendJson } from '../../helpers/http-json.ts';

const SCOPE = 'https://containerregistry.azure.net/.default';
const SECRET = 'sp-secret-CANARY-4b1d9e';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly form: Record<string, string>;
}

describe('AAD credentials over HTTP', () => {
  let server: Server;
  let base = '';
  let seen: Seen[] = [];
  /** Status codes to answer before the real answer (per path). */
  let failFirst: number[] = [];
  let expiresIn = 3600;
  let dir = '';
  const noSleep = async (): Promise<void> => undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'regman-aad-'));
    server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = await readBody(req);
        const form = Object.fromEntries(new URLSearchParams(body));
        seen.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, form });
        const fail = failFirst.shift();
        if (fail !== undefined) return sendJson(res, fail, { error: 'temporarily_unavailable' });
        const n = seen.length;
        if (/^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname) && req.method === 'POST') {
          const good = form.client_secret === SECRET || form.client_assertion === 'federated-jwt-CANARY-77';
          if (!good) {
            return sendJson(res, 401, {
              error: 'invalid_client',
              error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: 1`,
            });
          }
          return sendJson(res, 200, { token_type: 'Bearer', expires_in: expiresIn, access_token: `aad-token-${n}` });
        }
        if (url.pathname === '/metadata/identity/oauth2/token' && req.headers.metadata === 'true') {
          return sendJson(res, 200, { access_token: `imds-token-${n}`, expires_in: String(expiresIn), resource: url.searchParams.get('resource'), token_type: 'Bearer' });
        }
        if (url.pathname === '/msi/token' && req.headers['x-identity-header'] === 'app-service-header-CANARY') {
          return sendJson(res, 200, { access_token: `appsvc-token-${n}`, expires_on: String(Math.floor(Date.now() / 1000) + expiresIn), token_type: 'Bearer' });
        }
        return sendJson(res, 400, { error: 'bad_request' });
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen = [];
    failFirst = [];
    expiresIn = 3600;
  });

  it('client secret: posts the client-credentials grant to <authority>/<tenant>/oauth2/v2.0/token with the scope', async () => {
    // Prepare
    const cred = new ClientSecretCredential('tenant-1', 'app-1', SECRET, { env: { AZURE_AUTHORITY_HOST: `${base}/` } });
    // Act
    const t = await cred.getToken(SCOPE);
    // Assess
    expect(t.token).toBe('aad-token-1');
    expect(t.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3500_000);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /tenant-1/oauth2/v2.0/token']);
    expect(seen[0]?.form).toEqual({ grant_type: 'client_credentials', client_id: 'app-1', client_secret: SECRET, scope: SCOPE });
  });

  it('caches a token per scope until the margin before it expires, then asks again', async () => {
    // Prepare: tokens of 600 s, a margin of 60 s, a clock we move.
    expiresIn = 600;
    let clock = 1_000_000;
    const cred = new ClientSecretCredential('t', 'c', SECRET, { env: { AZURE_AUTHORITY_HOST: base }, now: () => clock, marginMs: 60_000 });
    // Act
    const first = await cred.getToken(SCOPE);
    const concurrent = await Promise.all([cred.getToken(SCOPE), cred.getToken([SCOPE])]);
    clock += 539_000;
    const stillCached = await cred.getToken(SCOPE);
    const other = await cred.getToken('https://management.azure.com/.default');
    clock += 2_000;
    const renewed = await cred.getToken(SCOPE);
    // Assess
    expect(concurrent.map((t) => t.token)).toEqual([first.token, first.token]);
    expect(stillCached.token).toBe(first.token);
    expect(other.token).not.toBe(first.token);
    expect(renewed.token).not.toBe(first.token);
    expect(seen.map((s) => s.form.scope)).toEqual([SCOPE, 'https://management.azure.com/.default', SCOPE]);
  });

  it('a 401 from AAD is a credential error naming the service principal and AAD\'s reason, without the secret', async () => {
    // Prepare
    const wrong = 'wrong-secret-CANARY-a1b2c3';
    const cred = new ClientSecretCredential('tenant-1', 'app-1', wrong, { env: { AZURE_AUTHORITY_HOST: base }, sleep: noSleep });
    // Act
    const err = await cred.getToken(SCOPE).then(() => undefined, (e: unknown) => e as CredentialError);
    // Assess
    expect(err).toBeInstanceOf(CredentialError);
    expect(err?.problem).toBe('access-denied');
    expect(err?.retryable).toBe(false);
    expect(err?.message).toBe(
      `service principal app-1 of tenant tenant-1: ${base}/tenant-1/oauth2/v2.0/token answered HTTP 401: invalid_client: ` +
        'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.',
    );
    expect(`${err?.message} ${err?.stack} ${JSON.stringify(err)}`).not.toContain(wrong);
    expect(seen).toHaveLength(1);
  });

  it('retries throttling and server errors, then gives the token', async () => {
    failFirst = [429, 503];
    const cred = new ClientSecretCredential('t', 'c', SECRET, { env: { AZURE_AUTHORITY_HOST: base }, sleep: noSleep });
    expect((await cred.getToken(SCOPE)).token).toBe('aad-token-3');
    expect(seen).toHaveLength(3);
  });

  it('workload identity: the federated token file is the client assertion, read for each request', async () => {
    // Prepare
    const file = join(dir, 'azure-identity-token');
    writeFileSync(file, 'federated-jwt-CANARY-77\n');
    const cred = new WorkloadIdentityCredential('tenant-2', 'app-2', file, { env: { AZURE_AUTHORITY_HOST: base } });
    // Act
    const t = await cred.getToken(SCOPE);
    // Assess
    expect(t.token).toBe('aad-token-1');
    expect(seen[0]?.path).toBe('/tenant-2/oauth2/v2.0/token');
    expect(seen[0]?.form).toEqual({
      grant_type: 'client_credentials', client_id: 'app-2', scope: SCOPE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'federated-jwt-CANARY-77',
    });
    const missing = new WorkloadIdentityCredential('tenant-2', 'app-2', join(dir, 'nope'), { env: { AZURE_AUTHORITY_HOST: base } });
    const err = await missing.getToken(SCOPE).then(() => undefined, (e: unknown) => e as CredentialError);
    expect(err?.message).toBe(`workload identity app-2 of tenant tenant-2 (token file ${join(dir, 'nope')}): could not read the federated token file (ENOENT)`);
  });

  it('IMDS: GETs the token for the resource (the scope without /.default), with Metadata: true and the user-assigned client_id', async () => {
    // Prepare: IMDS answers 410 while the identity is being assigned; that is retried.
    failFirst = [410];
    const system = new ManagedIdentityCredential(undefined, { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: base }, sleep: noSleep });
    const user = new ManagedIdentityCredential('mi-client-1', { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: base } });
    // Act
    const a = await system.getToken(SCOPE);
    const b = await user.getToken(SCOPE);
    // Assess
    expect([a.token, b.token]).toEqual(['imds-token-2', 'imds-token-3']);
    expect(a.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3500_000);
    expect(seen.slice(1).map((s) => s.query)).toEqual([
      { 'api-version': '2018-02-01', resource: 'https://containerregistry.azure.net' },
      { 'api-version': '2018-02-01', resource: 'https://containerregistry.azure.net', client_id: 'mi-client-1' },
    ]);
    expect(system.source).toBe(`system-assigned managed identity (IMDS ${base})`);
  });

  it('App Service: IDENTITY_ENDPOINT with the X-IDENTITY-HEADER, expiry from expires_on', async () => {
    const cred = new ManagedIdentityCredential('mi-client-2', { env: { IDENTITY_ENDPOINT: `${base}/msi/token`, IDENTITY_HEADER: 'app-service-header-CANARY' } });
    const t = await cred.getToken(SCOPE);
    expect(t.token).toBe('appsvc-token-1');
    expect(t.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3500_000);
    expect(seen[0]?.query).toEqual({ 'api-version': '2019-08-01', resource: 'https://containerregistry.azure.net', client_id: 'mi-client-2' });
  });

  it('an unreachable IMDS says so, names the identity, and suggests what to use outside Azure', async () => {
    // Prepare: a port nothing listens on.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const cred = new ManagedIdentityCredential(undefined, { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `127.0.0.1:${port}` } });
    // Act
    const err = await cred.getToken(SCOPE).then(() => undefined, (e: unknown) => e as CredentialError);
    // Assess
    expect(err?.problem).toBe('unavailable');
    expect(err?.message).toMatch(new RegExp(`^system-assigned managed identity \\(IMDS http://127\\.0\\.0\\.1:${port}\\): could not reach http://127\\.0\\.0\\.1:${port}/metadata/identity/oauth2/token \\(ECONNREFUSED`));
    expect(err?.message).toMatch(/outside Azure, configure a service principal or workload identity instead$/);
  });
});
