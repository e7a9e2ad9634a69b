// ECR registry credentials: GetAuthorizationToken decoded, cached, refreshed before expiry, shared, redacted; AWS credentials for iamRole.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { EcrTokenProvider } from '../../../functions/registries/ecr/auth.ts';
import { createEcrAdapter } from '../../../functions/registries/ecr/adapter.ts';
import { CredentialError } from '../../../functions/registries/errors.ts';
import { redact } from '../../../functions/oci/redact.ts';
import { awsError, CONFIG, HOST, harness, tokenOf, type Harness } from './ecr-support.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

let h: Harness | undefined;
afterEach(() => {
  h?.adapter.close();
  h?.mock.restore();
  h = undefined;
});

/** A provider over a fake GetAuthorizationToken that hands out pw-1, pw-2, … each valid 12 h from `clock.now`. */
function provider(clock: { now: number }, fail?: () => boolean) {
  let n = 0;
  const fetchAuthorization = vi.fn(async () => {
    await new Promise((r) => setImmediate(r)); // a real call takes a while: callers overlap
    if (fail?.()) throw new Error('GetAuthorizationToken is down');
    n++;
    return { authorizationToken: tokenOf(`pw-${n}-canary`), expiresAt: new Date(clock.now + 12 * HOUR) };
  });
  const tokens = new EcrTokenProvider({ registryName: 'ecr-main', host: HOST, fetchAuthorization, now: () => clock.now });
  return { tokens, fetchAuthorization };
}

describe('EcrTokenProvider', () => {
  it('decodes AWS:<password> and answers only for its own host', async () => {
    const { tokens } = provider({ now: 0 });
    await expect(tokens.credentialsFor(HOST)).resolves.toEqual({ username: 'AWS', password: 'pw-1-canary' });
    await expect(tokens.credentialsFor('ghcr.io')).resolves.toBeUndefined();
  });

  it('caches the token, and concurrent callers share one GetAuthorizationToken call', async () => {
    // Prepare
    const { tokens, fetchAuthorization } = provider({ now: 0 });

    // Act
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens.credentialsFor(HOST)));
    const later = await tokens.credentialsFor(HOST);

    // Assess
    expect(fetchAuthorization).toHaveBeenCalledTimes(1);
    expect(new Set([...all, later].map((c) => c?.password))).toEqual(new Set(['pw-1-canary']));
  });

  it('refreshes 5 minutes before expiry, not earlier, once for concurrent callers', async () => {
    // Prepare
    const clock = { now: 0 };
    const { tokens, fetchAuthorization } = provider(clock);
    await tokens.credentialsFor(HOST);

    // Act + Assess: 6 minutes before expiry the cached token is still handed out.
    clock.now = 12 * HOUR - 6 * MIN;
    expect((await tokens.credentialsFor(HOST))?.password).toBe('pw-1-canary');
    expect(fetchAuthorization).toHaveBeenCalledTimes(1);

    // 4 minutes before expiry: refreshed, before the old token lapses, by one call for all.
    clock.now = 12 * HOUR - 4 * MIN;
    const refreshed = await Promise.all([tokens.credentialsFor(HOST), tokens.credentialsFor(HOST), tokens.credentialsFor(HOST)]);
    expect(refreshed.map((c) => c?.password)).toEqual(['pw-2-canary', 'pw-2-canary', 'pw-2-canary']);
    expect(fetchAuthorization).toHaveBeenCalledTimes(2);
  });

  it('keeps the old token when an early refresh fails, and fails once it has expired', async () => {
    // Prepare
    const clock = { now: 0 };
    let down = false;
    const { tokens } = provider(clock, () => down);
    await tokens.credentialsFor(HOST);
    down = true;

    // Act + Assess
    clock.now = 12 * HOUR - 2 * MIN;
    expect((await tokens.credentialsFor(HOST))?.password).toBe('pw-1-canary');
    clock.now = 12 * HOUR + 1;
    await expect(tokens.credentialsFor(HOST)).rejects.toThrow(/down/);
    down = false;
    expect((await tokens.credentialsFor(HOST))?.password).toBe('pw-2-canary');
  });

  it('assumes a 12-hour token when ECR sends no expiresAt', async () => {
    const clock = { now: 1000 };
    const fetchAuthorization = vi.fn(async () => ({ authorizationToken: tokenOf('no-expiry-pw') }));
    const tokens = new EcrTokenProvider({ registryName: 'ecr-main', host: HOST, fetchAuthorization, now: () => clock.now });
    expect((await tokens.token()).expiresAt).toBe(1000 + 12 * HOUR);
  });

  it('registers the password and the raw token with the redactor', async () => {
    const { tokens } = provider({ now: 0 });
    await tokens.token();
    expect(redact(`pw=pw-1-canary token ${tokenOf('pw-1-canary')}`)).not.toMatch(/pw-1-canary|QVdTOnB3LTEtY2FuYXJ5/);
  });

  it('refuses a token that is not base64 of user:password without quoting it', async () => {
    const canary = 'no-colon-canary-4242';
    const tokens = new EcrTokenProvider({
      registryName: 'ecr-main', host: HOST,
      fetchAuthorization: async () => ({ authorizationToken: Buffer.from(canary).toString('base64') }),
    });
    const err = await tokens.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as Error).message).toMatch(/not base64 of "<user>:<password>"/);
    expect((err as Error).message).not.toContain(canary);
    expect((err as Error).message).not.toContain(Buffer.from(canary).toString('base64'));
  });
});

