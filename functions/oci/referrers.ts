// Finds the manifests that refer to a digest: the OCI 1.1 referrers API, else the fallback tag, plus cosign tags.
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers and
// #referrers-tag-schema; cosign's tag scheme: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
import { isNotFoundError } from './errors.ts';
import type { Registry } from './registry.ts';
import type { Descriptor } from './types.ts';

/** Suffixes cosign appends to the fallback tag: signatures, attestations, SBOMs. */
export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;

/** The referrers fallback tag of a digest: `sha256:<hex>` → `sha256-<hex>`. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

/** The cosign tags a digest may have: `sha256-<hex>.sig`, `.att`, `.sbom`. */
export function cosignTags(digest: string): string[] {
  return COSIGN_SUFFIXES.map((s) => `${fallbackTag(digest)}.${s}`);
}

export interface FoundReferrers {
  /** Referrer manifests (with a `subject` of the digest), de-duplicated by digest. */
  readonly descriptors: readonly Descriptor[];
  /**
   * Tags that belong to the digest and must travel with it: the fallback tag (an index listing the
   * referrers) when present, and the cosign `.sig/.att/.sbom` tags.
   */
  readonly tags: readonly string[];
  /** Where the descriptors came from. */
  readonly source: 'api' | 'fallback-tag' | 'none';
}

export interface FindReferrersOptions {
  /**
   * The repository's tags, when the caller already listed them (one `tagList` per copy instead of one
   * per digest). Without them, the fallback tag is probed with a GET and cosign tags are listed here.
   */
  readonly tags?: readonly string[];
}

/**
 * Lists what refers to `digest` in `repository`. Uses the referrers API when the registry has one;
 * otherwise reads the `sha256-<hex>` fallback index. Either way it also reports the cosign tags and a
 * fallback tag that exists, since those are tags the target needs too.
 *
 * @example
 * const { descriptors, tags } = await findReferrers(registry, 'team/app', 'sha256:…');
 */
export async function findReferrers(
  registry: Registry,
  repository: string,
  digest: string,
  options: FindReferrersOptions = {},
): Promise<FoundReferrers> {
  const tags = options.tags ?? (await registry.tagList(repository));
  const tagSet = new Set(tags);
  const byDigest = new Map<string, Descriptor>();
  const found: string[] = [];

  const api = await registry.referrers(repository, digest);
  for (const d of api ?? []) byDigest.set(d.digest, d);

  const fallback = fallbackTag(digest);
  let fromFallback = false;
  if (tagSet.has(fallback)) {
    try {
      const index = await registry.manifestGet(repository, fallback);
      for (const d of index.manifests) if (!byDigest.has(d.digest)) byDigest.set(d.digest, d);
      found.push(fallback);
      fromFallback = true;
    } catch (err) {
      // The tag was deleted between the listing and the GET: nothing to copy.
      if (!isNotFoundError(err)) throw err;
    }
  }
  for (const tag of cosignTags(digest)) if (tagSet.has(tag)) found.push(tag);

  return {
    descriptors: [...byDigest.values()],
    tags: found,
    source: api !== undefined ? 'api' : fromFallback ? 'fallback-tag' : 'none',
  };
}
