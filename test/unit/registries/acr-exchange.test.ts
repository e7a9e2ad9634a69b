// ACR's token exchange: AAD token → refresh token, its cache and refresh, and redaction of both tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AccessToken, TokenCredential } from '../../../functions/registries/acr/aad.ts';
import { AcrAadCredentialProvider, exchangeAadToken, jwtExpiry, type AcrEndpoint } from '../../../functions/registries/acr/exchange.ts';
import { redact } from '../../../functions/oci/redact.ts';

/** A JWT-shaped refresh token with the given `exp` (ACR's are JWTs; the SDK reads `exp`). */
function refreshJwt(exp: number, id: number): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc({ exp, jti: `CANARY-refresh-${id}` })}.sig`;
}

describe('ACR token exchange', () => {
  let server: Server;
  let endpoint: AcrEndpoint;
  const forms: URLSearchParams[] = [];
  let ttl = 3 * 3600;

  beforeAll(async () => {
    // ACR's /oauth2/exchange, reduced to what the client sees (the full facade runs in the integration tests).
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        forms.push(form);
        if (req.url !== '/oauth2/exchange' || form.get('access_token') !== 'aad-CANARY-good') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ refresh_token: refreshJwt(Math.floor(Date.now() / 1000) + ttl, forms.length) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    endpoint = { host: `127.0.0.1:${addr.port}`, service: 'myregistry.azurecr.io', plainHttp: true };
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const aad = (token: string): TokenCredential & { calls: number } => {
    const c = {
      calls: 0,
      async getToken(): Promise<AccessToken> {
        c.calls++;
        return { token, expiresOnTimestamp: Date.now() + 3600_000 };
      },
    };
    return c;
  };

  it('reads the expiry of a JWT, and none of a token that is not one', () => {
    expect(jwtExpiry(refreshJwt(1_700_000_000, 1))).toBe(1_700_000_000_000);
    expect(jwtExpiry('opaque-token')).toBeUndefined();
  });

  it('posts grant_type=access_token with the login server as service and the tenant', async () => {
    // Act
    const got = await exchangeAadToken(endpoint, 'aad-CANARY-good', 'tenant-1');
    // Assess
    const form = forms[forms.length - 1];
    expect(Object.fromEntries(form?.entries() ?? [])).toEqual({
      grant_type: 'access_token', service: 'myregistry.azurecr.io', access_token: 'aad-CANARY-good', tenant: 'tenant-1',
    });
    expect(got.expiresAt).toBeGreaterThan(Date.now() + 3 * 3600_000 - 60_000);
    expect(redact(`token ${got.value}`)).not.toContain(got.value);
  });

  it('gives the refresh token as an identity token, cached until the margin before its expiry', async () => {
    // Prepare: refresh tokens of 100 s, a clock we move, a margin of 30 s.
    ttl = 100;
    let clock = Date.now();
    const cred = aad('aad-CANARY-good');
    const provider = new AcrAadCredentialProvider(endpoint, cred, { reference: 'test', marginMs: 30_000, now: () => clock });
    try {
      // Act
      const first = await provider.credentialsFor('h');
      const again = await provider.credentialsFor('h');
      clock += 71_000;
      const renewed = await provider.credentialsFor('h');
      // Assess
      expect(first).toEqual({ identityToken: expect.stringMatching(/\./), username: '00000000-0000-0000-0000-000000000000' });
      expect(again).toEqual(first);
      expect(renewed).not.toEqual(first);
      expect(cred.calls).toBe(2);
    } finally {
      ttl = 3 * 3600;
    }
  });

  it('says what to check when ACR refuses the AAD token, without the token', async () => {
    const provider = new AcrAadCredentialProvider(endpoint, aad('aad-CANARY-refused-1234'), { reference: 'test' });
    const err = await provider.credentialsFor('h').then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).toBe('UNAUTHORIZED');
    expect(err?.message).toBe(
      'ACR myregistry.azurecr.io refused the AAD token at /oauth2/exchange (HTTP 401); check that the identity has AcrPull (and AcrPush/AcrDelete to write) on the registry',
    );
    expect(JSON.stringify(err)).not.toContain('aad-CANARY-refused-1234');
  });

  it('wraps an AAD failure as a credential error naming the identity, redacted', async () => {
    const failing: TokenCredential = {
      async getToken(): Promise<AccessToken | null> {
        throw new Error('AADSTS7000215: Invalid client secret provided: Bearer CANARY-secret-123456');
      },
    };
    const provider = new AcrAadCredentialProvider(endpoint, failing, { reference: 'service principal from secret regman/acr', registryName: 'acr-prod' });
    const err = await provider.credentialsFor('h').then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^could not get an AAD token for https:\/\/containerregistry\.azure\.net\/\.default from service principal from secret regman\/acr: AADSTS7000215/);
    expect(err?.message).not.toContain('CANARY-secret-123456');
  });
});
