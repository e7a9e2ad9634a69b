// The ACR adapter over an HTTPS facade (ACR's token exchange and /acr/v1 API) in front of a real
// token-auth registry. AAD is a fixed token: the Azure control plane cannot run here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '../../../functions/registries/acr/aad.ts';
import { createAcrAdapter } from '../../../functions/registries/acr/adapter.ts';
import type { SecretResolver } from '../../../functions/registries/secrets.ts';
import { startTokenRegistry, type TokenRegistry } from '../../helpers/registry.ts';
import { startAcrFacade, type RunningAcrFacade } from '../../helpers/acr-facade.ts';
import { pushImage } from '../../helpers/images.ts';
import { describeAdapterContract } from './contract.ts';

const SP = { username: 'sp', password: 'sp-password-CANARY-7d1e' };
const ADMIN = { username: 'regmantest', password: 'admin-password-CANARY-2b9c' };
const AAD_TOKEN = 'aad-access-token-CANARY-91f3a0';

/** A fake AAD credential: always the same token (what ClientSecretCredential / ManagedIdentityCredential in aad.ts return). */
function fixedAadCredential(token = AAD_TOKEN): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(s: string | string[]): Promise<AccessToken> {
      scopes.push(...(Array.isArray(s) ? s : [s]));
      return { token, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

async function startAcr(): Promise<{ registry: TokenRegistry; facade: RunningAcrFacade }> {
  const all = [{ repository: '**', actions: ['*' as const] }];
  const registry = await startTokenRegistry(
    { users: { [SP.username]: { password: SP.password, access: all, catalog: true }, [ADMIN.username]: { password: ADMIN.password, access: all, catalog: true } } },
    { relativeUrls: true },
  );
  const facade = await startAcrFacade({ registry, aadTokens: { [AAD_TOKEN]: SP } });
  return { registry, facade };
}

describeAdapterContract('acr', async () => {
  const { registry, facade } = await startAcr();
  const adapter = createAcrAdapter('acr-test', { kind: 'acr', name: 'regmantest', public: false }, {
    azureCredential: fixedAadCredential(),
    ociEndpoint: () => ({ host: facade.host, insecure: true }),
  });
  return {
    adapter,
    pushUrl: registry.url,
    pushAuth: { creds: SP },
    skopeoCreds: `${SP.username}:${SP.password}`,
    async stop() {
      await facade.stop();
      await registry.stop();
    },
  };
});

describe('ACR adapter: token exchange and fallbacks', () => {
  let registry: TokenRegistry;
  let facade: RunningAcrFacade;

  beforeAll(async () => {
    ({ registry, facade } = await startAcr());
    await pushImage({ url: registry.url }, 'team/api', 'v1', { creds: SP, layers: [128] });
  });
  afterAll(async () => {
    await facade?.stop();
    await registry?.stop();
  });

  it('exchanges the AAD token once and uses the refresh token at /oauth2/token for each scope', async () => {
    // Prepare
    const aad = fixedAadCredential();
    const adapter = createAcrAdapter('acr-x', { kind: 'acr', loginServer: 'regmantest.azurecr.io', public: false }, {
      azureCredential: aad, ociEndpoint: () => ({ host: facade.host, insecure: true }),
    });
    const before = facade.requests.length;
    try {
      // Act
      const head = await adapter.oci.manifestHead('team/api', 'v1');
      await adapter.oci.tagList('team/api');
      // Assess
      expect(head?.digest).toMatch(/^sha256:/);
      expect(aad.scopes).toEqual(['https://containerregistry.azure.net/.default']);
      const calls = facade.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.grantType ?? ''} ${r.status}`);
      expect(calls.filter((c) => c.includes('/oauth2/exchange'))).toEqual(['POST /oauth2/exchange access_token 200']);
      expect(calls.filter((c) => c.includes('/oauth2/token')).every((c) => c === 'POST /oauth2/token refresh_token 200')).toBe(true);
      expect(await adapter.credentials.credentialsFor(adapter.host)).toEqual({
        identityToken: facade.refreshTokens[facade.refreshTokens.length - 1], username: '00000000-0000-0000-0000-000000000000',
      });
    } finally {
      adapter.close();
    }
  });

  it('with an admin-user secret: Basic at /oauth2/token, and listing through the OCI API (no /acr/v1)', async () => {
    // Prepare
    const secrets: SecretResolver = { getSecret: async () => JSON.stringify({ username: ADMIN.username, password: ADMIN.password }) };
    const adapter = createAcrAdapter('acr-admin', { kind: 'acr', name: 'regmantest', public: false, credentials: { secretName: 'regman/acr-admin' } }, {
      secrets, ociEndpoint: () => ({ host: facade.host, insecure: true }),
    });
    const before = facade.requests.length;
    try {
      // Act: admin user → Basic at /oauth2/token; /acr/v1 is not used (a scoped token may lack metadata_read), the OCI API is.
      const repos = await adapter.listRepositories();
      const images = await adapter.listImages('team/api');
      // Assess
      expect(repos).toContain('team/api');
      expect(images.flatMap((i) => i.tags)).toContain('v1');
      const calls = facade.requests.slice(before);
      expect(calls.some((r) => r.path.startsWith('/acr/v1'))).toBe(false);
      expect(calls.some((r) => r.method === 'GET' && r.path === '/oauth2/token' && r.status === 200)).toBe(true);
    } finally {
      adapter.close();
    }
  });

  it('exchanges again before the refresh token expires; the new client never sends the stale one', async () => {
    // Prepare: refresh tokens of 2 s, renewed 1 s early; every refresh token issued so far is revoked.
    const shortLived = await startAcrFacade({ registry, aadTokens: { [AAD_TOKEN]: SP }, refreshTokenTtlSeconds: 2 });
    const adapter = createAcrAdapter('acr-r', { kind: 'acr', name: 'regmantest', public: false }, {
      azureCredential: fixedAadCredential(), tokenRefreshMarginMs: 1_000, ociEndpoint: () => ({ host: shortLived.host, insecure: true }),
    });
    try {
      expect(await adapter.oci.tagList('team/api')).toEqual(['v1']);
      await new Promise((r) => setTimeout(r, 1_200));
      shortLived.revokeRefreshTokens();
      // Act: a scope not asked for before, so /oauth2/token must see a refresh token.
      const repos = await adapter.oci.catalog();
      // Assess
      expect(repos).toContain('team/api');
      expect(shortLived.refreshTokens).toHaveLength(2);
      expect(shortLived.requests.filter((r) => r.status === 401)).toEqual([]);
    } finally {
      adapter.close();
      await shortLived.stop();
    }
  });

  it('lists with ACR metadata: push time and related artifacts from /acr/v1', async () => {
    const adapter = createAcrAdapter('acr-m', { kind: 'acr', name: 'regmantest', public: false }, {
      azureCredential: fixedAadCredential(), ociEndpoint: () => ({ host: facade.host, insecure: true }),
    });
    try {
      const images = await adapter.listImages('team/api', { withManifests: false });
      expect(images).toHaveLength(1);
      expect(images[0]?.tags).toEqual(['v1']);
      expect(Date.parse(images[0]?.pushedAt ?? '')).toBeGreaterThan(Date.now() - 10 * 60_000);
      expect(images[0]?.sizeBytes).toBeGreaterThan(128);
      expect(images[0]?.blobs).toBeUndefined();
    } finally {
      adapter.close();
    }
  });

  it('a refused AAD token and a refused password never appear in errors (canary)', async () => {
    // Prepare
    const badAad = 'aad-token-CANARY-unknown-5e7c';
    const aadAdapter = createAcrAdapter('acr-bad', { kind: 'acr', name: 'regmantest', public: false }, {
      azureCredential: fixedAadCredential(badAad), ociEndpoint: () => ({ host: facade.host, insecure: true }),
    });
    const badPassword = 'wrong-password-CANARY-44aa';
    const basicAdapter = createAcrAdapter('acr-bad2', { kind: 'acr', name: 'regmantest', public: false, credentials: { env: 'ACR' } }, {
      env: { ACR_USERNAME: ADMIN.username, ACR_PASSWORD: badPassword }, ociEndpoint: () => ({ host: facade.host, insecure: true }),
    });
    try {
      // Act
      const errors = await Promise.all([
        aadAdapter.listRepositories().then(() => undefined, (e: unknown) => e as Error),
        aadAdapter.oci.tagList('team/api').then(() => undefined, (e: unknown) => e as Error),
        basicAdapter.listImages('team/api').then(() => undefined, (e: unknown) => e as Error),
      ]);
      // Assess
      expect(errors.map((e) => e?.message)).toEqual([
        // Through /acr/v1 and through the OCI data plane: our exchange call failed.
        expect.stringMatching(/refused the AAD token at \/oauth2\/exchange \(HTTP 401\); check that the identity has AcrPull/),
        expect.stringMatching(/refused the AAD token at \/oauth2\/exchange \(HTTP 401\); check that the identity has AcrPull/),
        expect.stringMatching(/refused/),
      ]);
      for (const e of errors) {
        const text = `${e?.message} ${e?.stack} ${JSON.stringify(e)}`;
        expect(text).not.toContain(badAad);
        expect(text).not.toContain(badPassword);
      }
    } finally {
      aadAdapter.close();
      basicAdapter.close();
    }
  });
});
