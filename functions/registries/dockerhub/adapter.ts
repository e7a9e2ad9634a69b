// The Docker Hub adapter: token-auth OCI data plane under a per-credential rate budget, Hub's API for listing and deleting.
//
// Docker Hub quirks kept here:
// - Pulls are rate-limited per account (per IP when anonymous) over a rolling six-hour window; a
//   manifest GET is a pull, a HEAD is not (https://docs.docker.com/docker-hub/usage/pulls/). The
//   adapter HEADs first, caches manifests by digest, and defers work through a RateBudget.
// - The registry has no `_catalog` and its `tags/list` has no metadata: repositories and tags (with
//   push/pull times and sizes) come from Hub's API (https://docs.docker.com/reference/api/hub/latest/).
// - Hub names repositories `<namespace>/<name>`, one level; the adapter's repository names are the
//   part after the namespace.
// - Deletion: Hub's API deletes tags; the registry deletes a manifest by digest only once nothing
//   refers to it ("Only untagged or unreferenced manifests can be deleted", else 403:
//   https://docs.docker.com/reference/api/registry/latest/operations/DeleteImageManifest/). So
//   deleting a digest deletes every tag that points at it, then the manifest. A digest still listed
//   by an index is refused (403) until the index goes.
import { RegistryClient } from '../../oci/client.ts';
import { OciError, isOciError } from '../../oci/errors.ts';
import { isPasswordCredentials, type CredentialProvider } from '../../oci/credentials.ts';
import type { DockerhubRegistryConfig } from '../../config/types.ts';
import type { ImageInfo, ListImagesOptions, RegistryAdapter } from '../adapter.ts';
import { credentialsFromDeps, type AdapterDeps } from '../deps.ts';
import { DockerHubApi, DOCKER_HUB_API_URL } from './api.ts';
import { CachingRegistry, budgetInterceptor } from './data-plane.ts';
import { listHubImages } from './listing.ts';
import { composeInterceptors, pacedFetch, requestRateInterceptor, sharedTokenBucket } from '../request-rate.ts';
import { RateBudget } from '../rate-budget.ts';

/** Docker Hub's registry API host; its token service is auth.docker.io, found through the Bearer challenge. */
export const DOCKER_HUB_OCI_HOST = 'registry-1.docker.io';

/** What the Docker Hub adapter takes beyond AdapterDeps. */
export interface DockerHubAdapterDeps extends AdapterDeps {
  /**
   * The budget shared by every adapter using the same credentials (keyed by registry host and
   * account). @default a new RateBudget for this adapter (reserve 0, max wait 60 s)
   */
  readonly rateBudget?: RateBudget;
  /** Base URL of Hub's API. @default https://hub.docker.com */
  readonly hubApiUrl?: string;
}

/** The Docker Hub adapter, with its budget and Hub API client exposed for callers and tests. */
export interface DockerHubAdapter extends RegistryAdapter {
  readonly kind: 'dockerhub';
  readonly budget: RateBudget;
  /** The budget key of this adapter's credential (`host|account`, or `host|anonymous`). */
  budgetKey(): Promise<string>;
  readonly api: DockerHubApi;
  /** The manifest cache in front of the data plane (hits and misses counted). */
  readonly cache: CachingRegistry;
}

/**
 * Builds the adapter of a `kind: dockerhub` registry. Nothing is contacted until it is used.
 *
 * @example
 * const hub = createDockerHubAdapter('hub', { kind: 'dockerhub', namespace: 'myorg', public: false,
 *   credentials: { secretName: 'regman/dockerhub' } }, { secrets });
 * const images = await hub.listImages('app');   // myorg/app
 */
