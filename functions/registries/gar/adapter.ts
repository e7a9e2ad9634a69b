// The Artifact Registry and Container Registry (GCR) adapters: Google access tokens on the Docker V2 API.
import type { gaxios } from 'google-auth-library';
import type { GarRegistryConfig, GcrRegistryConfig } from '../../config/types.ts';
import type { ImageInfo, ListImagesOptions, RegistryAdapter } from '../adapter.ts';
import type { AdapterDeps } from '../deps.ts';
import { googleCredentials } from './credentials.ts';
import { garHost, garNamespace, gcrHostAndNamespace, qualify, underNamespace } from './hosts.ts';
import { RotatingRegistry } from '../rotating-registry.ts';
import { listImagesViaOci } from '../oci/listing.ts';
import { withGoogleExtension } from './listing.ts';

/** A tags/list answer is JSON of names and, on Google hosts, of every manifest; far below this. */
const MAX_TAG_LIST_BYTES = 64 * 1024 * 1024;

/** Test hooks of the Google adapters, on top of the shared AdapterDeps. */
export interface GoogleAdapterDeps extends AdapterDeps {
  /**
   * The gaxios instance google-auth-library sends token requests through. google-auth-library posts
   * to https://oauth2.googleapis.com/token whatever a key file's `token_uri` says, so tests hook the
   * transporter to reach a local token endpoint instead.
   */
  readonly googleAuthTransporter?: gaxios.Gaxios;
  /** Refresh access tokens this long before they expire. @default 5 minutes */
  readonly tokenRefreshMarginMs?: number;
}

/** GAR config, plus `repository` to pin one Artifact Registry repository (not in the schema yet). */
export type GarAdapterConfig = GarRegistryConfig & { readonly repository?: string };

interface GoogleRegistry {
  readonly kind: 'gar' | 'gcr';
  readonly host: string;
  readonly namespace: string;
}

function createGoogleAdapter(
  name: string,
  where: GoogleRegistry,
  config: GarRegistryConfig | GcrRegistryConfig,
  deps: GoogleAdapterDeps,
): RegistryAdapter {
  const credentials = googleCredentials(name, config.credentials, config.public, deps, {
    ...(deps.googleAuthTransporter ? { transporter: deps.googleAuthTransporter } : {}),
    ...(deps.tokenRefreshMarginMs !== undefined ? { marginMs: deps.tokenRefreshMarginMs } : {}),
  });
  const endpoint = deps.ociEndpoint?.(where.host) ?? {};
  const oci = new RotatingRegistry(
    {
      ...deps.ociOptions,
      host: where.host,
      ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}),
      ...endpoint,
    },
    credentials,
  );
  const path = (repository: string): string => qualify(where.namespace, repository);

  return {
    name,
    kind: where.kind,
    // The wire host: the override's (tests) when given, so that references built from it resolve.
    host: endpoint.host ?? where.host,
    namespace: where.namespace,
    oci,
    credentials,
    ping: () => oci.ping(),
    // Google hosts answer `_catalog` with every repository the caller may list; keep this project's.
    listRepositories: async () => underNamespace(where.namespace, await oci.catalog()),
    async listImages(repository: string, options?: ListImagesOptions): Promise<ImageInfo[]> {
      const full = path(repository);
      const viaOci = await listImagesViaOci(oci, full, options);
      // Google's tags/list also names untagged manifests, with upload times; RegistryClient.tagList
      // keeps only `tags`, so read the answer raw.
      const rawTagList = async (): Promise<unknown> => {
        const client = await oci.client();
        const res = await client.transport.requestBuffer(
          { method: 'GET', path: `/v2/${full}/tags/list`, repository: full, expect: [200], description: `list tags of ${full}` },
          MAX_TAG_LIST_BYTES,
        );
        try {
          return JSON.parse(res.body.toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      };
      return withGoogleExtension(oci, full, viaOci, rawTagList, options);
    },
    async tagImage(repository: string, digest: string, tag: string): Promise<void> {
      // No tagging API on the Docker endpoint: PUT the same raw bytes under the tag (no blob moves).
      const manifest = await oci.manifestGet(path(repository), digest);
      await oci.manifestPut(path(repository), tag, manifest);
    },
    deleteImage: (repository: string, digest: string) => oci.manifestDelete(path(repository), digest),
    close: () => oci.close(),
  };
}

/**
 * An Artifact Registry (`<location>-docker.pkg.dev/<project>/<repository>/<image>`). Repository
 * names given to and returned by the adapter are relative to `namespace` (`<project>`, or
 * `<project>/<repository>` when the config pins one).
 *
 * @example
 * const gar = createGarAdapter('gar-eu', { kind: 'gar', project: 'my-project', location: 'europe-west1', public: false }, {});
 * await gar.listImages('docker-repo/app');
 */
export function createGarAdapter(name: string, config: GarAdapterConfig, deps: GoogleAdapterDeps = {}): RegistryAdapter {
  return createGoogleAdapter(name, { kind: 'gar', host: garHost(config), namespace: garNamespace(config) }, config, deps);
}

/**
 * A Container Registry host (`gcr.io/<project>/<image>`; GCR is served by Artifact Registry now,
 * through the same Docker API).
 */
export function createGcrAdapter(name: string, config: GcrRegistryConfig, deps: GoogleAdapterDeps = {}): RegistryAdapter {
  return createGoogleAdapter(name, { kind: 'gcr', ...gcrHostAndNamespace(config) }, config, deps);
}
