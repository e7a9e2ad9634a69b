// The adapter for any OCI distribution registry (Harbor, Quay, GHCR, zot, distribution): all through the OCI API.
import { RegistryClient } from '../../oci/client.ts';
import { isDigest } from '../../oci/digest.ts';
import { OciError, isOciError } from '../../oci/errors.ts';
import type { OciRegistryConfig } from '../../config/types.ts';
import type { ImageInfo, ListImagesOptions, RegistryAdapter } from '../adapter.ts';
import { credentialsFromDeps, type AdapterDeps } from '../deps.ts';
import { UnsupportedOperationError } from '../errors.ts';
import { listImagesViaOci } from './listing.ts';

/**
 * A generic OCI registry. Auth is whatever the registry's challenge asks for (Basic, or Bearer from
 * its token realm) with the configured credentials. `http://` URLs (loopback only, or with
 * `insecure: true`, as the config schema enforces) talk plain HTTP; `insecure` also accepts any TLS
 * certificate.
 *
 * - listRepositories: `GET /v2/_catalog`, which many registries restrict (GHCR, Docker Hub, Quay
 *   without a superuser token); then a clear UnsupportedOperationError.
 * - listImages: tags/list + manifests (listImagesViaOci); no push or pull times.
 * - tagImage: GET the raw manifest by digest, PUT the same bytes under the tag (no blob moves).
 * - deleteImage: DELETE by digest (distribution refuses DELETE by tag).
 *
 * @example
 * const harbor = createOciAdapter('harbor', { kind: 'oci', url: 'https://harbor.example.com', insecure: false, public: false,
 *   credentials: { secretName: 'regman/harbor' } }, { secrets });
 */
export function createOciAdapter(name: string, config: OciRegistryConfig, deps: AdapterDeps = {}): RegistryAdapter {
  const url = new URL(config.url);
  const configuredHost = url.host;
  const credentials = credentialsFromDeps(name, config.credentials, deps);
  const client = new RegistryClient({
    ...deps.ociOptions,
    host: configuredHost,
    plainHttp: url.protocol === 'http:',
    insecure: config.insecure,
    credentials,
    ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}),
    ...deps.ociEndpoint?.(configuredHost),
  });
  const where = `registry "${name}" (${client.host})`;

  return {
    name,
    kind: 'oci',
    host: client.host,
    namespace: '',
    oci: client,
    credentials,

    ping: () => client.ping(),

    async listRepositories(): Promise<string[]> {
      try {
        return await client.catalog();
      } catch (err) {
        if (!isOciError(err) || !['UNAUTHORIZED', 'DENIED', 'NOT_FOUND', 'UNSUPPORTED', 'NAME_UNKNOWN'].includes(err.code)) throw err;
        // A refused catalog can mean bad credentials too: when the API check fails as well, that error is the one to show.
        await client.ping();
        throw new UnsupportedOperationError(
          `${where} does not allow listing its catalog (${err.message}); name repositories in the config (replication rules, --repository)`,
          { registryName: name, registry: client.host, cause: err },
        );
      }
    },

    listImages(repository: string, options?: ListImagesOptions): Promise<ImageInfo[]> {
      return listImagesViaOci(client, repository, options);
    },

    async tagImage(repository: string, digest: string, tag: string): Promise<void> {
      if (!isDigest(digest)) {
        throw new OciError(`tag ${repository}:${tag} on ${where}: "${digest}" is not a digest (sha256:<64 hex>)`, { code: 'INVALID_REFERENCE' });
      }
      // The same bytes under a new name: the registry already has every blob, nothing else moves.
      const manifest = await client.manifestGet(repository, digest);
      await client.manifestPut(repository, tag, { raw: manifest.raw, mediaType: manifest.mediaType });
    },

    deleteImage: (repository: string, digest: string) => client.manifestDelete(repository, digest),

    close: () => client.close(),
  };
}
