// The cost report's inventory: every repository of a registry, with each image's blobs, read through its adapter.
import type { RegistryAdapter } from '../../registries/adapter.ts';
import { mapLimit } from '../../registries/map-limit.ts';
import type { Inventory } from '../../retention/types.ts';

/**
 * Lists every repository and its images with blobs (one manifest GET per digest). An aborted `signal` stops it
 * before the next repository (and inside one, for adapters that honour it): the console's deadline.
 */
export async function loadRegistryInventory(adapter: RegistryAdapter, options: { readonly concurrency?: number; readonly signal?: AbortSignal } = {}): Promise<Inventory[]> {
  const signal = options.signal;
  const repositories = await adapter.listRepositories();
  return mapLimit(repositories, options.concurrency ?? 4, async (repository) => {
    signal?.throwIfAborted();
    return { repository, images: await images(adapter, repository, signal) };
  });
}

/** One repository's images as the inventory keeps them. */
async function images(adapter: RegistryAdapter, repository: string, signal: AbortSignal | undefined): Promise<Inventory['images']> {
  return (await adapter.listImages(repository, { withManifests: true, ...(signal ? { signal } : {}) })).map((i) => ({
    digest: i.digest,
    tags: i.tags,
    pushedAt: i.pushedAt ?? '',
    lastPulledAt: i.lastPulledAt ?? null,
    ...(i.mediaType !== undefined ? { mediaType: i.mediaType } : {}),
    ...(i.sizeBytes !== undefined ? { sizeBytes: i.sizeBytes } : {}),
    ...(i.manifests !== undefined ? { manifests: i.manifests } : {}),
    ...(i.subject !== undefined ? { subject: i.subject } : {}),
    ...(i.blobs !== undefined ? { blobs: i.blobs } : {}),
  }));
}
