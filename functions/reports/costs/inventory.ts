// The cost report's inventory: every repository of a registry, with each image's blobs, read through its adapter.
import type { RegistryAdapter } from '../../registries/adapter.ts';
import { mapLimit } from '../../registries/map-limit.ts';
import type { Inventory } from '../../retention/types.ts';

/** Lists every repository and its images with blobs (one manifest GET per digest). */
export async function loadRegistryInventory(adapter: RegistryAdapter, options: { readonly concurrency?: number } = {}): Promise<Inventory[]> {
  const repositories = await adapter.listRepositories();
  return mapLimit(repositories, options.concurrency ?? 4, async (repository) => ({
    repository,
    images: (await adapter.listImages(repository, { withManifests: true })).map((i) => ({
      digest: i.digest,
      tags: i.tags,
      pushedAt: i.pushedAt ?? '',
      lastPulledAt: i.lastPulledAt ?? null,
      ...(i.mediaType !== undefined ? { mediaType: i.mediaType } : {}),
      ...(i.sizeBytes !== undefined ? { sizeBytes: i.sizeBytes } : {}),
      ...(i.manifests !== undefined ? { manifests: i.manifests } : {}),
      ...(i.subject !== undefined ? { subject: i.subject } : {}),
      ...(i.blobs !== undefined ? { blobs: i.blobs } : {}),
    })),
  }));
}
