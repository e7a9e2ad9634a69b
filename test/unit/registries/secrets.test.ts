// Credentials from config references: Secrets Manager (mocked: it cannot run here), env, docker config, anonymous.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { redact } from '../../../functions/oci/redact.ts';
import { CredentialError } from '../../../functions/registries/errors.ts';
import {
  SecretsManagerResolver, parseSecretCredentials, resolveCredentials, type SecretResolver,
} from '../../../functions/registries/secrets.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regman/harbor-AbCdEf';
/** The canary: it must never show up in an error message or in redact() output. */
const CANARY = 'CANARY-pw-7f3a9c1e5b';

const smMock = mockClient(SecretsManagerClient);

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

async function messageOf(p: Promise<unknown>): Promise<CredentialError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CredentialError);
  return err as CredentialError;
}

describe('SecretsManagerResolver', () => {
  beforeEach(() => smMock.reset());

  it('reads a secret by ARN, registers it with the redactor, and caches it for the TTL', async () => {
    // Prepare
    let now = 1_000_000;
    smMock.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: JSON.stringify({ username: 'robot', password: CANARY }) });
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }), ttlMs: 60_000, now: () => now });

    // Act
    const first = await resolver.getSecret({ secretArn: ARN });
    now += 59_000;
    const second = await resolver.getSecret({ secretArn: ARN });

    // Assess
    expect(JSON.parse(first)).toEqual({ username: 'robot', password: CANARY });
    expect(second).toBe(first);
    expect(smMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(redact(`leaked ${first}`)).not.toContain(CANARY);
  });

  it('reads the secret again once the TTL has passed', async () => {
    let now = 0;
    smMock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: '{"username":"u","password":"old-password-1"}' })
      .resolvesOnce({ SecretString: '{"username":"u","password":"rotated-password-2"}' });
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }), ttlMs: 1000, now: () => now });

    const before = await resolver.getSecret({ secretName: 'regman/hub' });
    now = 1001;
    const after = await resolver.getSecret({ secretName: 'regman/hub' });

    expect(before).toContain('old-password-1');
    expect(after).toContain('rotated-password-2');
    expect(smMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual(['regman/hub', 'regman/hub']);
  });

  it('shares one call among concurrent requests for the same secret', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    smMock.on(GetSecretValueCommand).callsFake(async () => {
      await gate;
      return { SecretString: 'bare-token-abc123' };
    });
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });

    const pending = Promise.all([1, 2, 3].map(() => resolver.getSecret({ secretName: 'regman/token' })));
    release();
    const values = await pending;

    expect(values).toEqual(['bare-token-abc123', 'bare-token-abc123', 'bare-token-abc123']);
    expect(smMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('does not cache a failure: the next call asks again', async () => {
    smMock
      .on(GetSecretValueCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ SecretString: 'token-after-retry-9' });
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });

    const err = await messageOf(resolver.getSecret({ secretName: 'regman/token' }));
    expect(err.retryable).toBe(true);
    expect(await resolver.getSecret({ secretName: 'regman/token' })).toBe('token-after-retry-9');
  });

  it.each([
    ['ResourceNotFoundException', "Secrets Manager can't find the specified secret.", /secret arn:aws:secretsmanager:.*regman\/harbor-AbCdEf.*ResourceNotFoundException.*check the secret ARN or name and its region/, 'UNAUTHORIZED'],
    ['AccessDeniedException', 'User is not authorized', /AccessDeniedException.*allow secretsmanager:GetSecretValue on it/, 'DENIED'],
    ['DecryptionFailure', 'KMS says no', /allow kms:Decrypt on the secret's KMS key/, 'DENIED'],
  ])('turns %s into an error naming the secret and what to check', async (name, awsMessage, expected, code) => {
    smMock.on(GetSecretValueCommand).rejects(awsError(name, awsMessage));
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });

    const err = await messageOf(resolver.getSecret({ secretArn: ARN }));

    expect(err.message).toMatch(expected);
    expect(err.code).toBe(code);
    expect(err.reference).toBe(ARN);
  });

  it('refuses an empty secret with the accepted formats', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: '   ' });
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });
    const err = await messageOf(resolver.getSecret({ secretName: 'regman/empty' }));
    expect(err.message).toMatch(/Secrets Manager secret "regman\/empty" is empty; store JSON \{"username"/);
  });

  it('reads SecretBinary as UTF-8', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretBinary: Buffer.from('binary-token-42') });
    const resolver = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });
    expect(await resolver.getSecret({ secretName: 'regman/bin' })).toBe('binary-token-42');
  });
});

