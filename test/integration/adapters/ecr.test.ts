// The adapter contract for ECR: a mocked control plane (aws-sdk-client-mock, backed by the registry) over a real htpasswd registry that accepts `AWS:<token>`.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEcrAdapter } from '../../../functions/registries/ecr/adapter.ts';
import { pushImage } from '../../helpers/images.ts';
import { startRegistry } from '../../helpers/registry.ts';
import { fakeEcr } from '../../helpers/fake-ecr.ts';
import { describeAdapterContract } from './contract.ts';

/** The registry password GetAuthorizationToken hands out: a canary that must never surface in an error. */
const token = `ecr-canary-${randomBytes(12).toString('hex')}`;

describeAdapterContract('ecr', async () => {
  const registry = await startRegistry({ htpasswd: { AWS: token } });
  const ecr = fakeEcr({ registryUrl: registry.url, token });
  const adapter = createEcrAdapter(
    'ecr-main',
    { kind: 'ecr', region: ecr.region, accountId: ecr.accountId, public: false },
    {
      ecrClientFactory: () => ecr.client,
      ociEndpoint: () => ({ host: registry.host, plainHttp: true }),
    },
  );
  return {
    adapter,
    pushUrl: registry.url,
    pushAuth: { creds: { username: 'AWS', password: token } },
    skopeoCreds: `AWS:${token}`,
    async stop() {
      ecr.restore();
      await registry.stop();
    },
  };
});

describe('ECR adapter over a real data plane: what the contract does not check', () => {
  it('uses the ECR host, the registry id and several pages of every listing call', async () => {
    // Prepare
    const registry = await startRegistry({ htpasswd: { AWS: token } });
    const ecr = fakeEcr({ registryUrl: registry.url, token, pageSize: 1 });
    const adapter = createEcrAdapter(
      'ecr-main',
      { kind: 'ecr', region: ecr.region, accountId: ecr.accountId, public: false },
      { ecrClientFactory: () => ecr.client, ociEndpoint: (host) => (host === `${ecr.accountId}.dkr.ecr.${ecr.region}.amazonaws.com` ? { host: registry.host, plainHttp: true } : undefined) },
    );
    try {
      const auth = { creds: { username: 'AWS', password: token } };
      await pushImage({ url: registry.url }, 'team/a', 'v1', { ...auth, layers: [100] });
      await pushImage({ url: registry.url }, 'team/a', 'v2', { ...auth, layers: [200] });
      await pushImage({ url: registry.url }, 'team/b', 'v1', { ...auth, layers: [300] });

      // Act
      const repos = await adapter.listRepositories();
      const images = await adapter.listImages('team/a');

      // Assess
      expect(repos).toEqual(['team/a', 'team/b']);
      expect(images.flatMap((i) => i.tags).sort()).toEqual(['v1', 'v2']);
      expect(ecr.calls('DescribeRepositories')).toBe(2);
      expect(ecr.calls('ListImages')).toBe(2);
      expect(ecr.calls('GetAuthorizationToken')).toBe(0); // listing needs no registry token
      for (const call of ecr.mock.calls()) {
        expect((call.args[0].input as { registryId?: string }).registryId ?? ecr.accountId).toBe(ecr.accountId);
      }
    } finally {
      adapter.close();
      ecr.restore();
      await registry.stop();
    }
  });

  it('tags idempotently: a second tagImage of the same digest is a no-op (ImageAlreadyExistsException)', async () => {
    // Prepare
    const registry = await startRegistry({ htpasswd: { AWS: token } });
    const ecr = fakeEcr({ registryUrl: registry.url, token });
    const adapter = createEcrAdapter('ecr-main', { kind: 'ecr', region: ecr.region, accountId: ecr.accountId, public: false }, {
      ecrClientFactory: () => ecr.client,
      ociEndpoint: () => ({ host: registry.host, plainHttp: true }),
    });
    try {
      const image = await pushImage({ url: registry.url }, 'team/a', 'v1', { creds: { username: 'AWS', password: token }, layers: [100] });

      // Act
      await adapter.tagImage('team/a', image.digest, 'stable');
      await adapter.tagImage('team/a', image.digest, 'stable');

      // Assess
      expect((await adapter.oci.manifestHead('team/a', 'stable'))?.digest).toBe(image.digest);
      expect(ecr.calls('PutImage')).toBe(2);
      expect((await adapter.oci.tagList('team/a')).sort()).toEqual(['stable', 'v1']);
    } finally {
      adapter.close();
      ecr.restore();
      await registry.stop();
    }
  });

  it('keeps the canary token out of the error when the registry refuses it', async () => {
    // Prepare: the registry wants another password than the one GetAuthorizationToken hands out.
    const canary = `refused-canary-${randomBytes(8).toString('hex')}`;
    const registry = await startRegistry({ htpasswd: { AWS: token } });
    const ecr = fakeEcr({ registryUrl: registry.url, token: canary });
    const adapter = createEcrAdapter('ecr-main', { kind: 'ecr', region: ecr.region, accountId: ecr.accountId, public: false }, {
      ecrClientFactory: () => ecr.client,
      ociEndpoint: () => ({ host: registry.host, plainHttp: true }),
    });
    try {
      // Act
      const err = await adapter.ping().catch((e: unknown) => e);

      // Assess
      expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
      const text = `${(err as Error).message} ${String((err as Error).stack)} ${JSON.stringify(err)}`;
      expect(text).not.toContain(canary);
      expect(text).not.toContain(Buffer.from(`AWS:${canary}`).toString('base64'));
    } finally {
      adapter.close();
      ecr.restore();
      await registry.stop();
    }
  });
});
