import { describe, it, expect, afterEach } from 'vitest';
import { Authenticator, parseTokenResponse, parseWwwAuthenticate, repositoryScope, type TokenFetchRequest } from '../../../functions/oci/auth.ts';
import { StaticCredentialProvider } from '../../../functions/oci/credentials.ts';
import { clearSecrets } from '../../../functions/oci/redact.ts';
import { OciError } from '../../../functions/oci/errors.ts';

describe('parseWwwAuthenticate', () => {
  it.each([
    ['Basic realm="basic-realm"', [{ scheme: 'basic', params: { realm: 'basic-realm' } }]],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }],
    ],
    [
      'Bearer realm="http://127.0.0.1:9/token",service="svc",scope="repository:a/b:pull,push",error="invalid_token"',
      [{ scheme: 'bearer', params: { realm: 'http://127.0.0.1:9/token', service: 'svc', scope: 'repository:a/b:pull,push', error: 'invalid_token' } }],
    ],
    ['bearer Realm=https://x/token, Service=svc', [{ scheme: 'bearer', params: { realm: 'https://x/token', service: 'svc' } }]],
    ['Bearer realm="a \\"quoted\\" realm"', [{ scheme: 'bearer', params: { realm: 'a "quoted" realm' } }]],
    [
      'Basic realm="x", Bearer realm="https://t/token",service="s"',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
      ],
    ],
    ['Negotiate', [{ scheme: 'negotiate', params: {} }]],
    ['', []],
  ])('parses %j', (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe('token responses and scopes', () => {
  it.each([
    ['{"token":"t1","expires_in":300}', 't1', 300_000 * 0.9],
    ['{"access_token":"t2"}', 't2', 60_000 * 0.9],
    ['{"token":"t3","access_token":"ignored","expires_in":10}', 't3', 60_000 * 0.9],
  ])('reads %s', (body, token, ttl) => {
    expect(parseTokenResponse(body, 1000)).toEqual({ token, expiresAt: 1000 + ttl });
  });

  it.each(['not json', '{"expires_in":60}', '{"token":""}'])('refuses %j with PROTOCOL', (body) => {
    expect(() => parseTokenResponse(body, 0)).toThrow(OciError);
  });

  it('writes repository scopes as the token spec does', () => {
    expect(repositoryScope('team/app', ['pull', 'push', 'pull'])).toBe('repository:team/app:pull,push');
  });
});

/** A token endpoint in memory: records requests and hands out numbered tokens. */
class FakeTokenEndpoint {
  readonly requests: TokenFetchRequest[] = [];
  status = 200;
  private n = 0;
  fetch = async (req: TokenFetchRequest): Promise<{ status: number; body: string }> => {
    this.requests.push(req);
    this.n++;
    return { status: this.status, body: JSON.stringify({ token: `tok-${this.n}`, expires_in: 120 }) };
  };
}

describe('Authenticator', () => {
  afterEach(() => clearSecrets());
  const bearer = 'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:team/app:pull"';
  const scopes = ['repository:team/app:pull'];

  it('sends nothing before the first challenge, then fetches and caches a token per scope set', async () => {
    // Prepare
    const endpoint = new FakeTokenEndpoint();
    let now = 0;
    const auth = new Authenticator({
      host: 'reg.example.com', fetchToken: endpoint.fetch, now: () => now,
      credentials: new StaticCredentialProvider({ username: 'alice', password: 'wonderland1' }),
    });
    // Act
    const before = await auth.authorization(scopes, 'team/app');
    const first = await auth.onUnauthorized(bearer, scopes, 'team/app');
    const cached = await auth.authorization(scopes, 'team/app');
    const other = await auth.authorization(['repository:team/app:pull,push'], 'team/app');
    now = 200_000; // past expiry
    const refreshed = await auth.authorization(scopes, 'team/app');
    // Assess
    expect(before).toBeUndefined();
    expect(first).toBe('Bearer tok-1');
    expect(cached).toBe('Bearer tok-1');
    expect(other).toBe('Bearer tok-2');
    expect(refreshed).toBe('Bearer tok-3');
    const url = endpoint.requests[0]!.url;
    expect(url.searchParams.get('service')).toBe('reg');
    expect(url.searchParams.getAll('scope')).toEqual(['repository:team/app:pull']);
    expect(endpoint.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('alice:wonderland1').toString('base64')}`);
  });

  it('drops the cached token on a second challenge and fetches a new one', async () => {
    const endpoint = new FakeTokenEndpoint();
    const auth = new Authenticator({ host: 'reg', fetchToken: endpoint.fetch });
    await auth.onUnauthorized(bearer, scopes);
    const again = await auth.onUnauthorized(`${bearer},error="invalid_token"`, scopes);
    expect(again).toBe('Bearer tok-2');
    expect(endpoint.requests).toHaveLength(2);
    expect(endpoint.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('exchanges an identity token by POST with grant_type=refresh_token', async () => {
    const endpoint = new FakeTokenEndpoint();
    const auth = new Authenticator({ host: 'reg', fetchToken: endpoint.fetch, credentials: new StaticCredentialProvider({ identityToken: 'refresh-abc-123' }) });
    await auth.onUnauthorized(bearer, scopes);
    const req = endpoint.requests[0]!;
    expect(req.method).toBe('POST');
    const form = new URLSearchParams(req.body!.toString());
    expect(form.get('grant_type')).toBe('refresh_token');
    expect(form.get('refresh_token')).toBe('refresh-abc-123');
    expect(form.get('scope')).toBe('repository:team/app:pull');
  });

  it('answers Basic challenges with the credentials, and UNAUTHORIZED without any', async () => {
    const withCreds = new Authenticator({ host: 'reg', fetchToken: new FakeTokenEndpoint().fetch, credentials: new StaticCredentialProvider({ username: 'bob', password: 'builder99' }) });
    expect(await withCreds.onUnauthorized('Basic realm="r"', scopes)).toBe(`Basic ${Buffer.from('bob:builder99').toString('base64')}`);
    expect(await withCreds.authorization(scopes)).toBe(`Basic ${Buffer.from('bob:builder99').toString('base64')}`);
    const anonymous = new Authenticator({ host: 'reg.example.com', fetchToken: new FakeTokenEndpoint().fetch });
    await expect(anonymous.onUnauthorized('Basic realm="r"', scopes, 'team/app')).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/reg\.example\.com.*team\/app.*Check the credentials for reg\.example\.com/s),
    });
  });

  it('asks the provider again after a 401, so a rotated password reaches a long-lived client', async () => {
    // Prepare: a provider whose secret rotates between the first and second challenge.
    const passwords = ['old-pass-1', 'new-pass-2'];
    let calls = 0;
    const rotating = { credentialsFor: async () => ({ username: 'svc', password: passwords[Math.min(calls++, 1)]! }) };
    const auth = new Authenticator({ host: 'reg', fetchToken: new FakeTokenEndpoint().fetch, credentials: rotating });
    const basic = (p: string): string => `Basic ${Buffer.from(`svc:${p}`).toString('base64')}`;
    // Act + Assess: the first challenge uses the old secret, and it is cached between requests.
    expect(await auth.onUnauthorized('Basic realm="r"', scopes)).toBe(basic('old-pass-1'));
    expect(await auth.authorization(scopes)).toBe(basic('old-pass-1'));
    expect(calls).toBe(1);
    // The registry refuses it (rotated): the next challenge reads the provider again.
    expect(await auth.onUnauthorized('Basic realm="r"', scopes)).toBe(basic('new-pass-2'));
    expect(calls).toBe(2);
  });

  it('turns a token endpoint 401 into UNAUTHORIZED without the password', async () => {
    const endpoint = new FakeTokenEndpoint();
    endpoint.status = 401;
    const auth = new Authenticator({ host: 'reg.example.com', fetchToken: endpoint.fetch, credentials: new StaticCredentialProvider({ username: 'alice', password: 'not-the-one-42' }) });
    const err = (await auth.onUnauthorized(bearer, scopes, 'team/app').catch((e: unknown) => e)) as OciError;
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain('Check the credentials for reg.example.com');
    expect(err.message).not.toContain('not-the-one-42');
  });

  it('refuses a challenge it cannot use', async () => {
    const auth = new Authenticator({ host: 'reg', fetchToken: new FakeTokenEndpoint().fetch });
    await expect(auth.onUnauthorized('Negotiate', scopes)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(auth.onUnauthorized(undefined, scopes)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
