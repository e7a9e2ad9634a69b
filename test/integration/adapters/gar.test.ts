// Artifact Registry / GCR adapters over a real token-auth registry whose token server accepts
// `oauth2accesstoken` + an access token issued by a local Google token endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGarAdapter, createGcrAdapter } from '../../../functions/registries/gar/adapter.ts';
import type { RegistryAdapter } from '../../../functions/registries/adapter.ts';
import type { SecretResolver } from '../../../functions/registries/secrets.ts';
import { startTokenRegistry, type TokenRegistry } from '../../helpers/registry.ts';
import { startGoogleTokenEndpoint, type RunningGoogleTokenEndpoint } from '../../helpers/google-token-endpoint.ts';
import { pushImage } from '../../helpers/images.ts';
import { describeAdapterContract } from './contract.ts';
import { withGoogleExtension } from '../../../functions/registries/gar/listing.ts';
import { listImagesViaOci } from '../../../functions/registries/oci/listing.ts';
import { RegistryClient } from '../../../functions/oci/client.ts';
import { startRegistry } from '../../helpers/registry.ts';

/**
 * A registry that plays a Google host: its token server knows one user, `oauth2accesstoken`, whose
 * password is whatever access token the Google endpoint issued last (older ones stop working).
 */
async function startGoogleLikeRegistry(google: RunningGoogleTokenEndpoint): Promise<TokenRegistry> {
  return startTokenRegistry({
    users: {
      oauth2accesstoken: {
        get password() {
          return google.latestToken() ?? 'no-token-issued-yet';
        },
        access: [{ repository: '**', actions: ['*'] }],
        catalog: true,
      },
    },
  });
}

function secretsWith(value: string): SecretResolver {
  return { getSecret: async () => value };
}

describeAdapterContract('gar', async () => {
  const google = await startGoogleTokenEndpoint({ tokenPrefix: 'ya29.CANARY-contract-' });
  const registry = await startGoogleLikeRegistry(google);
  const adapter = createGarAdapter(
    'gar-test',
    { kind: 'gar', project: 'regman-test-project', location: 'europe-west1', public: false, credentials: { secretName: 'regman/gar-key' } },
    {
      secrets: secretsWith(google.keyJson),
      googleAuthTransporter: google.transporter(),
      ociEndpoint: () => ({ host: registry.host, plainHttp: true }),
    },
  );
  await adapter.ping(); // issues the access token the fixture pusher and skopeo use too
  const token = google.latestToken() as string;
  return {
    adapter,
    pushUrl: registry.url,
    pushAuth: { creds: { username: 'oauth2accesstoken', password: token } },
    skopeoCreds: `oauth2accesstoken:${token}`,
    async stop() {
      await registry.stop();
      await google.stop();
    },
  };
});