describe('parseSecretCredentials', () => {
  const base = { host: 'harbor.example.com', reference: 'regman/harbor' };

  it.each([
    ['username/password JSON', JSON.stringify({ username: 'robot$ci', password: 'pw-json-1' }), { username: 'robot$ci', password: 'pw-json-1' }],
    [
      'docker config with base64 auth for the host',
      JSON.stringify({ auths: { 'https://harbor.example.com': { auth: Buffer.from('alice:pw:with:colons').toString('base64') }, 'other.io': { auth: 'eDp5' } } }),
      { username: 'alice', password: 'pw:with:colons' },
    ],
    ['docker config with its only entry', JSON.stringify({ auths: { 'elsewhere.io': { username: 'bob', password: 'pw-only-2' } } }), { username: 'bob', password: 'pw-only-2' }],
    ['docker config identity token', JSON.stringify({ auths: { 'harbor.example.com': { identitytoken: 'refresh-tok-3' } } }), { identityToken: 'refresh-tok-3' }],
    ['a bare token', '  ghp_bareToken123\n', { username: 'token', password: 'ghp_bareToken123' }],
  ])('reads %s', (_label, text, expected) => {
    expect(parseSecretCredentials(text, base)).toEqual(expected);
  });

  it('redacts the password but not the username (an ACR admin user is the registry name)', () => {
    parseSecretCredentials(JSON.stringify({ username: 'contosoreg', password: 'canary-pw-9f3a' }), base);
    expect(redact('push to contosoreg.azurecr.io failed with canary-pw-9f3a')).toBe('push to contosoreg.azurecr.io failed with ***');
  });

  it('pairs a bare token with the adapter\'s token username', () => {
    expect(parseSecretCredentials('ya29.access', { ...base, tokenUsername: 'oauth2accesstoken' })).toEqual({ username: 'oauth2accesstoken', password: 'ya29.access' });
  });

  it.each([
    ['bad JSON', `{"username": "u", "password": "${CANARY}"`, /secret regman\/harbor \(credentials of registry "harbor"\) starts with "\{" but is not valid JSON; store JSON/],
    ['a JSON object of the wrong shape', `{"user": "u", "pass": "${CANARY}"}`, /without non-empty string "username" and "password" \(its keys: "user", "pass"\)/],
    ['a docker config without this host', `{"auths": {"a.io": {"auth": "x"}, "b.io": {"password": "${CANARY}"}}}`, /no "auths" entry for harbor.example.com \(it has: a.io, b.io\)/],
    ['text with spaces', `user ${CANARY}`, /is neither JSON nor a bare token/],
  ])('refuses %s with a clear error that never carries the value', (_label, text, expected) => {
    let thrown: unknown;
    try {
      parseSecretCredentials(text, { ...base, registryName: 'harbor' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CredentialError);
    const err = thrown as CredentialError;
    expect(err.message).toMatch(expected);
    expect(err.problem).toBe('bad-format');
    expect(err.message).not.toContain(CANARY);
    expect(String(err.cause ?? '')).not.toContain(CANARY);
    expect(redact(`secret was ${text}`)).not.toContain(CANARY);
  });
});

describe('resolveCredentials', () => {
  let dir: string;
  beforeEach(() => {
    smMock.reset();
    dir = mkdtempSync(join(tmpdir(), 'regman-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a Secrets Manager reference only when credentials are asked for', async () => {
    const calls: string[] = [];
    const secrets: SecretResolver = {
      getSecret: async (ref) => {
        calls.push(ref.secretName ?? ref.secretArn ?? '');
        return JSON.stringify({ username: 'ci', password: 'sm-pw-5' });
      },
    };
    const provider = resolveCredentials({ secretName: 'regman/harbor' }, { secrets });
    expect(calls).toEqual([]);
    expect(await provider.credentialsFor('harbor.example.com')).toEqual({ username: 'ci', password: 'sm-pw-5' });
    expect(calls).toEqual(['regman/harbor']);
  });

  it('goes through the real SecretsManagerResolver and client for a secretArn', async () => {
    smMock.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: JSON.stringify({ username: 'robot', password: CANARY }) });
    const secrets = new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });
    const provider = resolveCredentials({ secretArn: ARN }, { secrets });
    expect(await provider.credentialsFor('harbor.example.com')).toEqual({ username: 'robot', password: CANARY });
    expect(redact(`Authorization failed for robot:${CANARY}`)).not.toContain(CANARY);
  });

  it('reads <PREFIX>_USERNAME / <PREFIX>_PASSWORD at call time', async () => {
    const env: NodeJS.ProcessEnv = {};
    const provider = resolveCredentials({ env: 'HARBOR' }, { env, registryName: 'harbor' });
    const missing = await messageOf(provider.credentialsFor('h'));
    expect(missing.message).toMatch(/environment variables HARBOR_USERNAME and HARBOR_PASSWORD are not set \(credentials of registry "harbor": env HARBOR\)/);

    env.HARBOR_USERNAME = 'late';
    env.HARBOR_PASSWORD = 'late-pw-6';
    expect(await provider.credentialsFor('h')).toEqual({ username: 'late', password: 'late-pw-6' });
    expect(redact('pw late-pw-6')).toBe('pw ***');
  });

  it('reads a docker config for dockerConfig: true', async () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ auths: { '127.0.0.1:5000': { username: 'dc', password: 'dc-pw-7' } } }));
    const provider = resolveCredentials({ dockerConfig: true }, { dockerConfigPath: path });
    expect(await provider.credentialsFor('127.0.0.1:5000')).toEqual({ username: 'dc', password: 'dc-pw-7' });
  });

  it('dockerConfig: true reads the files podman, skopeo and docker read, in their order (REGISTRY_AUTH_FILE or XDG_RUNTIME_DIR, ~/.config/containers, ~/.docker)', async () => {
    // Prepare: a home with all three kinds of file, each knowing another host (and the first two one in common)
    const home = join(dir, 'home');
    const write = (rel: string, auths: Record<string, { username: string; password: string }>): string => {
      const path = join(home, rel);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, JSON.stringify({ auths }));
      return path;
    };
    const podman = write('run/containers/auth.json', { 'a.test': { username: 'podman', password: 'pw-podman-1' }, 'both.test': { username: 'podman', password: 'pw-podman-2' } });
    write('.config/containers/auth.json', { 'b.test': { username: 'containers', password: 'pw-containers-3' }, 'both.test': { username: 'containers', password: 'pw-containers-4' } });
    write('.docker/config.json', { 'c.test': { username: 'docker', password: 'pw-docker-5' } });
    const creds = (env: NodeJS.ProcessEnv) => resolveCredentials({ dockerConfig: true }, { env: { HOME: home, ...env } });
    // Act / Assess: XDG_RUNTIME_DIR's auth.json first, then ~/.config/containers, then docker's
    const xdg = creds({ XDG_RUNTIME_DIR: join(home, 'run') });
    expect(await xdg.credentialsFor('a.test')).toEqual({ username: 'podman', password: 'pw-podman-1' });
    expect(await xdg.credentialsFor('both.test')).toEqual({ username: 'podman', password: 'pw-podman-2' });
    expect(await xdg.credentialsFor('b.test')).toEqual({ username: 'containers', password: 'pw-containers-3' });
    expect(await xdg.credentialsFor('c.test')).toEqual({ username: 'docker', password: 'pw-docker-5' });
    expect(await xdg.credentialsFor('none.test')).toBeUndefined();
    // REGISTRY_AUTH_FILE names the podman file instead; without either, ~/.config/containers answers for both.test
    expect(await creds({ REGISTRY_AUTH_FILE: podman }).credentialsFor('both.test')).toEqual({ username: 'podman', password: 'pw-podman-2' });
    expect(await creds({}).credentialsFor('both.test')).toEqual({ username: 'containers', password: 'pw-containers-4' });
    expect(await creds({}).credentialsFor('a.test')).toBeUndefined();
  });

  it('gives no credentials without a reference (anonymous)', async () => {
    expect(await resolveCredentials(undefined).credentialsFor('quay.io')).toBeUndefined();
  });

  it('refuses iamRole: it is the ECR adapter\'s', () => {
    expect(() => resolveCredentials({ iamRole: 'arn:aws:iam::123456789012:role/x' }, { registryName: 'harbor' }))
      .toThrow(/iamRole arn:aws:iam::123456789012:role\/x is an ECR credential reference; only an ecr registry can use it \(registry "harbor"\)/);
  });
});
