// Lists a Docker Hub repository's images: tags and metadata from Hub's API, the graph from manifests (cached, HEAD-free).
import { DelegatingRegistry } from '../../oci/delegating-registry.ts';
import type { Registry } from '../../oci/registry.ts';
import type { Descriptor } from '../../oci/types.ts';
import type { ImageInfo, ListImagesOptions } from '../adapter.ts';
import type { HubTag } from './api.ts';
import { listImagesViaOci } from '../oci/listing.ts';

/**
 * A Registry whose tag listing and tag HEADs are answered from Hub's tag list (no request at all),
 * with everything else delegated: `listImagesViaOci` walks it to build the graph, so the only
 * data-plane requests are manifest GETs by digest (one pull each, and none when cached).
 */
class HubTagView extends DelegatingRegistry {
  constructor(
    inner: Registry,
    private readonly byTag: ReadonlyMap<string, HubTag>,
  ) {
    super(inner);
  }

  override async manifestHead(repository: string, reference: string): Promise<Descriptor | undefined> {
    const t = this.byTag.get(reference);
    const mediaType = t?.media_type ?? t?.content_type ?? undefined;
    // Hub told us the digest: no request. Without a media type, a HEAD (free on Hub) fills it in.
    if (t?.digest && mediaType && mediaType.startsWith('application/vnd.')) return { digest: t.digest, mediaType, size: 0 };
    return this.inner.manifestHead(repository, reference);
  }

  override async tagList(): Promise<string[]> {
    return [...this.byTag.keys()];
  }
}

/** Hub's figures for one digest, merged over every tag (and platform image) that names it. */
interface HubFigures {
  pushedAt?: string;
  lastPulledAt?: string | null;
  sizeBytes?: number;
  children?: string[];
}

function later(a: string | undefined | null, b: string | undefined | null): string | undefined | null {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** Hub's figures by digest: a tag's digest gets the tag's; each platform image's digest gets its own. */
export function hubFigures(tags: readonly HubTag[]): Map<string, HubFigures> {
  const out = new Map<string, HubFigures>();
  const merge = (digest: string, f: HubFigures): void => {
    const cur = out.get(digest) ?? {};
    const pushedAt = later(cur.pushedAt, f.pushedAt);
    const lastPulledAt = later(cur.lastPulledAt, f.lastPulledAt);
    out.set(digest, {
      ...(pushedAt ? { pushedAt } : {}),
      ...(lastPulledAt !== undefined ? { lastPulledAt } : {}),
      ...((cur.sizeBytes ?? f.sizeBytes) !== undefined ? { sizeBytes: (cur.sizeBytes ?? f.sizeBytes) as number } : {}),
      ...((cur.children ?? f.children) !== undefined ? { children: (cur.children ?? f.children) as string[] } : {}),
    });
  };
  for (const t of tags) {
    if (!t.digest) continue;
    const images = (t.images ?? []).filter((i) => typeof i.digest === 'string' && i.digest !== '');
    // A single-platform tag lists one image whose digest is the tag's own; an index lists its children.
    const children = images.map((i) => i.digest as string).filter((d) => d !== t.digest);
    merge(t.digest, {
      ...((t.tag_last_pushed ?? t.last_updated) ? { pushedAt: (t.tag_last_pushed ?? t.last_updated) as string } : {}),
      // Hub reports null for a tag never pulled; absent would mean "Hub did not say".
      ...(t.tag_last_pulled !== undefined ? { lastPulledAt: t.tag_last_pulled } : {}),
      ...(typeof t.full_size === 'number' ? { sizeBytes: t.full_size } : {}),
      ...(children.length > 0 ? { children } : {}),
    });
    for (const i of images) {
      if (i.digest === t.digest) continue;
      merge(i.digest as string, {
        ...(i.last_pushed ? { pushedAt: i.last_pushed } : {}),
        ...(i.last_pulled !== undefined ? { lastPulledAt: i.last_pulled } : {}),
        ...(typeof i.size === 'number' ? { sizeBytes: i.size } : {}),
      });
    }
  }
  return out;
}

/**
 * The images of one repository. Tags, push and pull times and sizes come from Hub's tag list;
 * with `withManifests` (default) the graph (index children, referrers through the `sha256-<hex>`
 * fallback tag, blobs) comes from manifests fetched by digest through `oci` (a caching data plane:
 * a manifest already read costs no pull). Without it, no data-plane request is made at all and an
 * index's children come from Hub's per-platform `images[]`.
 *
 * Hub's limits, honestly: its tag list shows tagged digests and the platform images of tagged
 * indexes only; untagged manifests (an OCI 1.1 referrer pushed by digest and not in a fallback
 * tag) are not listed.
 */
export async function listHubImages(
  oci: Registry,
  fullRepository: string,
  tags: readonly HubTag[],
  options: ListImagesOptions & { concurrency?: number } = {},
): Promise<ImageInfo[]> {
  const byTag = new Map(tags.filter((t) => t.digest).map((t) => [t.name, t]));
  const figures = hubFigures(tags);
  const listed = await listImagesViaOci(new HubTagView(oci, byTag), fullRepository, options);
  const byDigest = new Map(listed.map((i) => [i.digest, i]));

  if (options.withManifests === false) {
    // The graph from Hub alone: platform images become untagged children of their index.
    for (const [digest, f] of figures) {
      const parent = byDigest.get(digest);
      if (parent !== undefined && f.children !== undefined && parent.manifests === undefined) {
        byDigest.set(digest, { ...parent, manifests: f.children });
      }
      for (const child of f.children ?? []) {
        if (!byDigest.has(child)) byDigest.set(child, { digest: child, tags: [] });
      }
    }
  }

  return [...byDigest.values()].map((image) => {
    const f = figures.get(image.digest);
    if (f === undefined) return image;
    return {
      ...image,
      ...(f.pushedAt !== undefined ? { pushedAt: f.pushedAt } : {}),
      ...(f.lastPulledAt !== undefined ? { lastPulledAt: f.lastPulledAt } : {}),
      // Hub's own figure wins (like ECR's imageSizeInBytes of an index, it is not a sum we computed).
      ...(f.sizeBytes !== undefined ? { sizeBytes: f.sizeBytes } : {}),
    };
  });
}