describe('Google registry adapters: tokens on the wire', () => {
  let google: RunningGoogleTokenEndpoint;
  let registry: TokenRegistry;

  beforeAll(async () => {
    google = await startGoogleTokenEndpoint({ tokenPrefix: 'ya29.CANARY-wire-' });
    registry = await startGoogleLikeRegistry(google);
  });
  afterAll(async () => {
    await registry?.stop();
    await google?.stop();
  });

  it('GCR: sends the access token as oauth2accesstoken to the token server, under <project>/', async () => {
    // Prepare
    const adapter = createGcrAdapter(
      'gcr-test',
      { kind: 'gcr', project: 'regman-test-project', host: 'gcr.io', public: false, credentials: { env: 'GCR' } },
      { env: { GCR_KEY_FILE: google.keyFile }, googleAuthTransporter: google.transporter(), ociEndpoint: () => ({ host: registry.host, plainHttp: true }) },
    );
    try {
      await adapter.ping();
      const creds = { username: 'oauth2accesstoken', password: google.latestToken() as string };
      const pushed = await pushImage({ url: registry.url }, 'regman-test-project/web', 'v1', { creds, layers: [256] });
      // Act
      const repos = await adapter.listRepositories();
      const images = await adapter.listImages('web');
      // Assess
      expect(repos).toContain('web');
      expect(images.map((i) => i.digest)).toContain(pushed.digest);
      const accounts = registry.tokenServer.requests.map((r) => r.account);
      expect(accounts).toContain('oauth2accesstoken');
    } finally {
      adapter.close();
    }
  });

  it('refreshes the access token before expiry, so the token server never sees a stale one', async () => {
    // Prepare: tokens of 2 s, refreshed 1 s early; the token server only takes the newest one.
    google.setExpiresIn(2);
    const adapter: RegistryAdapter = createGarAdapter(
      'gar-refresh',
      { kind: 'gar', project: 'regman-test-project', location: 'us', public: false, credentials: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k' } },
      {
        secrets: secretsWith(google.keyJson),
        googleAuthTransporter: google.transporter(),
        tokenRefreshMarginMs: 1_000,
        ociEndpoint: () => ({ host: registry.host, plainHttp: true }),
      },
    );
    try {
      await adapter.ping();
      const first = google.latestToken();
      await new Promise((r) => setTimeout(r, 1_200));
      // Act: the cached token is within the margin, so a new one is fetched and a new client takes over.
      await adapter.listRepositories();
      // Assess
      expect(google.latestToken()).not.toBe(first);
      const refused = registry.tokenServer.requests.filter((r) => r.status === 401);
      expect(refused).toEqual([]);
    } finally {
      google.setExpiresIn(3600);
      adapter.close();
    }
  });

  it('a refused token never appears in the error (canary)', async () => {
    // Prepare: a username/password secret whose password the token server does not know.
    const canary = 'ya29.CANARY-refused-token-4f1c2a';
    const adapter = createGarAdapter(
      'gar-bad',
      { kind: 'gar', project: 'regman-test-project', location: 'us', public: false, credentials: { secretName: 'bad' } },
      { secrets: secretsWith(JSON.stringify({ username: 'oauth2accesstoken', password: canary })), ociEndpoint: () => ({ host: registry.host, plainHttp: true }) },
    );
    try {
      // Act
      const err = await adapter.listRepositories().then(() => undefined, (e: unknown) => e as Error);
      // Assess
      expect(err?.message).toMatch(/refused/);
      expect(err?.message).not.toContain(canary);
      expect(String(err?.stack)).not.toContain(canary);
      expect(JSON.stringify(err)).not.toContain(canary);
    } finally {
      adapter.close();
    }
  });
});

describe('Google tags/list extension over a real data plane', () => {
  it('adds an untagged manifest the OCI walk cannot reach, completed from its manifest', async () => {
    // Prepare: one tagged image and one pushed by digest only (what an overwritten tag leaves behind).
    const registry = await startRegistry();
    const oci = new RegistryClient({ host: registry.host, plainHttp: true });
    try {
      const tagged = await pushImage({ url: registry.url }, 'p/r/app', 'v2', { layers: [64] });
      const orphan = await pushImage({ url: registry.url }, 'p/r/app', undefined, { layers: [96] });
      const viaOci = await listImagesViaOci(oci, 'p/r/app');
      // What a Google host adds to tags/list (distribution does not send it: synthesized here).
      const googleBody = {
        tags: ['v2'],
        manifest: {
          [tagged.digest]: { tag: ['v2'], timeUploadedMs: '1767225600000', imageSizeBytes: '999' },
          [orphan.digest]: { tag: [], timeUploadedMs: '1764547200000', imageSizeBytes: '123' },
        },
      };
      // Act
      const images = await withGoogleExtension(oci, 'p/r/app', viaOci, async () => googleBody);
      // Assess
      expect(viaOci.map((i) => i.digest)).not.toContain(orphan.digest);
      const byDigest = new Map(images.map((i) => [i.digest, i]));
      expect(byDigest.get(tagged.digest)?.pushedAt).toBe('2026-01-01T00:00:00.000Z');
      expect(byDigest.get(orphan.digest)).toMatchObject({ tags: [], pushedAt: '2025-12-01T00:00:00.000Z', sizeBytes: 123, mediaType: orphan.mediaType });
      expect(byDigest.get(orphan.digest)?.blobs?.map((b) => b.digest).sort()).toEqual(orphan.blobs.map((b) => b.digest).sort());
    } finally {
      oci.close();
      await registry.stop();
    }
  });
});
