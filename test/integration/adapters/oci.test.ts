// The generic OCI adapter over real registries (htpasswd and token auth), credentials from a fake Secrets Manager.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { OciRegistryConfig } from '../../../functions/config/types.ts';
import { isOciError } from '../../../functions/oci/errors.ts';
import { redact } from '../../../functions/oci/redact.ts';
import type { RegistryAdapter } from '../../../functions/registries/adapter.ts';
import { CredentialError, UnsupportedOperationError } from '../../../functions/registries/errors.ts';
import { createOciAdapter } from '../../../functions/registries/oci/adapter.ts';
import { SecretsManagerResolver } from '../../../functions/registries/secrets.ts';
import { pushImage } from '../../helpers/images.ts';
import { startRegistry, startTokenRegistry, type RunningRegistry, type TokenRegistry } from '../../helpers/registry.ts';
import { describeAdapterContract } from './contract.ts';

/** Canaries: if one of these shows up in an error message, a secret leaked. */
const HT_PASSWORD = `canary-ht-${randomBytes(8).toString('hex')}`;
const TOKEN_PASSWORD = `canary-tok-${randomBytes(8).toString('hex')}`;
const WRONG_PASSWORD = `canary-wrong-${randomBytes(8).toString('hex')}`;
const HT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:regman/harbor-AbCdEf';
const TOKEN_SECRET = 'regman/quay';

// Secrets Manager cannot run here: its client is mocked; the registries are real.
const sm = mockClient(SecretsManagerClient);
const secretValues = new Map<string, string>([
  [HT_ARN, JSON.stringify({ username: 'alice', password: HT_PASSWORD })],
  [TOKEN_SECRET, JSON.stringify({ auths: { 'quay.example': { auth: Buffer.from(`ci:${TOKEN_PASSWORD}`).toString('base64') } } })],
  ['regman/wrong', JSON.stringify({ username: 'alice', password: WRONG_PASSWORD })],
  ['regman/bad-json', `{"username": "alice", "password": "${WRONG_PASSWORD}"`],
]);
sm.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
  const value = secretValues.get(input.SecretId);
  if (value === undefined) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' });
  return { SecretString: value };
});

function secrets(): SecretsManagerResolver {
  return new SecretsManagerResolver({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });
}

function ociConfig(url: string, credentials: OciRegistryConfig['credentials']): OciRegistryConfig {
  return { kind: 'oci', url, insecure: false, public: false, credentials };
}

describeAdapterContract('oci (htpasswd)', async () => {
  const reg = await startRegistry({ htpasswd: { alice: HT_PASSWORD } });
  const adapter = createOciAdapter('harbor', ociConfig(reg.url, { secretArn: HT_ARN }), { secrets: secrets() });
  return {
    adapter,
    pushUrl: reg.url,
    pushAuth: { creds: { username: 'alice', password: HT_PASSWORD } },
    skopeoCreds: `alice:${HT_PASSWORD}`,
    stop: () => reg.stop(),
  };
});

describeAdapterContract('oci (token auth)', async () => {
  const reg = await startTokenRegistry({
    users: { ci: { password: TOKEN_PASSWORD, catalog: true, access: [{ repository: '**', actions: ['pull', 'push', 'delete'] }] } },
  });
  // The secret is a docker config whose only entry names another host: the only entry is used.
  const adapter = createOciAdapter('quay', ociConfig(reg.url, { secretName: TOKEN_SECRET }), { secrets: secrets() });
  return {
    adapter,
    pushUrl: reg.url,
    pushAuth: { creds: { username: 'ci', password: TOKEN_PASSWORD } },
    skopeoCreds: `ci:${TOKEN_PASSWORD}`,
    stop: () => reg.stop(),
  };
});

