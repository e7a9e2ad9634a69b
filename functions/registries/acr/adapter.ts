// The Azure Container Registry adapter: @azure/container-registry for listing and deletion, the OCI
// client (with ACR's token exchange) for the data plane and tagging.
import https from 'node:https';
import type { ContainerRegistryClient, ContainerRegistryClientOptions } from '@azure/container-registry';
import type { AcrRegistryConfig } from '../../config/types.ts';
import { OciError, isOciError, type OciErrorCode } from '../../oci/errors.ts';
import type { CredentialProvider, Credentials } from '../../oci/credentials.ts';
import { redact } from '../../oci/redact.ts';
import type { ImageInfo, ListImagesOptions, RegistryAdapter } from '../adapter.ts';
import { loadContainerRegistry } from './azure-sdk.ts';
import { acrIdentity, AcrSecretIdentity, type AcrAdapterDeps, type AcrIdentity } from './credentials.ts';
import { AcrAadCredentialProvider, ACR_DEFAULT_AUDIENCE, type AcrEndpoint } from './exchange.ts';
import { listAcrImages } from './listing.ts';
import { RotatingRegistry } from '../rotating-registry.ts';
import { listImagesViaOci } from '../oci/listing.ts';

export type { AcrAdapterDeps } from './credentials.ts';

/** `<name>.azurecr.io` unless the config names the login server (other clouds, custom domains). */
export function acrLoginServer(config: Pick<AcrRegistryConfig, 'name' | 'loginServer'>): string {
  if (config.loginServer) return config.loginServer.toLowerCase();
  if (config.name) return `${config.name.toLowerCase()}.azurecr.io`;
  throw new OciError('an acr registry needs name or loginServer', { code: 'INVALID_REFERENCE' });
}

