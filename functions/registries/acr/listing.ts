// ACR listings: manifest attributes from ACR's own API (/acr/v1, rest.ts), completed with a manifest
// GET per digest for what that API leaves out (media type, subject, artifact type, blobs).
import { isNotFoundError } from '../../oci/errors.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { Registry } from '../../oci/registry.ts';
import type { Manifest } from '../../oci/types.ts';
import type { ImageInfo, ListImagesOptions } from '../adapter.ts';
import { mapLimit } from '../map-limit.ts';
import type { AcrManifestAttributes } from './rest.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig, MediaType.OciEmpty]);

/**
 * What ACR's manifest list says: every manifest of the repository, tagged or not (index children and
 * referrers included), with its push time and size. ACR has no pull times, so `lastPulledAt` is absent.
 */
export function imageFromAcrAttributes(p: AcrManifestAttributes): Mutable<ImageInfo> {
  const info: Mutable<ImageInfo> = { digest: p.digest, tags: [...(p.tags ?? [])] };
  const created = p.createdTime !== undefined ? Date.parse(p.createdTime) : NaN;
  if (!Number.isNaN(created)) info.pushedAt = new Date(created).toISOString();
  if (typeof p.imageSize === 'number') info.sizeBytes = p.imageSize;
  if (p.references && p.references.length > 0) info.manifests = p.references.map((a) => a.digest);
  return info;
}

/** Fills the fields only the manifest knows. */
export function completeFromManifest(info: Mutable<ImageInfo>, m: Manifest): void {
  info.mediaType = m.mediaType;
  if (m.subject !== undefined) info.subject = m.subject.digest;
  if (m.kind === 'index') {
    info.manifests = m.manifests.map((d) => d.digest);
    if (m.artifactType !== undefined) info.artifactType = m.artifactType;
    return;
  }
  info.blobs = [...(m.config ? [m.config] : []), ...m.layers].map((b) => ({ digest: b.digest, size: b.size }));
  info.sizeBytes ??= info.blobs.reduce((n, b) => n + b.size, 0);
  const configType = m.config?.mediaType;
  const artifactType = m.artifactType ?? (configType !== undefined && !IMAGE_CONFIG_TYPES.has(configType) ? configType : undefined);
  if (artifactType !== undefined) info.artifactType = artifactType;
}

/**
 * Fetches `info`'s manifest and fills the fields only it knows; false when the manifest is gone
 * (deleted between the listing and the GET), so the caller drops the entry instead of failing.
 */
export async function completeFromRegistry(oci: Registry, repository: string, info: Mutable<ImageInfo>): Promise<boolean> {
  try {
    completeFromManifest(info, await oci.manifestGet(repository, info.digest));
    return true;
  } catch (err) {
    if (isNotFoundError(err)) return false;
    throw err;
  }
}

/**
 * Lists a repository with ACR's API, then (unless `withManifests: false`) GETs each manifest through
 * the OCI data plane, at most `concurrency` at once.
 */
export async function listAcrImages(
  manifests: AsyncIterable<AcrManifestAttributes>,
  oci: Registry,
  repository: string,
  options: ListImagesOptions & { concurrency?: number } = {},
): Promise<ImageInfo[]> {
  const images: Mutable<ImageInfo>[] = [];
  for await (const p of manifests) {
    options.signal?.throwIfAborted();
    images.push(imageFromAcrAttributes(p));
  }
  if (options.withManifests === false) return images;
  const found = await mapLimit(images, options.concurrency ?? 8, async (info) => {
    options.signal?.throwIfAborted();
    return completeFromRegistry(oci, repository, info);
  });
  return images.filter((_, i) => found[i]);
}
