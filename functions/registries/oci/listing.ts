// Lists a repository's images through the OCI API alone (tags/list + manifests), for registries whose own API lacks metadata.
import { isNotFoundError } from '../../oci/errors.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { Registry } from '../../oci/registry.ts';
import type { Descriptor, Manifest } from '../../oci/types.ts';
import type { ImageInfo, ListImagesOptions } from '../adapter.ts';
import { mapLimit } from '../map-limit.ts';

export interface ListImagesViaOciOptions extends ListImagesOptions {
  /** Manifest HEADs / GETs in flight at once. @default 8 */
  readonly concurrency?: number;
}

/** The referrers fallback tag: `sha256-<hex>` names an index of the referrers of `sha256:<hex>`. */
const FALLBACK_TAG = /^sha256-([a-f0-9]{64})$/;
/** Config media types of runnable images; any other config type names an artifact (image-spec manifest.md#guidelines-for-artifact-usage). */
const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);

interface Entry {
  digest: string;
  tags: string[];
  mediaType?: string;
  sizeBytes?: number;
  manifests?: string[];
  subject?: string;
  artifactType?: string;
  blobs?: { digest: string; size: number }[];
  kind?: 'image' | 'index';
}

/**
 * Every image of `repository` as the OCI API shows it:
 * 1. `tags/list`, then a manifest HEAD per tag (bounded), grouped by digest;
 * 2. with `withManifests` (default), a GET of each manifest, walking the graph:
 *    - an index's children become entries with no tags, listed in the index's `manifests`;
 *    - referrers, found through the `sha256-<hex>` fallback index (an index like any other, whose
 *      children get `subject` from the tag when their manifest lacks one) and through
 *      `oci.referrers()` when the registry has the API, become entries with `subject`/`artifactType`;
 *    - `blobs` = config + layers of an image manifest.
 *
 * `sizeBytes` is computed here, since the OCI API has no size figure: for an image, config plus
 * layers (the manifest's own bytes are not counted, as in ECR's `imageSizeInBytes`); for an index,
 * the sum of its children's `sizeBytes` (shared layers counted once per child). Without manifests,
 * `sizeBytes` is absent. The OCI API has no push or pull times: `pushedAt` and `lastPulledAt` are
 * absent. Cosign `.sig/.att/.sbom` tags are plain tagged images here; their subject is implied by the
 * tag (functions/retention/graph.ts reads it from there).
 *
 * @example
 * const images = await listImagesViaOci(adapter.oci, 'team/app');
 */
