// Proves the token server against the real registry: scopes per repository and action, refusals, expiry.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTokenRegistry, type TokenRegistry } from '../helpers/registry.ts';
import { pushImage } from '../helpers/images.ts';
import { RawPushError } from '../helpers/raw-push.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>,
  };
}

async function getToken(reg: TokenRegistry, scopes: string[], auth?: string): Promise<{ status: number; token?: string }> {
  const url = new URL(reg.tokenServer.realm);
  url.searchParams.set('service', reg.tokenServer.service);
  for (const s of scopes) url.searchParams.append('scope', s);
  const res = await fetch(url, { headers: auth ? { authorization: auth } : {} });
  const body = (await res.json()) as { token?: string };
  return { status: res.status, token: body.token };
}

const USERS = {
  writer: { password: 'w-pass', access: [{ repository: 'team/*', actions: ['pull', 'push', 'delete'] as const }] },
  reader: { password: 'r-pass', access: [{ repository: '**', actions: ['pull'] as const }] },
  admin: { password: 'a-pass', access: [{ repository: '**', actions: ['*'] as const }], catalog: true },
};

describe('token server', () => {
  let reg: TokenRegistry;
  beforeAll(async () => {
    reg = await startTokenRegistry({ users: USERS });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('signs RS256 JWTs with an x5c chain and the spec claims', async () => {
    // Act
    const { status, token } = await getToken(reg, ['repository:team/app:pull'], basic('writer', 'w-pass'));
    // Assess
    expect(status).toBe(200);
    const { header, claims } = decodeJwt(token!);
    expect(header).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect(header.x5c).toHaveLength(1);
    expect(claims).toMatchObject({ iss: reg.tokenServer.issuer, aud: reg.tokenServer.service, sub: 'writer' });
    expect(Number(claims.exp)).toBeGreaterThan(Date.now() / 1000);
    expect(claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
  });

  it('grants only the intersection of what is asked and what is allowed, per repository', async () => {
    // Act: several scope parameters in one request
    const { token } = await getToken(
      reg,
      ['repository:team/app:pull,push,delete', 'repository:other/app:pull,push', 'repository:team/a/b:pull'],
      basic('writer', 'w-pass'),
    );
    const reader = await getToken(reg, ['repository:team/app:pull,push'], basic('reader', 'r-pass'));
    const admin = await getToken(reg, ['repository:x/y:pull,push,*', 'registry:catalog:*'], basic('admin', 'a-pass'));
    // Assess: `team/*` does not match other/app nor team/a/b
    expect(decodeJwt(token!).claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }]);
    expect(decodeJwt(reader.token!).claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expect(decodeJwt(admin.token!).claims.access).toEqual([
      { type: 'repository', name: 'x/y', actions: ['pull', 'push', '*'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('answers 401 to a bad password, an unknown user, and no credentials (no anonymous pull)', async () => {
    const before = reg.tokenServer.issued;
    expect((await getToken(reg, ['repository:team/app:pull'], basic('writer', 'wrong'))).status).toBe(401);
    expect((await getToken(reg, ['repository:team/app:pull'], basic('nobody', 'x'))).status).toBe(401);
    expect((await getToken(reg, ['repository:team/app:pull'])).status).toBe(401);
    expect(reg.tokenServer.issued).toBe(before);
    expect(reg.tokenServer.requests.at(-1)).toMatchObject({ status: 401, account: undefined });
  });

  it('lets the registry accept a pushing writer, readable back with skopeo', async () => {
    // Act
    const img = await pushImage(reg, 'team/app', 'v1', { creds: { username: 'writer', password: 'w-pass' } });
    // Assess
    expect(await skopeoDigest(`${reg.host}/team/app:v1`, { creds: 'reader:r-pass' })).toBe(img.digest);
  });

  it('makes the registry refuse a push by a read-only user and by a writer outside its repositories', async () => {
    const asReader = pushImage(reg, 'team/app', 'v2', { creds: { username: 'reader', password: 'r-pass' } });
    await expect(asReader).rejects.toBeInstanceOf(RawPushError);
    await expect(asReader).rejects.toMatchObject({ status: expect.toSatisfy((s: number) => s === 401 || s === 403) });
    const outside = pushImage(reg, 'other/app', 'v1', { creds: { username: 'writer', password: 'w-pass' } });
    await expect(outside).rejects.toMatchObject({ status: expect.toSatisfy((s: number) => s === 401 || s === 403) });
    // Nothing was tagged
    const { token } = await getToken(reg, ['repository:team/app:pull'], basic('reader', 'r-pass'));
    const tags = await fetch(`${reg.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await tags.json()) as { tags: string[] }).tags).toEqual(['v1']);
  });

  it('issues already-expired tokens on demand, which the registry refuses with invalid_token', async () => {
    // Prepare
    reg.tokenServer.expireNextTokens(1);
    const expired = await getToken(reg, ['repository:team/app:pull'], basic('reader', 'r-pass'));
    const fresh = await getToken(reg, ['repository:team/app:pull'], basic('reader', 'r-pass'));
    // Act
    const refused = await fetch(`${reg.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${expired.token}` } });
    const accepted = await fetch(`${reg.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${fresh.token}` } });
    // Assess
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(accepted.status).toBe(200);
  });

  it('supports the OAuth2 POST flow with password and refresh_token grants', async () => {
    // Act
    const pw = await fetch(reg.tokenServer.realm, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'reader', password: 'r-pass', service: reg.tokenServer.service, scope: 'repository:team/app:pull', access_type: 'offline', client_id: 'test' }),
    });
    const pwBody = (await pw.json()) as { access_token: string; refresh_token: string };
    const rt = await fetch(reg.tokenServer.realm, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pwBody.refresh_token, service: reg.tokenServer.service, scope: 'repository:team/app:pull,push', client_id: 'test' }),
    });
    const rtBody = (await rt.json()) as { access_token: string };
    const bad = await fetch(reg.tokenServer.realm, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'reader', password: 'nope', service: reg.tokenServer.service }),
    });
    // Assess
    expect(pw.status).toBe(200);
    expect(rt.status).toBe(200);
    expect(decodeJwt(rtBody.access_token).claims.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expect(bad.status).toBe(401);
    const tags = await fetch(`${reg.url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${pwBody.access_token}` } });
    expect(tags.status).toBe(200);
  });

  it('grants the catalog only to users allowed it', async () => {
    const admin = await getToken(reg, ['registry:catalog:*'], basic('admin', 'a-pass'));
    const reader = await getToken(reg, ['registry:catalog:*'], basic('reader', 'r-pass'));
    const ok = await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${admin.token}` } });
    const no = await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${reader.token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { repositories: string[] }).repositories).toContain('team/app');
    expect(no.status).toBe(401);
  });
});

describe('token server variants', () => {
  it('signs with a libtrust kid instead of x5c, and the registry accepts it', async () => {
    const reg = await startTokenRegistry({ keyHeader: 'kid', users: { u: { password: 'p', access: [{ repository: '**', actions: ['*'] }] } } });
    try {
      const img = await pushImage(reg, 'k/app', 'v1', { creds: { username: 'u', password: 'p' } });
      const { token } = await getToken(reg, ['repository:k/app:pull'], basic('u', 'p'));
      expect(decodeJwt(token!).header.kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
      expect(await skopeoDigest(`${reg.host}/k/app:v1`, { creds: 'u:p' })).toBe(img.digest);
    } finally {
      await reg.stop();
    }
  });

  it('gives anonymous clients pull only when anonymousPull is on', async () => {
    const reg = await startTokenRegistry({ anonymousPull: true, users: { u: { password: 'p', access: [{ repository: '**', actions: ['*'] }] } } });
    try {
      const img = await pushImage(reg, 'pub/app', 'v1', { creds: { username: 'u', password: 'p' } });
      const anon = await getToken(reg, ['repository:pub/app:pull,push']);
      expect(anon.status).toBe(200);
      expect(decodeJwt(anon.token!).claims.access).toEqual([{ type: 'repository', name: 'pub/app', actions: ['pull'] }]);
      expect(await skopeoDigest(`${reg.host}/pub/app:v1`)).toBe(img.digest);
      await expect(pushImage(reg, 'pub/app', 'v2')).rejects.toMatchObject({ status: 401 });
    } finally {
      await reg.stop();
    }
  });
});
