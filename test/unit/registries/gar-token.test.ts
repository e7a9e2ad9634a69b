// Google access tokens: the refresh cache, the JWT-bearer exchange through a hooked transporter, and redaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpiringValue, GoogleAccessTokens, CLOUD_PLATFORM_SCOPE } from '../../../functions/registries/gar/token.ts';
import { GoogleTokenCredentialProvider, googleCredentials } from '../../../functions/registries/gar/credentials.ts';
import { redact } from '../../../functions/oci/redact.ts';
import { startGoogleTokenEndpoint, GOOGLE_TOKEN_URL, type RunningGoogleTokenEndpoint } from '../../helpers/google-token-endpoint.ts';
import type { SecretResolver } from '../../../functions/registries/secrets.ts';

describe('ExpiringValue', () => {
  it('serves the cached value until the refresh margin, then fetches a new one', async () => {
    // Prepare
    let clock = 1_000_000;
    let fetches = 0;
    const v = new ExpiringValue(async () => ({ value: `t${++fetches}`, expiresAt: clock + 60_000 }), { marginMs: 10_000, now: () => clock });
    // Act / Assess
    expect(await v.get()).toBe('t1');
    clock += 49_999;
    expect(await v.get()).toBe('t1');
    clock += 1;
    expect(await v.get()).toBe('t2');
    v.invalidate();
    expect(await v.get()).toBe('t3');
  });

  it('shares one fetch between concurrent callers and does not cache a failure', async () => {
    // Prepare
    let fetches = 0;
    let fail = true;
    const v = new ExpiringValue(async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new Error('boom');
      return { value: 'ok', expiresAt: Date.now() + 3_600_000 };
    });
    // Act
    const results = await Promise.allSettled([v.get(), v.get(), v.get()]);
    fail = false;
    // Assess
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(fetches).toBe(1);
    expect(await v.get()).toBe('ok');
    expect(fetches).toBe(2);
  });
});

describe('GoogleAccessTokens against a local token endpoint', () => {
  let google: RunningGoogleTokenEndpoint;

  beforeAll(async () => {
    google = await startGoogleTokenEndpoint({ tokenPrefix: 'ya29.CANARY-gar-' });
  });
  afterAll(async () => {
    await google?.stop();
  });

  it('signs a JWT-bearer assertion for the cloud-platform scope and caches the token', async () => {
    // Prepare
    const before = google.requests.length;
    const tokens = new GoogleAccessTokens({ keyJson: google.keyJson, reference: 'test key' }, { transporter: google.transporter() });
    // Act
    const first = await tokens.token();
    const second = await tokens.token();
    // Assess
    expect(first).toBe(google.latestToken());
    expect(second).toBe(first);
    const seen = google.requests.slice(before);
    expect(seen).toEqual([{ iss: google.serviceAccountKey.client_email, scope: CLOUD_PLATFORM_SCOPE, aud: GOOGLE_TOKEN_URL, status: 200 }]);
    // Every token handed out is known to the redactor.
    expect(redact(`Authorization failed with ${first}`)).not.toContain(first);
  });

  it('refreshes a token that is within the margin of its expiry', async () => {
    // Prepare: tokens live 120 s, refreshed 5 min early: every call needs a new one.
    google.setExpiresIn(120);
    const tokens = new GoogleAccessTokens({ keyJson: google.keyJson, reference: 'test key' }, { transporter: google.transporter() });
    try {
      // Act
      const a = await tokens.token();
      const b = await tokens.token();
      // Assess
      expect(a).not.toBe(b);
      expect(google.latestToken()).toBe(b);
    } finally {
      google.setExpiresIn(3600);
    }
  });

  it('reads a key file through Application Default Credentials with the same hook', async () => {
    const tokens = new GoogleAccessTokens({ keyFile: google.keyFile, reference: 'key file' }, { transporter: google.transporter() });
    expect(await tokens.token()).toBe(google.latestToken());
  });

  it('hands out oauth2accesstoken + token as credentials', async () => {
    const provider = new GoogleTokenCredentialProvider(new GoogleAccessTokens({ keyJson: google.keyJson, reference: 'k' }, { transporter: google.transporter() }));
    expect(await provider.credentialsFor('europe-docker.pkg.dev')).toEqual({ username: 'oauth2accesstoken', password: google.latestToken() });
  });

  it('reads a service-account key from a secret, and passes username/password secrets through', async () => {
    // Prepare
    const store: Record<string, string> = {
      key: google.keyJson,
      basic: JSON.stringify({ username: '_json_key', password: 'CANARY-json-key-password' }),
    };
    const secrets: SecretResolver = { getSecret: async (ref) => store[ref.secretName ?? ''] ?? '' };
    const transporter = google.transporter();
    // Act
    const fromKey = await googleCredentials('g', { secretName: 'key' }, false, { secrets }, { transporter }).credentialsFor('h');
    const fromBasic = await googleCredentials('g', { secretName: 'basic' }, false, { secrets }, { transporter }).credentialsFor('h');
    // Assess
    expect(fromKey).toEqual({ username: 'oauth2accesstoken', password: google.latestToken() });
    expect(fromBasic).toEqual({ username: '_json_key', password: 'CANARY-json-key-password' });
  });

  it('uses <PREFIX>_KEY_FILE from env references', async () => {
    const env = { GAR_KEY_FILE: google.keyFile };
    const creds = await googleCredentials('g', { env: 'GAR' }, false, { env }, { transporter: google.transporter() }).credentialsFor('h');
    expect(creds).toEqual({ username: 'oauth2accesstoken', password: google.latestToken() });
  });

  it('fails with a message that names the reference and carries neither the key nor the assertion', async () => {
    // Prepare: a key the endpoint does not know (another private key under the same email).
    const other = await startGoogleTokenEndpoint();
    const foreignKey = JSON.stringify({ ...google.serviceAccountKey, private_key: other.serviceAccountKey.private_key });
    await other.stop();
    const tokens = new GoogleAccessTokens({ keyJson: foreignKey, reference: 'secret regman/gar-key' }, { transporter: google.transporter() });
    // Act
    const err = await tokens.token().then(() => undefined, (e: unknown) => e as Error);
    // Assess
    expect(err?.message).toMatch(/could not get a Google access token from secret regman\/gar-key/);
    expect(err?.message).toMatch(/invalid signature/);
    expect(err?.message).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(err)).not.toContain('assertion');
    expect(google.requests[google.requests.length - 1]?.error).toBe('invalid signature');
  });

  it('refuses a secret that is not a key without quoting it', async () => {
    const tokens = new GoogleAccessTokens({ keyJson: '{"client_email": "x", "CANARY": "CANARY-not-a-key"}', reference: 'secret s' });
    const err = await tokens.token().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/secret s is not a Google service-account key: it lacks "client_email" or "private_key"/);
    expect(err?.message).not.toContain('CANARY-not-a-key');
  });
});