describe('ECR adapter credentials', () => {
  it('gets the token through GetAuthorizationToken without the deprecated registryIds', async () => {
    // Prepare
    h = harness();
    h.mock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: tokenOf('adapter-pw'), expiresAt: new Date(Date.now() + HOUR) }] });

    // Act
    const creds = await h.adapter.credentials.credentialsFor(HOST);

    // Assess
    expect(creds).toEqual({ username: 'AWS', password: 'adapter-pw' });
    expect(h.mock.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({});
    expect(h.adapter.host).toBe(HOST);
  });

  it('fails with a typed error when ECR returns no authorization data', async () => {
    h = harness();
    h.mock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(h.adapter.credentials.token()).rejects.toMatchObject({ name: 'EcrError', code: 'UNAUTHORIZED', operation: 'GetAuthorizationToken' });
  });

  it('switches the data plane to a new OCI client when the token is refreshed', async () => {
    // Prepare
    const clock = { now: 0 };
    h = harness({ now: () => clock.now });
    h.mock
      .on(GetAuthorizationTokenCommand)
      .resolvesOnce({ authorizationData: [{ authorizationToken: tokenOf('first-pw'), expiresAt: new Date(HOUR) }] })
      .resolves({ authorizationData: [{ authorizationToken: tokenOf('second-pw'), expiresAt: new Date(13 * HOUR) }] });

    // Act
    const first = await h.adapter.oci.client();
    const same = await h.adapter.oci.client();
    clock.now = HOUR - MIN;
    const second = await h.adapter.oci.client();

    // Assess
    expect(same).toBe(first);
    expect(second).not.toBe(first);
    expect(second.host).toBe(HOST);
    expect(h.mock.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(2);
  });

  it('points the data plane at an endpoint override (tests, VPC endpoints)', () => {
    h = harness({ ociEndpoint: (host) => (host === HOST ? { host: '127.0.0.1:5999', plainHttp: true } : undefined) });
    expect(h.adapter.host).toBe('127.0.0.1:5999');
    expect(h.adapter.oci.host).toBe('127.0.0.1:5999');
  });

  it('assumes credentials.iamRole through the injected provider and builds the ECR client with it', async () => {
    // Prepare
    const roleCreds = async () => ({ accessKeyId: 'AKIDROLE', secretAccessKey: 'role-secret' });
    const assumeRole = vi.fn(() => roleCreds);
    const factory = vi.fn((region: string) => new ECRClient({ region }));
    const role = 'arn:aws:iam::210987654321:role/regman-reader';

    // Act
    const adapter = createEcrAdapter('ecr-x', { ...CONFIG, credentials: { iamRole: role } }, { assumeRole, ecrClientFactory: factory });
    adapter.close();

    // Assess
    expect(assumeRole).toHaveBeenCalledWith(role, 'eu-west-1');
    expect(factory).toHaveBeenCalledWith('eu-west-1', roleCreds);
  });

  it('assumes iamRole with @aws-sdk/credential-providers, or says to install it', async () => {
    // Prepare
    let credentials: unknown;
    const role = 'arn:aws:iam::210987654321:role/regman-reader';
    createEcrAdapter('ecr-x', { ...CONFIG, credentials: { iamRole: role } }, {
      ecrClientFactory: (region, c) => {
        credentials = c;
        return new ECRClient({ region });
      },
    }).close();

    // Assess: a lazy provider; it is only called (which would reach STS) when the package is absent.
    expect(typeof credentials).toBe('function');
    if (!existsSync('node_modules/@aws-sdk/credential-providers')) {
      const err = await (credentials as () => Promise<unknown>)().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialError);
      expect((err as Error).message).toMatch(/cannot assume arn:aws:iam::210987654321:role\/regman-reader: the package @aws-sdk\/credential-providers is not installed/);
    }
  });

  it('uses the caller\'s own AWS credentials when the config names none', () => {
    const factory = vi.fn((region: string) => new ECRClient({ region }));
    createEcrAdapter('ecr-x', CONFIG, { ecrClientFactory: factory }).close();
    expect(factory).toHaveBeenCalledWith('eu-west-1', undefined);
  });

  it('refuses a Secrets Manager reference for ECR, saying what to use instead', () => {
    const make = (): unknown => createEcrAdapter('ecr-x', { ...CONFIG, credentials: { secretName: 'ecr/pw' } }, { ecrClientFactory: (r) => new ECRClient({ region: r }) });
    expect(make).toThrow(CredentialError);
    expect(make).toThrow(/credentials\.secretName is not supported for ECR.*iamRole/);
  });
});

describe('a canary secret never reaches an error', () => {
  it('is redacted from ECR errors that quote it, and from data-plane errors', async () => {
    // Prepare
    const canary = `canary-${Math.random().toString(36).slice(2)}-token`;
    h = harness({ ociEndpoint: () => ({ host: '127.0.0.1:9', plainHttp: true }), ociOptions: { retry: { maxAttempts: 1 } } });
    h.mock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: tokenOf(canary), expiresAt: new Date(Date.now() + HOUR) }] });
    h.mock.on(DescribeRepositoriesCommand).rejects(awsError('AccessDeniedException', `User is not authorized; token was ${canary} (${tokenOf(canary)})`));

    // Act
    const errors: unknown[] = [];
    await h.adapter.ping().catch((e: unknown) => errors.push(e)); // nothing listens on port 9
    await h.adapter.listRepositories().catch((e: unknown) => errors.push(e));

    // Assess
    expect(errors).toHaveLength(2);
    for (const err of errors) {
      const cause = (err as Error).cause as Error | undefined;
      const text = `${(err as Error).message} ${String(err)} ${JSON.stringify(err)} ${cause?.message ?? ''} ${cause?.stack ?? ''}`;
      expect(text).not.toContain(canary);
      expect(text).not.toContain(tokenOf(canary));
    }
    expect(errors[1]).toMatchObject({ code: 'DENIED', awsCode: 'AccessDeniedException', message: expect.stringMatching(/ecr:DescribeRepositories/) });
  });
});
