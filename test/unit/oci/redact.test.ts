import { describe, it, expect, afterEach } from 'vitest';
import { clearSecrets, redact, registerSecret } from '../../../functions/oci/redact.ts';
import { OciError } from '../../../functions/oci/errors.ts';
import { errorFromResponse } from '../../../functions/oci/http-errors.ts';

const CANARY = 'canary-Pa55w0rd-7f3e';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';

describe('redact', () => {
  afterEach(() => clearSecrets());

  it.each([
    ['URL userinfo', 'GET https://alice:hunter22@registry.example.com/v2/', 'https://***@registry.example.com/v2/', 'hunter22'],
    ['Authorization header', 'Authorization: Basic YWxpY2U6aHVudGVyMjI=', 'Authorization: Basic ***', 'YWxpY2U6aHVudGVyMjI='],
    ['lowercase header in JSON', '{"authorization":"Bearer abc.def.ghi123"}', '***', 'abc.def.ghi123'],
    ['bare Bearer value', 'sent Bearer 9f8e7d6c5b4a', 'sent Bearer ***', '9f8e7d6c5b4a'],
    ['token query param', 'https://auth.example.com/token?service=x&token=s3cr3t&scope=a', 'token=***&scope=a', 's3cr3t'],
    ['access_token param', 'access_token=zzz999&x=1', 'access_token=***', 'zzz999'],
    ['password param', 'grant_type=password&password=letmein99', 'password=***', 'letmein99'],
    ['JSON token field', '{"token": "opaque-xyz", "expires_in": 60}', '"token": "***"', 'opaque-xyz'],
    ['JWT anywhere', `token was ${JWT} end`, 'token was *** end', JWT],
    ['userinfo in a reference without a scheme', 'invalid reference "alice:hunter22@127.0.0.1:5000/team/app:v1"', '"***@127.0.0.1:5000/team/app:v1"', 'hunter22'],
    ['a user-only reference without a scheme', 'copy ghp_tok3n@ghcr.io/o/app:1', 'copy ***@ghcr.io/o/app:1', 'ghp_tok3n'],
  ])('removes %s', (_name, input, shows, secret) => {
    const out = redact(input);
    expect(out).toContain(shows);
    expect(out).not.toContain(secret);
  });

  it.each([
    'team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '127.0.0.1:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  ])('leaves a digest reference alone: %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  it('leaves ordinary text alone', () => {
    const text = 'GET manifest team/app:1.0 failed on 127.0.0.1:5000: Basic credentials were refused; fetching a token: timeout';
    expect(redact(text)).toBe(text);
  });

  it('removes registered secrets wherever they appear, and their URL-encoded form', () => {
    registerSecret(CANARY);
    registerSecret('p@ss word!');
    expect(redact(`the password is ${CANARY}.`)).toBe('the password is ***.');
    expect(redact('q=p%40ss%20word!')).not.toContain('p%40ss%20word!');
  });

  it('never lets a registered canary through an OciError or a mapped HTTP error', () => {
    // Prepare
    registerSecret(CANARY);
    // Act
    const direct = new OciError(`failed with ${CANARY}`, { code: 'UNAUTHORIZED' });
    const mapped = errorFromResponse({
      status: 401,
      body: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `bad password ${CANARY}`, detail: { password: CANARY } }] }),
      host: 'reg.example.com',
      repository: 'team/app',
      description: 'GET manifest team/app:1',
    });
    // Assess
    expect(direct.message).not.toContain(CANARY);
    expect(mapped.message).not.toContain(CANARY);
    expect(mapped.message).toContain('reg.example.com');
  });
});