export function createDockerHubAdapter(name: string, config: DockerhubRegistryConfig, deps: DockerHubAdapterDeps = {}): DockerHubAdapter {
  const credentials: CredentialProvider = credentialsFromDeps(name, config.credentials, deps);
  const endpoint = deps.ociEndpoint?.(DOCKER_HUB_OCI_HOST);
  const host = endpoint?.host ?? DOCKER_HUB_OCI_HOST;
  const budget = deps.rateBudget ?? new RateBudget();

  let key: Promise<string> | undefined;
  const budgetKey = (): Promise<string> => {
    key ??= (async () => {
      try {
        const c = await credentials.credentialsFor(host);
        const account = c === undefined ? 'anonymous' : isPasswordCredentials(c) ? c.username : (c.username ?? 'identity-token');
        const k = `${host}|${account}`;
        if (config.rateLimit?.pulls !== undefined) budget.seed(k, { limit: config.rateLimit.pulls, windowSeconds: config.rateLimit.windowHours * 3600 });
        return k;
      } catch (err) {
        key = undefined; // credentials unreadable now (a secret not yet there): ask again next time
        throw err;
      }
    })();
    return key;
  };
  const rps = config.rateLimit?.requestsPerSecond;
  const client = new RegistryClient({
    ...deps.ociOptions,
    host: DOCKER_HUB_OCI_HOST,
    credentials,
    ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}),
    ...endpoint,
    // 429s with a Retry-After must reach the budget (which blocks the whole credential), not be
    // slept through inside one request.
    retry: { ...deps.ociOptions?.retry, maxRetryAfterMs: 0 },
    // rateLimit.requestsPerSecond: one bucket per Docker Hub account for the whole process, outside the budget.
    intercept: composeInterceptors(
      composeInterceptors(
        deps.ociOptions?.intercept,
        rps !== undefined ? requestRateInterceptor(async () => sharedTokenBucket(`dockerhub:${await budgetKey()}`, rps)) : undefined,
      ),
      budgetInterceptor(host, {
        budget,
        budgetKey,
        // rateLimit.pulls across invocations: Hub's limit is per account, not per Lambda.
        ...(deps.sharedPullBudget && config.rateLimit?.pulls !== undefined
          ? { shared: { budget: deps.sharedPullBudget, quota: { limit: config.rateLimit.pulls, windowSeconds: config.rateLimit.windowHours * 3600 } } }
          : {}),
      }),
    ),
  });
  const cache = new CachingRegistry(client);

  const api = new DockerHubApi({
    apiUrl: deps.hubApiUrl ?? DOCKER_HUB_API_URL,
    namespace: config.namespace,
    credentials,
    credentialHost: host,
    // rateLimit.requestsPerSecond: Hub's API calls take from the same per-account bucket as the registry requests.
    ...(rps !== undefined
      ? { fetchImpl: pacedFetch(deps.fetchImpl ?? globalThis.fetch, async () => sharedTokenBucket(`dockerhub:${await budgetKey()}`, rps)) }
      : deps.fetchImpl !== undefined ? { fetchImpl: deps.fetchImpl } : {}),
    ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}),
  });
  const full = (repository: string): string => `${config.namespace}/${repository}`;
  const where = `registry "${name}" (Docker Hub ${config.namespace}/)`;

  return {
    name,
    kind: 'dockerhub',
    host,
    namespace: config.namespace,
    oci: cache,
    credentials,
    budget,
    budgetKey,
    api,
    cache,

    async ping(): Promise<void> {
      await client.ping();
      await api.checkLogin();
    },

    async listRepositories(): Promise<string[]> {
      return (await api.listRepositories()).map((r) => r.name).sort();
    },

    async listImages(repository: string, options: ListImagesOptions = {}): Promise<ImageInfo[]> {
      const tags = await api.listTags(repository);
      options.signal?.throwIfAborted();
      return listHubImages(cache, full(repository), tags, { ...options, concurrency: 4 });
    },

    async tagImage(repository: string, digest: string, tag: string): Promise<void> {
      // The raw bytes by digest (cached, or one pull), pushed back unchanged under the tag: no blob moves.
      const manifest = await cache.manifestGet(full(repository), digest);
      await cache.manifestPut(full(repository), tag, manifest);
    },

    async deleteImage(repository: string, digest: string): Promise<void> {
      const tags = (await api.listTags(repository)).filter((t) => t.digest === digest).map((t) => t.name);
      for (const tag of tags) await api.deleteTag(repository, tag);
      try {
        await cache.manifestDelete(full(repository), digest);
      } catch (err) {
        // Hub may already have dropped a manifest whose last tag went; gone is what we wanted.
        if (isOciError(err, 'MANIFEST_UNKNOWN') || isOciError(err, 'NOT_FOUND')) return;
        if (isOciError(err, 'DENIED')) {
          throw new OciError(
            `delete ${config.namespace}/${repository}@${digest} on ${where}: its tags${tags.length ? ` (${tags.join(', ')})` : ''} were removed, ` +
              'but Docker Hub refused to delete the manifest: it is still referenced (by an index?) or the token lacks the delete scope. ' +
              'Delete the index first, or use a personal access token with "Read, Write, Delete".',
            { code: 'DENIED', cause: err, registry: host },
          );
        }
        throw err;
      }
    },

    close(): void {
      client.close();
    },
  };
}
