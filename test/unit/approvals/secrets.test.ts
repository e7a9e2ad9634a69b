// The approvals' secret loader: cached with a TTL, shared in flight, failures not cached, errors that name the secret and never its value.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CachedSecretText, hmacKeyFrom, trimmedSecret } from '../../../functions/approvals/secrets.ts';
import { clearSecrets, redact } from '../../../functions/oci/redact.ts';

const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:regman/approvals-hmac-AbCdEf';
const SLACK_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:regman/slack-signing-GhIjKl';
// What the stack's generateSecretString makes: 64 characters, no punctuation (valid base64, 48 bytes).
const GENERATED = 'Q7d9kLm2Vx8ZpR4tYb6Nc1Hs3Jf5Gw0Ae7Ku9Lo2Pi4Mq6Wr8Ty1Ub3Nv5Xz7Ca9';
const SIGNING = '8f742231b10e8888abcd99yyyzzz85a5';

const sm = mockClient(SecretsManagerClient);
afterEach(() => {
  sm.reset();
  clearSecrets();
});

function loader(clock = { t: 0 }) {
  return { clock, secrets: new CachedSecretText({ client: new SecretsManagerClient({ region: 'eu-west-1' }), ttlMs: 1000, now: () => clock.t }) };
}

describe('CachedSecretText', () => {
  it('reads each secret once per TTL, shares concurrent reads, and reads again after the TTL', async () => {
    sm.on(GetSecretValueCommand, { SecretId: KEY_ARN }).resolves({ SecretString: GENERATED }).on(GetSecretValueCommand, { SecretId: SLACK_ARN }).resolves({ SecretString: `${SIGNING}\n` });
    const { clock, secrets } = loader();
    const [a, b] = await Promise.all([secrets.secretText(KEY_ARN), secrets.secretText(KEY_ARN)]);
    expect(a).toBe(GENERATED);
    expect(b).toBe(GENERATED);
    expect(await trimmedSecret(secrets, SLACK_ARN)()).toBe(SIGNING);
    clock.t = 999;
    await secrets.secretText(KEY_ARN);
    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: KEY_ARN })).toHaveLength(1);
    clock.t = 1000;
    await secrets.secretText(KEY_ARN);
    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: KEY_ARN })).toHaveLength(2);
  });

  it('turns the generated value into an HMAC key of at least 32 bytes', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: GENERATED });
    const key = await hmacKeyFrom(loader().secrets, KEY_ARN)();
    expect(key.length).toBe(48);
  });

  it('refuses a key that is too short, naming the secret but not the value', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'c2hvcnQ=' });
    const err = await hmacKeyFrom(loader().secrets, KEY_ARN)().catch((e: Error) => e);
    expect(String(err)).toMatch(/secret arn:aws:secretsmanager:.*approvals-hmac.* is 5 bytes; it needs at least 32/);
    expect(String(err)).not.toContain('c2hvcnQ=');
  });

  it('does not cache a failure: the next read retries; the error names the secret, the cause and what to check', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::111122223333:assumed-role/x is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
    sm.on(GetSecretValueCommand).rejectsOnce(denied).resolves({ SecretString: SIGNING });
    const { secrets } = loader();
    const err = await secrets.secretText(SLACK_ARN).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APPROVAL_SECRET', status: 503, retryable: false });
    expect((err as Error).message).toMatch(/regman\/slack-signing.*AccessDeniedException.*needs secretsmanager:GetSecretValue/);
    expect(await secrets.secretText(SLACK_ARN)).toBe(SIGNING);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('marks throttling retryable and refuses a secret without text', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'throttled' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    sm.on(GetSecretValueCommand, { SecretId: 'binary' }).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    const { secrets } = loader();
    await expect(secrets.secretText('throttled')).rejects.toMatchObject({ code: 'APPROVAL_SECRET', retryable: true });
    await expect(secrets.secretText('binary')).rejects.toThrow(/has no SecretString: put the value in as text/);
  });

  it('registers every value read with the redactor, so no later message or log line can carry it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: SIGNING });
    await loader().secrets.secretText(SLACK_ARN);
    expect(redact(`slack said: bad signature with ${SIGNING}`)).toBe('slack said: bad signature with ***');
  });
});
