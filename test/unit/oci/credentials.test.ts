import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChainCredentialProvider, DockerConfigCredentialProvider, EnvCredentialProvider, StaticCredentialProvider, normaliseHost,
  type CredentialProvider,
} from '../../../functions/oci/credentials.ts';
import { redact } from '../../../functions/oci/redact.ts';

describe('credential providers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'regman-creds-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
          '127.0.0.1:5000': { username: 'alice', password: 'alice-pw-1' },
          'ghcr.io': { identitytoken: 'refresh-token-xyz' },
        },
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['docker.io', { username: 'hubuser', password: 'hub:pass' }],
    ['127.0.0.1:5000', { username: 'alice', password: 'alice-pw-1' }],
    ['ghcr.io', { identityToken: 'refresh-token-xyz' }],
    ['quay.io', undefined],
  ])('docker config gives %s its entry', async (host, expected) => {
    const provider = new DockerConfigCredentialProvider({ path: join(dir, 'config.json') });
    expect(await provider.credentialsFor(host)).toEqual(expected);
  });

  it('honours DOCKER_CONFIG and registers what it reads as secret', async () => {
    const provider = new DockerConfigCredentialProvider({ env: { DOCKER_CONFIG: dir } });
    expect(await provider.credentialsFor('127.0.0.1:5000')).toEqual({ username: 'alice', password: 'alice-pw-1' });
    expect(redact('oops alice-pw-1')).toBe('oops ***');
  });

  it('treats a missing config file as no credentials', async () => {
    const provider = new DockerConfigCredentialProvider({ path: join(dir, 'absent.json') });
    expect(await provider.credentialsFor('docker.io')).toBeUndefined();
  });

  it('reads REGMAN_USERNAME / REGMAN_PASSWORD', async () => {
    expect(await new EnvCredentialProvider({ REGMAN_USERNAME: 'u', REGMAN_PASSWORD: 'env-pw-2' }).credentialsFor('any')).toEqual({ username: 'u', password: 'env-pw-2' });
    expect(await new EnvCredentialProvider({}).credentialsFor('any')).toBeUndefined();
  });

  it('static providers answer for every host or per host', async () => {
    expect(await new StaticCredentialProvider({ username: 'a', password: 'static-pw' }).credentialsFor('x')).toEqual({ username: 'a', password: 'static-pw' });
    const perHost = new StaticCredentialProvider({ 'https://index.docker.io/v1/': { username: 'h', password: 'hub-pw-3' } });
    expect(await perHost.credentialsFor('docker.io')).toEqual({ username: 'h', password: 'hub-pw-3' });
    expect(await perHost.credentialsFor('ghcr.io')).toBeUndefined();
  });

  it('a chain tries each provider in turn', async () => {
    const calls: string[] = [];
    const none: CredentialProvider = { credentialsFor: async () => (calls.push('none'), undefined) };
    const some: CredentialProvider = { credentialsFor: async () => (calls.push('some'), { username: 'c', password: 'chain-pw' }) };
    const never: CredentialProvider = { credentialsFor: async () => (calls.push('never'), undefined) };
    expect(await new ChainCredentialProvider(none, some, never).credentialsFor('h')).toEqual({ username: 'c', password: 'chain-pw' });
    expect(calls).toEqual(['none', 'some']);
  });

  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['HTTP://Example.com:5000/path', 'example.com:5000'],
  ])('normalises %s to %s', (key, host) => {
    expect(normaliseHost(key)).toBe(host);
  });
});
