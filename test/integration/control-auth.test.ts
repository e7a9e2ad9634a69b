// The local control listener is a security boundary: state-changing requests need the stack's bearer token and must not come cross-origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlHeaders, newControlToken } from '../../local/control-auth.ts';
import { startControlServer, type ControlServer } from '../../local/control-server.ts';

describe('control listener authentication', () => {
  const token = newControlToken();
  const calls: string[] = [];
  let server: ControlServer;

  beforeAll(async () => {
    server = await startControlServer({
      controlToken: token,
      exemptPathPrefixes: ['/approvals/'],
      log: () => undefined,
      onNotification: (registry) => calls.push(`notify ${registry}`),
      onReconcile: async () => {
        calls.push('reconcile');
        return { ran: true };
      },
      onRetention: async (apply) => {
        calls.push(`retention ${apply}`);
        return { apply };
      },
    });
  });
  afterAll(() => server?.stop());

  const post = async (path: string, headers: Record<string, string> = {}, body = '{}'): Promise<{ status: number; body: { error?: string } }> => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  };

  it.each([
    ['no Authorization header', {}, /missing Authorization: Bearer <controlToken>/],
    ['a wrong token', { authorization: 'Bearer 0000' }, /wrong control token/],
    ['another scheme', { authorization: `Basic ${token}` }, /missing Authorization/],
  ])('answers 401 to %s on every state-changing route and runs nothing', async (_name, headers, message) => {
    // Act
    const answers = await Promise.all(['/retention?apply=1', '/reconcile', '/notifications/src', '/some-future-route'].map((p) => post(p, headers)));

    // Assess
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body.error).toMatch(message);
    }
    expect(calls).toEqual([]);
  });

  it.each([
    ['a "simple" text/plain POST from another origin', { origin: 'http://evil.example', 'content-type': 'text/plain' }],
    ['Sec-Fetch-Site: cross-site, even with the right token', { 'sec-fetch-site': 'cross-site', ...controlHeaders(token) }],
    ['Origin of another port on loopback, even with the right token', { origin: 'http://127.0.0.1:1', ...controlHeaders(token) }],
  ])('answers 403 to %s', async (_name, headers) => {
    // Act
    const answer = await post('/retention?apply=1', headers);

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatch(/cross-origin request refused/);
    expect(calls).toEqual([]);
  });

  it('runs the request with the right token (and a same-origin browser request with it), and GET needs none', async () => {
    // Act
    const retention = await post('/retention?apply=1', controlHeaders(token));
    const sameOrigin = await post('/reconcile', { ...controlHeaders(token), origin: server.url, 'sec-fetch-site': 'same-origin' });
    const health = await fetch(`${server.url}/health`);

    // Assess
    expect(retention).toEqual({ status: 200, body: { apply: true } });
    expect(sameOrigin).toEqual({ status: 200, body: { ran: true } });
    expect(await health.json()).toEqual({ ok: true });
    expect(calls).toEqual(['retention true', 'reconcile']);
  });

  it('leaves an exempt path prefix to its own authentication (it reaches the router: 404 here, not 401)', async () => {
    // Act
    const answer = await post('/approvals/abc/approve');

    // Assess
    expect(answer.status).toBe(404);
  });
});
