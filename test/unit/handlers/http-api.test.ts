// The HTTP API payload 2.0 adapter, on events shaped as API Gateway sends them (GET with a token in the path, a base64 form POST, Slack's post, a named stage).
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, toHttpApiResult, toWebRequest, type HttpApiEventV2 } from '../../../functions/handlers/http-api.ts';
import { PAGE_HEADERS } from '../../../functions/web/http.ts';

/** An event as API Gateway delivers it (fields from the AWS payload 2.0 documentation). */
function event(over: Partial<HttpApiEventV2> & { method?: string; stage?: string } = {}): HttpApiEventV2 {
  const { method = 'GET', stage = '$default', ...rest } = over;
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{execution}/{token}`,
    rawPath: '/approvals/promo-20260101-abc/lnk_Q2F0.c2ln',
    rawQueryString: '',
    headers: {
      accept: 'text/html',
      'content-length': '0',
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'Slackbot-LinkExpanding 1.0',
      'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    requestContext: {
      http: { method, path: '/approvals/promo-20260101-abc/lnk_Q2F0.c2ln' },
      stage,
      requestId: 'JKJaXmPLvHcESHA=',
    },
    isBase64Encoded: false,
    ...rest,
  } as HttpApiEventV2;
}

describe('toWebRequest (HTTP API payload 2.0)', () => {
  it('keeps the raw, percent-encoded path and the query of a GET', () => {
    const req = toWebRequest(event({ rawPath: '/approvals/promo%2F1/tok', rawQueryString: 'utm_source=mail&x=%20y' }));
    expect(req).toMatchObject({ method: 'GET', path: '/approvals/promo%2F1/tok', body: '' });
    expect(req.query.get('x')).toBe(' y');
    expect(req.headers['user-agent']).toMatch(/Slackbot/);
  });

  it('decodes a base64 form body (HTTP APIs encode form posts) to the exact text sent', () => {
    const form = 'csrf=abc.def&action=reject&comment=caf%C3%A9+not+today';
    const req = toWebRequest(
      event({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form).toString('base64'), isBase64Encoded: true }),
    );
    expect(req.method).toBe('POST');
    expect(req.body).toBe(form);
    expect(new URLSearchParams(req.body).get('comment')).toBe('café not today');
  });

  it('passes a text body through byte for byte, as Slack signs it, with lower-cased headers', () => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' } }))}`;
    const req = toWebRequest(
      event({
        method: 'POST',
        rawPath: '/slack/interactions',
        headers: { 'X-Slack-Signature': 'v0=abc', 'X-Slack-Request-Timestamp': '1700000000', 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }),
    );
    expect(req.body).toBe(body);
    expect(req.headers['x-slack-signature']).toBe('v0=abc');
    expect(req.headers['x-slack-request-timestamp']).toBe('1700000000');
  });

  it('folds 2.0 cookies back into a cookie header', () => {
    expect(toWebRequest(event({ cookies: ['a=1', 'b=2'] })).headers.cookie).toBe('a=1; b=2');
  });

  it.each([
    ['prod', '/prod/approvals/x/y', '/approvals/x/y'],
    ['prod', '/prod', '/'],
    ['$default', '/prod/approvals/x/y', '/prod/approvals/x/y'],
    ['prod', '/production/x', '/production/x'],
  ])('stage %s: rawPath %s is served as %s', (stage, rawPath, path) => {
    expect(toWebRequest(event({ stage, rawPath })).path).toBe(path);
  });

  it.each([
    ['a 1.0 (REST-style) event', { version: '1.0' }, 400],
    ['no method', { requestContext: {} }, 400],
    ['a body over the cap', { body: 'x'.repeat(MAX_BODY_BYTES + 1) }, 413],
  ] as const)('refuses %s', (_name, over, status) => {
    expect(() => toWebRequest(event(over as Partial<HttpApiEventV2>))).toThrow(expect.objectContaining({ status }));
  });
});

describe('toHttpApiResult', () => {
  it('returns an explicit 2.0 result with the page headers', () => {
    const out = toHttpApiResult({ status: 410, headers: PAGE_HEADERS, body: '<h1>expired</h1>' });
    expect(out).toEqual({ statusCode: 410, headers: { ...PAGE_HEADERS }, body: '<h1>expired</h1>', isBase64Encoded: false });
    expect(out.headers['referrer-policy']).toBe('no-referrer');
  });
});
