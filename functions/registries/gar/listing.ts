// Artifact Registry / GCR listings: the OCI walk, completed with Google's extension of tags/list, which
// names every manifest of the repository (untagged ones too) with its upload time and size.
import type { Registry } from '../../oci/registry.ts';
import type { ImageInfo, ListImagesOptions } from '../adapter.ts';
import { completeFromRegistry } from '../acr/listing.ts';
import { mapLimit } from '../map-limit.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One manifest as Google's tags/list `manifest` map describes it. */
export interface GoogleManifestEntry {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly mediaType?: string;
  /** ISO time of `timeUploadedMs`. */
  readonly pushedAt?: string;
  /** `imageSizeBytes` when above 0 (Google reports 0 for indexes). */
  readonly sizeBytes?: number;
}

interface GoogleTagListBody {
  manifest?: Record<string, { imageSizeBytes?: unknown; mediaType?: unknown; tag?: unknown; timeUploadedMs?: unknown }>;
}

/**
 * Reads Google's `manifest` map from a tags/list answer, or undefined when the answer has none (any
 * registry other than gcr.io / *.gcr.io / *-docker.pkg.dev). Its numbers are strings:
 * `{"manifest": {"sha256:…": {"imageSizeBytes": "1234", "mediaType": "…", "tag": ["v1"], "timeUploadedMs": "1577836800000"}}}`.
 * https://cloud.google.com/artifact-registry/docs/docker/names (gcr.io compatibility) — undocumented
 * beyond the shape, so every field is optional here.
 */
export function parseGoogleTagList(body: unknown): GoogleManifestEntry[] | undefined {
  const manifest = (body as GoogleTagListBody | null)?.manifest;
  if (manifest === undefined || manifest === null || typeof manifest !== 'object') return undefined;
  const out: GoogleManifestEntry[] = [];
  for (const [digest, m] of Object.entries(manifest)) {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest) || m === null || typeof m !== 'object') continue;
    const uploaded = Number(m.timeUploadedMs);
    const size = Number(m.imageSizeBytes);
    out.push({
      digest,
      tags: Array.isArray(m.tag) ? m.tag.filter((t): t is string => typeof t === 'string') : [],
      ...(typeof m.mediaType === 'string' ? { mediaType: m.mediaType } : {}),
      ...(Number.isFinite(uploaded) && uploaded > 0 ? { pushedAt: new Date(uploaded).toISOString() } : {}),
      ...(Number.isFinite(size) && size > 0 ? { sizeBytes: size } : {}),
    });
  }
  return out;
}

/**
 * Merges Google's entries into the OCI walk: push times for all, Google's size where the walk has
 * none, and the manifests the walk cannot reach (untagged and no index's child: what retention most
 * wants to see). Returns the merged list and the digests that were added.
 */
export function mergeGoogleEntries(viaOci: readonly ImageInfo[], google: readonly GoogleManifestEntry[]): { images: Mutable<ImageInfo>[]; added: string[] } {
  const byDigest = new Map<string, Mutable<ImageInfo>>(viaOci.map((i) => [i.digest, { ...i }]));
  const added: string[] = [];
  for (const g of google) {
    const existing = byDigest.get(g.digest);
    if (existing !== undefined) {
      if (g.pushedAt !== undefined) existing.pushedAt = g.pushedAt;
      if (existing.sizeBytes === undefined && g.sizeBytes !== undefined) existing.sizeBytes = g.sizeBytes;
      continue;
    }
    byDigest.set(g.digest, {
      digest: g.digest, tags: [...g.tags],
      ...(g.mediaType !== undefined ? { mediaType: g.mediaType } : {}),
      ...(g.pushedAt !== undefined ? { pushedAt: g.pushedAt } : {}),
      ...(g.sizeBytes !== undefined ? { sizeBytes: g.sizeBytes } : {}),
    });
    added.push(g.digest);
  }
  return { images: [...byDigest.values()], added };
}

/**
 * Completes a listing with Google's tags/list extension (when the registry sends it): one more GET
 * of tags/list, then, with `withManifests`, a manifest GET for each manifest only Google named.
 */
export async function withGoogleExtension(
  oci: Registry,
  repository: string,
  viaOci: readonly ImageInfo[],
  rawTagList: () => Promise<unknown>,
  options: ListImagesOptions = {},
): Promise<ImageInfo[]> {
  const google = parseGoogleTagList(await rawTagList());
  if (google === undefined) return [...viaOci];
  const { images, added } = mergeGoogleEntries(viaOci, google);
  if (options.withManifests === false || added.length === 0) return images;
  const extra = new Set(added);
  const keep = await mapLimit(images, 8, async (info) => {
    if (!extra.has(info.digest)) return true;
    options.signal?.throwIfAborted();
    return completeFromRegistry(oci, repository, info);
  });
  return images.filter((_, i) => keep[i]);
}