describe('oci adapter: failures name the registry and never carry a secret', () => {
  let basic: RunningRegistry;
  let token: TokenRegistry;
  const adapters: RegistryAdapter[] = [];
  const make = (name: string, url: string, credentials: OciRegistryConfig['credentials']): RegistryAdapter => {
    const a = createOciAdapter(name, ociConfig(url, credentials), { secrets: secrets(), env: {} });
    adapters.push(a);
    return a;
  };
  const errorOf = async (p: Promise<unknown>): Promise<Error> => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  };
  const assertNoCanary = (err: Error): void => {
    const text = `${err.message}\n${err.stack ?? ''}\n${String((err as { cause?: unknown }).cause ?? '')}`;
    for (const canary of [HT_PASSWORD, TOKEN_PASSWORD, WRONG_PASSWORD]) {
      expect(text).not.toContain(canary);
      expect(redact(`x ${canary} y`)).toBe('x *** y');
    }
  };

  beforeAll(async () => {
    [basic, token] = await Promise.all([
      startRegistry({ htpasswd: { alice: HT_PASSWORD } }),
      startTokenRegistry({
        users: {
          ci: { password: TOKEN_PASSWORD, catalog: true, access: [{ repository: '**', actions: ['pull', 'push', 'delete'] }] },
          // No `registry:catalog:*` grant: like GHCR or Quay for a robot account.
          robot: { password: `robot-${TOKEN_PASSWORD}`, access: [{ repository: '**', actions: ['pull'] }] },
        },
      }),
    ]);
    await pushImage(basic, 'team/app', 'v1', { creds: { username: 'alice', password: HT_PASSWORD }, layers: [256] });
    secretValues.set('regman/robot', JSON.stringify({ username: 'robot', password: `robot-${TOKEN_PASSWORD}` }));
  });

  afterAll(async () => {
    for (const a of adapters) a.close();
    await Promise.all([basic?.stop(), token?.stop()]);
  });

  it('refuses a wrong password with UNAUTHORIZED naming the host, without the password', async () => {
    const err = await errorOf(make('harbor', basic.url, { secretName: 'regman/wrong' }).ping());
    expect(isOciError(err, 'UNAUTHORIZED')).toBe(true);
    expect(err.message).toContain(basic.host);
    assertNoCanary(err);
  });

  it('reports a secret with broken JSON by its name, without its content', async () => {
    const err = await errorOf(make('harbor', basic.url, { secretName: 'regman/bad-json' }).listImages('team/app'));
    expect(err).toBeInstanceOf(CredentialError);
    expect(err.message).toMatch(/secret regman\/bad-json \(credentials of registry "harbor"\) starts with "\{" but is not valid JSON/);
    assertNoCanary(err);
  });

  it('reports a missing secret by its name and what to check', async () => {
    const err = await errorOf(make('harbor', basic.url, { secretName: 'regman/absent' }).ping());
    expect(err).toBeInstanceOf(CredentialError);
    expect(err.message).toMatch(/cannot read Secrets Manager secret "regman\/absent": ResourceNotFoundException.*check the secret ARN or name and its region/);
  });

  it('reads env credentials at run time', async () => {
    const env: NodeJS.ProcessEnv = {};
    const a = createOciAdapter('harbor', ociConfig(basic.url, { env: 'HARBOR' }), { env });
    adapters.push(a);
    expect((await errorOf(a.ping())).message).toMatch(/HARBOR_USERNAME and HARBOR_PASSWORD are not set/);
    env.HARBOR_USERNAME = 'alice';
    env.HARBOR_PASSWORD = HT_PASSWORD;
    // A fresh adapter: the OCI client keeps the credentials it first read for its lifetime.
    const b = createOciAdapter('harbor', ociConfig(basic.url, { env: 'HARBOR' }), { env });
    adapters.push(b);
    await expect(b.ping()).resolves.toBeUndefined();
  });

  it('says the catalog is not allowed when the registry refuses it to valid credentials', async () => {
    const robot = make('quay', token.url, { secretName: 'regman/robot' });
    const err = await errorOf(robot.listRepositories());
    expect(err).toBeInstanceOf(UnsupportedOperationError);
    expect(err.message).toMatch(new RegExp(`registry "quay" \\(${token.host}\\) does not allow listing its catalog .*; name repositories in the config`));
    assertNoCanary(err);
  });

  it('reports bad credentials, not "catalog not allowed", when the catalog is refused to a wrong password', async () => {
    const err = await errorOf(make('harbor', basic.url, { secretName: 'regman/wrong' }).listRepositories());
    expect(err).not.toBeInstanceOf(UnsupportedOperationError);
    expect(isOciError(err, 'UNAUTHORIZED')).toBe(true);
  });

  // Distribution answers tags/list with 404 NAME_UNKNOWN both for a repository that does not exist
  // and for one that holds only untagged manifests (an index's children before its tag). The second
  // is common mid-replication, so both list as empty; the CLI says which two things it may mean.
  it('lists a repository that does not exist as empty, not as an error', async () => {
    await expect(make('harbor', basic.url, { secretArn: HT_ARN }).listImages('no/such')).resolves.toEqual([]);
  });

  it('refuses to tag from something that is not a digest', async () => {
    const err = await errorOf(make('harbor', basic.url, { secretArn: HT_ARN }).tagImage('team/app', 'v1', 'copy'));
    expect(isOciError(err, 'INVALID_REFERENCE')).toBe(true);
    expect(err.message).toMatch(/"v1" is not a digest/);
  });
});
