// The Azure Container Registry adapter: ACR's /acr/v1 API for listing, the OCI client (with ACR's token
// exchange) for the data plane, tagging and deletion. No Azure SDK: see rest.ts, exchange.ts and aad.ts.
import type { AcrRegistryConfig } from '../../config/types.ts';
import { OciError, isNotFoundError, isOciError } from '../../oci/errors.ts';
import type { CredentialProvider, Credentials } from '../../oci/credentials.ts';
import type { Transport } from '../../oci/transport.ts';
import type { ImageInfo, ListImagesOptions, RegistryAdapter } from '../adapter.ts';
import { CredentialError } from '../errors.ts';
import { acrIdentity, AcrSecretIdentity, type AcrAdapterDeps, type AcrIdentity } from './credentials.ts';
import { AcrAadCredentialProvider, type AcrEndpoint } from './exchange.ts';
import { listAcrImages } from './listing.ts';
import { acrManifests, acrRepositories } from './rest.ts';
import { RotatingRegistry } from '../rotating-registry.ts';
import { listImagesViaOci } from '../oci/listing.ts';

export type { AcrAdapterDeps } from './credentials.ts';

/** `<name>.azurecr.io` unless the config names the login server (other clouds, custom domains). */
export function acrLoginServer(config: Pick<AcrRegistryConfig, 'name' | 'loginServer'>): string {
  if (config.loginServer) return config.loginServer.toLowerCase();
  if (config.name) return `${config.name.toLowerCase()}.azurecr.io`;
  throw new OciError('an acr registry needs name or loginServer', { code: 'INVALID_REFERENCE' });
}

/**
 * Adds what to check to a refusal from ACR's /acr/v1 API; other errors pass unchanged (a
 * CredentialError or an exchange refusal already say what to check).
 */
function withRoleHint(action: string, host: string, err: unknown): unknown {
  if (!isOciError(err) || err instanceof CredentialError || (err.code !== 'UNAUTHORIZED' && err.code !== 'DENIED') || /AcrPull/.test(err.message)) return err;
  return new OciError(`${action} on ACR ${host} failed: ${err.message}; check that the identity has AcrPull (and AcrPush/AcrDelete to write) on the registry`, {
    code: err.code, registry: host, retryable: err.retryable, cause: err, ...(err.status !== undefined ? { status: err.status } : {}),
  });
}

/**
 * An Azure Container Registry. With an AAD identity (service principal, workload or managed identity)
 * or anonymously, listing uses ACR's /acr/v1 API, which lists untagged manifests (index children,
 * referrers) too; with a username/password (admin user, repository-scoped token), which may lack
 * `metadata_read`, the adapter lists through the OCI API. Deletion is the OCI manifest DELETE by digest.
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

  /** The transport for /acr/v1 calls, or undefined when the identity is a username/password (list through the OCI API). */
  const acrApi = async (): Promise<Transport | undefined> => ((await resolveIdentity()).kind === 'basic' ? undefined : (await oci.client()).transport);

  return {
    name,
    kind: 'acr',
    host: wireHost,
    namespace: '',
    oci,
    credentials,
    ping: () => oci.ping(),
    async listRepositories(): Promise<string[]> {
      const transport = await acrApi();
      if (transport === undefined) return oci.catalog();
      return acrRepositories(transport).catch((err: unknown) => Promise.reject(withRoleHint('list repositories', wireHost, err)));
    },
    async listImages(repository: string, options?: ListImagesOptions): Promise<ImageInfo[]> {
      const transport = await acrApi();
      if (transport === undefined) return listImagesViaOci(oci, repository, options);
      return listAcrImages(acrManifests(transport, repository, options?.signal), oci, repository, options)
        .catch((err: unknown) => Promise.reject(withRoleHint(`list images of ${repository}`, wireHost, err)));
    },
    async tagImage(repository: string, digest: string, tag: string): Promise<void> {
      // ACR's API has no "add tag"; PUT the same manifest bytes under the tag (no blob moves).
      const manifest = await oci.manifestGet(repository, digest);
      await oci.manifestPut(repository, tag, manifest);
    },
    async deleteImage(repository: string, digest: string): Promise<void> {
      if ((await resolveIdentity()).kind === 'basic') return oci.manifestDelete(repository, digest);
      try {
        await oci.manifestDelete(repository, digest);
      } catch (err) {
        // Gone already: done, as @azure/container-registry's delete (202 or 404) treated it.
        if (isNotFoundError(err)) return;
        throw withRoleHint(`delete ${repository}@${digest}`, wireHost, err);
      }
    },
    close(): void {
      oci.close();
    },
  };
}
