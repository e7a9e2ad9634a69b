import { describe, it, expect, afterAll } from 'vitest';
import { startRegistry, startTokenRegistry, type RunningRegistry } from '../helpers/registry.ts';

describe('registry harness', () => {
  const started: RunningRegistry[] = [];
  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop()));
  });

  it('starts an anonymous registry that answers the API version check', async () => {
    const reg = await startRegistry();
    started.push(reg);
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('starts an htpasswd registry that refuses anonymous and accepts the right password', async () => {
    const reg = await startRegistry({ htpasswd: { alice: 's3cret' } });
    started.push(reg);
    const anon = await fetch(`${reg.url}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="basic-realm"/);
    const ok = await fetch(`${reg.url}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
  });

  it('starts a token registry that challenges with its token server, and stops both', async () => {
    // Prepare / Act
    const reg = await startTokenRegistry({ users: { u: { password: 'p', access: [{ repository: '**', actions: ['pull'] }] } } });
    const challenge = await fetch(`${reg.url}/v2/`);
    const token = await fetch(`${reg.tokenServer.realm}?service=${reg.tokenServer.service}`, {
      headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
    });
    await reg.stop();
    // Assess
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toBe(
      `Bearer realm="${reg.tokenServer.realm}",service="${reg.tokenServer.service}"`,
    );
    expect(token.status).toBe(200);
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow();
    await expect(fetch(reg.tokenServer.realm)).rejects.toThrow();
  });
});