const STATUS_CODES: Readonly<Record<number, OciErrorCode>> = { 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NOT_FOUND', 429: 'TOO_MANY_REQUESTS' };

/**
 * An SDK failure as an OciError. The SDK's RestError carries the request (headers included), so only
 * its redacted message travels on, never the object.
 */
function sdkError(action: string, host: string, err: unknown): OciError {
  if (isOciError(err)) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  const status = e.statusCode;
  const code: OciErrorCode = status !== undefined ? (STATUS_CODES[status] ?? (status >= 500 ? 'UNAVAILABLE' : 'PROTOCOL')) : 'NETWORK';
  const hint = status === 401 || status === 403 ? '; check that the identity has AcrPull (and AcrPush/AcrDelete to write) on the registry' : '';
  return new OciError(`${action} on ACR ${host} failed${status ? ` (HTTP ${status})` : ''}: ${redact(e.message ?? String(err))}${hint}`, {
    code, registry: host, retryable: status === undefined || status === 429 || status >= 500, ...(status !== undefined ? { status } : {}),
  });
}

/**
 * An Azure Container Registry. With an AAD identity (service principal, managed identity) listing
 * and deletion use ACR's API through @azure/container-registry, which lists untagged manifests
 * (index children, referrers) too; with a username/password (admin user, repository-scoped token)
 * the SDK cannot authenticate, and the adapter falls back to the OCI API.
 *
 * @example
 * const acr = createAcrAdapter('acr-prod', { kind: 'acr', name: 'myregistry', public: false, credentials: { secretName: 'regman/acr-sp' } });
 * const images = await acr.listImages('team/app');
 */
export function createAcrAdapter(name: string, config: AcrRegistryConfig, deps: AcrAdapterDeps = {}): RegistryAdapter {
  const loginServer = acrLoginServer(config);
  const override = deps.ociEndpoint?.(loginServer) ?? {};
  const wireHost = override.host ?? loginServer;
  const endpoint: AcrEndpoint = {
    host: wireHost, service: loginServer,
    ...(override.plainHttp !== undefined ? { plainHttp: override.plainHttp } : {}),
    ...(override.insecure !== undefined ? { insecure: override.insecure } : {}),
  };
  const source = acrIdentity(name, config.credentials, config.public, deps);

  let identity: Promise<AcrIdentity> | undefined;
  const resolveIdentity = (): Promise<AcrIdentity> => {
    identity ??= (async (): Promise<AcrIdentity> => {
      if (!(source instanceof AcrSecretIdentity)) return source;
      const reference = `secret ${source.ref.secretArn ?? source.ref.secretName ?? ''}`;
      return (await source.isServicePrincipal())
        ? { kind: 'aad', credential: source.credential(), reference: `service principal from ${reference}` }
        : { kind: 'basic', provider: source.basic(), reference };
    })();
    identity.catch(() => {
      identity = undefined;
    });
    return identity;
  };

  let aad: AcrAadCredentialProvider | undefined;
  const credentials: CredentialProvider = {
    async credentialsFor(host: string): Promise<Credentials | undefined> {
      const id = await resolveIdentity();
      if (id.kind === 'anonymous') return undefined;
      if (id.kind === 'basic') return id.provider.credentialsFor(host);
      aad ??= new AcrAadCredentialProvider(endpoint, id.credential, {
        reference: id.reference, registryName: name,
        ...(id.tenant ? { tenant: id.tenant } : {}),
        ...(deps.tokenRefreshMarginMs !== undefined ? { marginMs: deps.tokenRefreshMarginMs } : {}),
      });
      return aad.credentialsFor(host);
    },
  };

  const oci = new RotatingRegistry(
    { ...deps.ociOptions, host: wireHost, ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}), ...override },
    credentials,
  );

  // The SDK's own HTTPS agent: a test registry's self-signed certificate is accepted only when the
  // endpoint override says `insecure`, as for the OCI client.
  const agent = endpoint.insecure ? new https.Agent({ rejectUnauthorized: false, keepAlive: true }) : undefined;
  let sdk: ContainerRegistryClient | undefined;
  /** The SDK client, or undefined when the identity is a username/password (the SDK only speaks AAD). */
  const sdkClient = async (): Promise<ContainerRegistryClient | undefined> => {
    const id = await resolveIdentity();
    if (id.kind === 'basic') return undefined;
    if (sdk === undefined) {
      const options: ContainerRegistryClientOptions = {
        audience: ACR_DEFAULT_AUDIENCE,
        ...(endpoint.plainHttp ? { allowInsecureConnection: true } : {}),
        ...(agent ? { agent } : {}),
        ...(deps.userAgent !== undefined ? { userAgentOptions: { userAgentPrefix: deps.userAgent } } : {}),
      };
      const url = `${endpoint.plainHttp ? 'http' : 'https'}://${wireHost}`;
      const { ContainerRegistryClient: Client } = await loadContainerRegistry();
      sdk = id.kind === 'aad' ? new Client(url, id.credential, options) : new Client(url, options);
    }
    return sdk;
  };

  return {
    name,
    kind: 'acr',
    host: wireHost,
    namespace: '',
    oci,
    credentials,
    ping: () => oci.ping(),
    async listRepositories(): Promise<string[]> {
      const client = await sdkClient();
      if (client === undefined) return oci.catalog();
      const names: string[] = [];
      try {
        for await (const n of client.listRepositoryNames()) names.push(n);
      } catch (err) {
        throw sdkError('list repositories', wireHost, err);
      }
      return names;
    },
    async listImages(repository: string, options?: ListImagesOptions): Promise<ImageInfo[]> {
      const client = await sdkClient();
      if (client === undefined) return listImagesViaOci(oci, repository, options);
      try {
        return await listAcrImages(client.getRepository(repository).listManifestProperties(), oci, repository, options);
      } catch (err) {
        throw sdkError(`list images of ${repository}`, wireHost, err);
      }
    },
    async tagImage(repository: string, digest: string, tag: string): Promise<void> {
      // ACR's API has no "add tag"; PUT the same manifest bytes under the tag (no blob moves).
      const manifest = await oci.manifestGet(repository, digest);
      await oci.manifestPut(repository, tag, manifest);
    },
    async deleteImage(repository: string, digest: string): Promise<void> {
      const client = await sdkClient();
      if (client === undefined) return oci.manifestDelete(repository, digest);
      try {
        await client.getArtifact(repository, digest).delete();
      } catch (err) {
        throw sdkError(`delete ${repository}@${digest}`, wireHost, err);
      }
    },
    close(): void {
      oci.close();
      agent?.destroy();
    },
  };
}