export async function listImagesViaOci(oci: Registry, repository: string, options: ListImagesViaOciOptions = {}): Promise<ImageInfo[]> {
  const concurrency = options.concurrency ?? 8;
  const signal = options.signal;
  const tags = await oci.tagList(repository);
  signal?.throwIfAborted();

  const byDigest = new Map<string, Entry>();
  const heads = await mapLimit(tags, concurrency, async (tag) => {
    signal?.throwIfAborted();
    return { tag, head: await oci.manifestHead(repository, tag) };
  });
  for (const { tag, head } of heads) {
    if (head === undefined) continue; // deleted between the listing and the HEAD
    const e = byDigest.get(head.digest) ?? { digest: head.digest, tags: [], mediaType: head.mediaType };
    e.tags.push(tag);
    byDigest.set(head.digest, e);
  }
  if (options.withManifests === false) return [...byDigest.values()].map(toImageInfo);

  // Does the registry have the referrers API? Asked once: distribution 2.8 answers 404 to every call.
  // A registry that answers something else (405, 400) has no usable API either: the fallback tag remains.
  const first = byDigest.keys().next();
  const referrersApi = first.done ? false : await oci.referrers(repository, first.value).then((r) => r !== undefined, () => false);

  let frontier = [...byDigest.keys()];
  let frontierNext: string[] = [];
  const visited = new Set<string>();
  /** The entry of a descriptor met while walking; a new one is fetched in the next round. */
  const ensure = (d: Descriptor): Entry => {
    let e = byDigest.get(d.digest);
    if (e === undefined) {
      e = { digest: d.digest, tags: [], mediaType: d.mediaType, ...(d.artifactType ? { artifactType: d.artifactType } : {}) };
      byDigest.set(d.digest, e);
      frontierNext.push(d.digest);
    }
    return e;
  };

  while (frontier.length > 0) {
    frontierNext = [];
    const todo = frontier.filter((d) => !visited.has(d));
    todo.forEach((d) => visited.add(d));
    const fetched = await mapLimit(todo, concurrency, async (digest) => {
      signal?.throwIfAborted();
      try {
        const manifest = await oci.manifestGet(repository, digest);
        const refs = referrersApi ? await oci.referrers(repository, digest) : undefined;
        return { digest, manifest, refs };
      } catch (err) {
        if (isNotFoundError(err)) return { digest, manifest: undefined, refs: undefined };
        throw err;
      }
    });
    for (const { digest, manifest, refs } of fetched) {
      const e = byDigest.get(digest) as Entry;
      if (manifest === undefined) {
        // A dangling index child or a manifest deleted meanwhile: drop it unless a tag still names it.
        if (e.tags.length === 0) byDigest.delete(digest);
        continue;
      }
      fillFromManifest(e, manifest);
      const fallbackSubject = e.tags.map((t) => FALLBACK_TAG.exec(t)?.[1]).find((hex) => hex !== undefined);
      // A fallback index's children refer to the tag's digest; their own `subject` field (set by
      // fillFromManifest when they are fetched) wins over this.
      for (const child of manifest.manifests) {
        const c = ensure(child);
        if (fallbackSubject !== undefined && c.subject === undefined) c.subject = `sha256:${fallbackSubject}`;
      }
      for (const r of refs ?? []) {
        const c = ensure(r);
        c.subject ??= digest;
      }
    }
    frontier = frontierNext;
  }
  computeIndexSizes(byDigest);
  return [...byDigest.values()].map(toImageInfo);
}

/** Fills an entry from its manifest. */
function fillFromManifest(e: Entry, m: Manifest): void {
  e.mediaType = m.mediaType;
  e.kind = m.kind;
  if (m.subject !== undefined) e.subject = m.subject.digest;
  if (m.kind === 'index') {
    e.manifests = m.manifests.map((d) => d.digest);
    if (m.artifactType !== undefined) e.artifactType = m.artifactType;
    return;
  }
  const blobs = [...(m.config ? [m.config] : []), ...m.layers].map((b) => ({ digest: b.digest, size: b.size }));
  e.blobs = blobs;
  e.sizeBytes = blobs.reduce((sum, b) => sum + b.size, 0);
  const configType = m.config?.mediaType;
  const configNamesArtifact = configType !== undefined && !IMAGE_CONFIG_TYPES.has(configType) && configType !== MediaType.OciEmpty;
  const artifactType = m.artifactType ?? (configNamesArtifact ? configType : undefined);
  if (artifactType !== undefined) e.artifactType = artifactType;
}

/** An index's size: the sum of its children's, recursively (a cycle or a missing child counts 0). */
function computeIndexSizes(byDigest: Map<string, Entry>): void {
  const visiting = new Set<string>();
  const size = (digest: string): number => {
    const e = byDigest.get(digest);
    if (e === undefined) return 0;
    if (e.sizeBytes !== undefined) return e.sizeBytes;
    if (e.kind !== 'index' || visiting.has(digest)) return 0;
    visiting.add(digest);
    const total = (e.manifests ?? []).reduce((sum, d) => sum + size(d), 0);
    visiting.delete(digest);
    e.sizeBytes = total;
    return total;
  };
  for (const digest of byDigest.keys()) size(digest);
}

function toImageInfo(e: Entry): ImageInfo {
  return {
    digest: e.digest,
    tags: e.tags,
    ...(e.mediaType !== undefined ? { mediaType: e.mediaType } : {}),
    ...(e.sizeBytes !== undefined ? { sizeBytes: e.sizeBytes } : {}),
    ...(e.manifests !== undefined ? { manifests: e.manifests } : {}),
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.artifactType !== undefined ? { artifactType: e.artifactType } : {}),
    ...(e.blobs !== undefined ? { blobs: e.blobs } : {}),
  };
}
