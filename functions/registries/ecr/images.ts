// Maps ECR's DescribeImages details and BatchGetImage manifests to the adapter's ImageInfo.
import type { ImageDetail } from '@aws-sdk/client-ecr';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { ImageInfo } from '../adapter.ts';

/** Config media types of runnable images: ECR's `artifactMediaType` is the config's, so these mean "not an artifact". */
const IMAGE_CONFIG_TYPES: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One image from DescribeImages. `extraTags` are the tags ListImages reported for the digest (the two
 * calls are not atomic, so the union is kept).
 *
 * - `sizeBytes` is ECR's `imageSizeInBytes` as is. For an image it is the compressed config and
 *   layers; for an index (manifest list) ECR reports the MAX of its children, not their sum
 *   (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageDetail.html). It is kept
 *   because it is the registry's own figure; bytes-freed accounting counts unique blobs instead.
 * - `lastPulledAt` is `lastRecordedPullTime`, null when ECR has none (never pulled, or pulled before
 *   ECR started recording). ECR updates it at most about once every 24 hours (same page).
 * - `artifactType` comes from `artifactMediaType` (the config's media type) only when that is not an
 *   image config; the manifest, when read, has the final say.
 */
export function imageFromDetail(detail: ImageDetail, extraTags: readonly string[] = []): Mutable<ImageInfo> {
  const tags = [...new Set([...(detail.imageTags ?? []), ...extraTags])].sort();
  const info: Mutable<ImageInfo> = {
    digest: detail.imageDigest ?? '',
    tags,
    lastPulledAt: detail.lastRecordedPullTime?.toISOString() ?? null,
  };
  if (detail.imageManifestMediaType !== undefined) info.mediaType = detail.imageManifestMediaType;
  if (detail.imagePushedAt !== undefined) info.pushedAt = detail.imagePushedAt.toISOString();
  if (detail.imageSizeInBytes !== undefined) info.sizeBytes = detail.imageSizeInBytes;
  if (detail.artifactMediaType !== undefined && !IMAGE_CONFIG_TYPES.includes(detail.artifactMediaType)) {
    info.artifactType = detail.artifactMediaType;
  }
  // Newer ECR responses name the subject of a referrer directly.
  if (detail.subjectManifestDigest !== undefined) info.subject = detail.subjectManifestDigest;
  return info;
}

/**
 * Fills children, subject, artifactType and blobs from the manifest bytes BatchGetImage returned.
 * A manifest that does not parse (schema1, foreign types) leaves the ECR metadata as it was, and the
 * reason is returned, so that a listing never fails on one odd image.
 */
export function addManifestFields(info: Mutable<ImageInfo>, imageManifest: string, mediaType: string | undefined): string | undefined {
  let manifest;
  try {
    manifest = parseManifest(Buffer.from(imageManifest, 'utf8'), mediaType, info.digest || undefined);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  info.mediaType ??= manifest.mediaType;
  if (manifest.kind === 'index') info.manifests = manifest.manifests.map((m) => m.digest);
  if (manifest.subject !== undefined) info.subject = manifest.subject.digest;
  if (manifest.artifactType !== undefined) info.artifactType = manifest.artifactType;
  else delete info.artifactType;
  if (manifest.kind === 'image') {
    info.blobs = [...(manifest.config ? [manifest.config] : []), ...manifest.layers].map((d) => ({ digest: d.digest, size: d.size }));
  }
  return undefined;
}

/** Splits `items` into arrays of at most `size` (ECR's batch calls take 100 image ids). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
