// Counts the bytes a plan frees: unique blobs referenced by expiring images and by nothing kept.
import { INDEX_MANIFEST_TYPES } from '../oci/media-types.ts';
import type { InventoryImage } from './types.ts';

function isIndex(image: InventoryImage): boolean {
  return (image.manifests !== undefined && image.manifests.length > 0) || (image.mediaType !== undefined && INDEX_MANIFEST_TYPES.includes(image.mediaType));
}

/**
 * A blob is freed when an expiring image references it and no kept image does; each blob counts once, so
 * layers shared between expiring images are not summed twice. Manifest bytes themselves are not counted.
 * An expiring image without `blobs` contributes its `sizeBytes` (an index, none: its children carry the
 * bytes), and the result is then an estimate; so is any result while a kept image's blobs are unknown.
 */
export function bytesFreed(expired: readonly InventoryImage[], kept: readonly InventoryImage[]): { bytes: number; estimated: boolean } {
  if (expired.length === 0) return { bytes: 0, estimated: false };
  let estimated = false;
  const keptBlobs = new Set<string>();
  for (const image of kept) {
    if (image.blobs) for (const b of image.blobs) keptBlobs.add(b.digest);
    else if (!isIndex(image)) estimated = true;
  }
  const freed = new Map<string, number>();
  let bytes = 0;
  for (const image of expired) {
    if (image.blobs) {
      for (const b of image.blobs) if (!keptBlobs.has(b.digest)) freed.set(b.digest, b.size);
    } else if (!isIndex(image)) {
      estimated = true;
      bytes += image.sizeBytes ?? 0;
    }
  }
  for (const size of freed.values()) bytes += size;
  return { bytes, estimated };
}
