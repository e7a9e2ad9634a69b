// ACR's own listing API (/acr/v1), spoken through the OCI client's transport: ACR challenges these paths
// like /v2 (Bearer realm=/oauth2/token), so the transport's handshake with the ACR refresh token applies.
// https://learn.microsoft.com/rest/api/containerregistry/repository/get-list
// https://learn.microsoft.com/rest/api/containerregistry/manifests/get-list
import { OciError } from '../../oci/errors.ts';
import { nextLink } from '../../oci/client.ts';
import { header, type Transport } from '../../oci/transport.ts';

/** The api-version @azure/container-registry sent; ACR answers the same shapes without it. */
export const ACR_API_VERSION = '2021-07-01';
/** A listing page is JSON of names and digests; far below this. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** One entry of `GET /acr/v1/{name}/_manifests` (ManifestAttributesBase), the fields we read. */
export interface AcrManifestAttributes {
  readonly digest: string;
  readonly tags?: readonly string[] | null;
  /** ISO 8601. */
  readonly createdTime?: string;
  readonly imageSize?: number;
  /** An index's children. */
  readonly references?: readonly { readonly digest: string }[] | null;
  readonly mediaType?: string;
}

interface PageRequest {
  readonly path: string;
  readonly description: string;
  readonly repository?: string;
  readonly scopes: readonly string[];
}

/** Every page of a listing, following `Link: <…>; rel="next"` (ACR's pagination, as in distribution's `_catalog`). */
async function* pages<T>(transport: Transport, first: PageRequest): AsyncGenerator<T> {
  let path: string | undefined = first.path;
  let query: Record<string, string> | undefined = { 'api-version': ACR_API_VERSION };
  const seen = new Set<string>();
  while (path !== undefined) {
    const key = path + JSON.stringify(query ?? {});
    if (seen.has(key)) return; // a page that links to itself would loop forever
    seen.add(key);
    const res = await transport.requestBuffer(
      {
        method: 'GET', path, expect: [200], description: first.description, scopes: first.scopes,
        headers: { accept: 'application/json' },
        ...(query ? { query } : {}),
        ...(first.repository !== undefined ? { repository: first.repository } : {}),
      },
      MAX_PAGE_BYTES,
    );
    try {
      yield JSON.parse(res.body.toString('utf8')) as T;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new OciError(`${first.description} on ${transport.host}: the answer is not JSON`, { code: 'PROTOCOL', cause: err, registry: transport.host });
    }
    const next = nextLink(header(res.headers, 'link'));
    if (next === undefined) return;
    // The next link keeps the api-version it was given; a bare one gets it again.
    const url = transport.resolve(next);
    if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', ACR_API_VERSION);
    path = url.toString();
    query = undefined;
  }
}

/** `GET /acr/v1/_catalog`: every repository name. */
export async function acrRepositories(transport: Transport): Promise<string[]> {
  const names: string[] = [];
  for await (const page of pages<{ repositories?: string[] | null }>(transport, {
    path: '/acr/v1/_catalog', description: 'list repositories (/acr/v1/_catalog)', scopes: ['registry:catalog:*'],
  })) {
    names.push(...(page.repositories ?? []));
  }
  return names;
}

/**
 * `GET /acr/v1/{name}/_manifests`: every manifest of the repository, tagged or not (index children
 * and referrers too). ACR asks for `repository:<name>:metadata_read`; its challenge adds what else it wants.
 */
export async function* acrManifests(transport: Transport, repository: string, signal?: AbortSignal): AsyncGenerator<AcrManifestAttributes> {
  for await (const page of pages<{ manifests?: AcrManifestAttributes[] | null }>(transport, {
    path: `/acr/v1/${repository}/_manifests`, description: `list manifests of ${repository} (/acr/v1)`, repository,
    scopes: [`repository:${repository}:metadata_read`],
  })) {
    signal?.throwIfAborted();
    for (const m of page.manifests ?? []) {
      if (typeof m?.digest !== 'string') {
        throw new OciError(`list manifests of ${repository} on ${transport.host}: an entry has no digest`, { code: 'PROTOCOL', registry: transport.host });
      }
      yield m;
    }
  }
}
