// ACR: login server mapping, identity choice per credential reference, and the listing's field mapping.
import { describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '../../../functions/registries/acr/aad.ts';
import { acrIdentity, AcrSecretIdentity, parseServicePrincipal } from '../../../functions/registries/acr/credentials.ts';
import { acrLoginServer, createAcrAdapter } from '../../../functions/registries/acr/adapter.ts';
import { completeFromManifest, imageFromAcrAttributes } from '../../../functions/registries/acr/listing.ts';
import { parseManifest } from '../../../functions/oci/manifest.ts';
import { redact } from '../../../functions/oci/redact.ts';
import type { SecretResolver } from '../../../functions/registries/secrets.ts';

const fixed: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: 't', expiresOnTimestamp: 0 }) };

describe('ACR hosts', () => {
  it('maps name to <name>.azurecr.io, and prefers loginServer', () => {
    expect(acrLoginServer({ name: 'MyRegistry' })).toBe('myregistry.azurecr.io');
    expect(acrLoginServer({ name: 'x', loginServer: 'myreg.azurecr.cn' })).toBe('myreg.azurecr.cn');
  });

  it('builds an adapter with no namespace, on the override host when given', () => {
    const a = createAcrAdapter('a', { kind: 'acr', name: 'myregistry', public: true });
    const b = createAcrAdapter('b', { kind: 'acr', name: 'myregistry', public: true }, { ociEndpoint: () => ({ host: '127.0.0.1:9', insecure: true }) });
    expect([a.kind, a.host, a.namespace]).toEqual(['acr', 'myregistry.azurecr.io', '']);
    expect(b.host).toBe('127.0.0.1:9');
    a.close();
    b.close();
  });
});

describe('ACR identities', () => {
  it('reads service principals in our shape and in az ad sp create-for-rbac shape, and registers the secret', () => {
    expect(parseServicePrincipal('{"tenantId":"t","clientId":"c","clientSecret":"CANARY-sp-secret-1"}')).toEqual({ tenantId: 't', clientId: 'c', clientSecret: 'CANARY-sp-secret-1' });
    expect(parseServicePrincipal('{"appId":"c","password":"CANARY-sp-secret-2","tenant":"t"}')).toEqual({ tenantId: 't', clientId: 'c', clientSecret: 'CANARY-sp-secret-2' });
    expect(parseServicePrincipal('{"username":"u","password":"p"}')).toBeUndefined();
    expect(parseServicePrincipal('not json')).toBeUndefined();
    expect(redact('secret CANARY-sp-secret-2 leaked')).not.toContain('CANARY-sp-secret-2');
  });

  it('chooses the identity from the reference', async () => {
    // Prepare
    const store: Record<string, string> = {
      sp: '{"tenantId":"t","clientId":"c","clientSecret":"s3cret-value"}',
      admin: '{"username":"myregistry","password":"admin-pass"}',
    };
    const secrets: SecretResolver = { getSecret: async (ref) => store[ref.secretName ?? ''] ?? '' };
    // Act
    const override = acrIdentity('r', { secretName: 'sp' }, false, { azureCredential: fixed });
    const anonymous = acrIdentity('r', undefined, true, {});
    const managed = acrIdentity('r', undefined, false, { env: {} });
    const workload = acrIdentity('r', undefined, false, { env: { AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't', AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' } });
    const userAssigned = acrIdentity('r', undefined, false, { env: { AZURE_CLIENT_ID: 'mi-1' } });
    const envSp = acrIdentity('r', { env: 'ACR' }, false, { env: { ACR_TENANT_ID: 't', ACR_CLIENT_ID: 'c', ACR_CLIENT_SECRET: 's3cret-env' } });
    const envBasic = acrIdentity('r', { env: 'ACR' }, false, { env: { ACR_USERNAME: 'u', ACR_PASSWORD: 'p4ssword' } });
    const fromSp = acrIdentity('r', { secretName: 'sp' }, false, { secrets });
    const fromAdmin = acrIdentity('r', { secretName: 'admin' }, false, { secrets });
    // Assess
    expect(override).toMatchObject({ kind: 'aad', credential: fixed });
    expect(anonymous).toEqual({ kind: 'anonymous' });
    expect(managed).toMatchObject({ kind: 'aad', reference: 'the managed identity', credential: { source: 'system-assigned managed identity (IMDS http://169.254.169.254)' } });
    expect(workload).toMatchObject({ kind: 'aad', reference: 'the workload identity', tenant: 't', credential: { source: expect.stringMatching(/^workload identity c of tenant t/) } });
    expect(userAssigned).toMatchObject({ credential: { source: 'user-assigned managed identity mi-1 (IMDS http://169.254.169.254)' } });
    expect(envSp).toMatchObject({ kind: 'aad', reference: 'service principal from env ACR', tenant: 't' });
    expect(envBasic).toMatchObject({ kind: 'basic' });
    const basic = envBasic instanceof AcrSecretIdentity || envBasic.kind !== 'basic' ? undefined : envBasic.provider;
    expect(await basic?.credentialsFor('h')).toEqual({ username: 'u', password: 'p4ssword' });
    expect(fromSp).toBeInstanceOf(AcrSecretIdentity);
    expect(await (fromSp as AcrSecretIdentity).isServicePrincipal()).toBe(true);
    expect(await (fromAdmin as AcrSecretIdentity).isServicePrincipal()).toBe(false);
    expect(await (fromAdmin as AcrSecretIdentity).basic().credentialsFor('h')).toEqual({ username: 'myregistry', password: 'admin-pass' });
  });
});

describe('ACR listing fields', () => {
  it('maps ACR manifest attributes: tags, push time, size, referenced children', () => {
    const info = imageFromAcrAttributes({
      digest: 'sha256:aa', tags: ['v1'], createdTime: '2026-01-02T03:04:05.1234567Z', imageSize: 1234,
      references: [{ digest: 'sha256:bb' }],
    });
    expect(info).toEqual({ digest: 'sha256:aa', tags: ['v1'], pushedAt: '2026-01-02T03:04:05.123Z', sizeBytes: 1234, manifests: ['sha256:bb'] });
    // An untagged child: ACR leaves out tags (or sends null) and references.
    expect(imageFromAcrAttributes({ digest: 'sha256:cc', tags: null, createdTime: 'not a date' })).toEqual({ digest: 'sha256:cc', tags: [] });
  });

  it('completes an entry from its manifest: media type, blobs, subject and artifact type', () => {
    const d = (n: string): string => `sha256:${n.repeat(64)}`;
    const raw = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/spdx+json', digest: d('c'), size: 10 },
      layers: [{ mediaType: 'application/spdx+json', digest: d('d'), size: 20 }],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('e'), size: 30 },
    }));
    const info = imageFromAcrAttributes({ digest: 'sha256:x', tags: [], createdTime: new Date(0).toISOString() });
    completeFromManifest(info, parseManifest(raw, 'application/vnd.oci.image.manifest.v1+json'));
    expect(info).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json', subject: d('e'), artifactType: 'application/spdx+json',
      blobs: [{ digest: d('c'), size: 10 }, { digest: d('d'), size: 20 }], sizeBytes: 30,
    });
  });
});
