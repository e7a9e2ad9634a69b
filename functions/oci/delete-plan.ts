// What deleting one manifest by digest takes with it and what it breaks: tags, referrers, children, parent indexes.
import { findReferrers } from './referrers.ts';
import { isNotFoundError } from './errors.ts';
import type { Registry } from './registry.ts';

/** The part of a repository's graph a delete plan reads: tags, and the manifests they name. */
export interface RepositoryGraph {
  /** Every tag → the digest it names. */
  readonly tags: Readonly<Record<string, string>>;
  /** Digest → what that manifest points at (an index's children, a referrer's subject). */
  readonly manifests: Readonly<Record<string, { readonly children: readonly string[]; readonly subject?: string }>>;
  /** Referrer manifests of the digest to delete (referrers API or fallback index). */
  readonly referrers: readonly string[];
  /** The fallback (`sha256-<hex>`) and cosign (`.sig/.att/.sbom`) tags of the digest. */
  readonly referrerTags: readonly string[];
}

/** A child of the deleted index, and who else still uses it (then it stays). */
export interface ChildFate {
  readonly digest: string;
  /** Tags and other indexes that name it: non-empty means it is kept. */
  readonly usedBy: readonly string[];
}

export interface DeletePlan {
  readonly digest: string;
  /** Tags that name the digest: they go with it. */
  readonly tags: string[];
  /** Tagged indexes that list the digest as a child: deleting it breaks them (refused without force). */
  readonly parents: { readonly digest: string; readonly tags: string[] }[];
  /** Referrers (signatures, SBOMs, attestations) and the manifests behind its fallback / cosign tags: deleted with it. */
  readonly referrers: string[];
  /** The fallback / cosign tags that go with the referrers. */
  readonly referrerTags: string[];
  /** An index's children: deleted with it unless something else still uses them. */
  readonly children: ChildFate[];
  /** Every digest that would be deleted, in order: the digest, its referrers, then children nothing else uses. */
  readonly deletes: string[];
  /** Why the delete is refused without `force`; empty when it is safe. */
  readonly blockers: string[];
}

/**
 * Plans the delete of `digest` over a repository graph (pure). The digest goes first, so a refused
 * DELETE leaves everything as it was; referrers go with their subject; a child of an index goes with
 * it only when no tag and no other index names it.
 */
export function planDelete(digest: string, graph: RepositoryGraph): DeletePlan {
  const tagsOf = (d: string): string[] => Object.entries(graph.tags).filter(([, v]) => v === d).map(([t]) => t).sort();
  const tags = tagsOf(digest);
  const parents = Object.entries(graph.manifests)
    .filter(([d, m]) => d !== digest && m.children.includes(digest) && (tagsOf(d).length > 0 || isNamedByOthers(d, digest, graph)))
    .map(([d]) => ({ digest: d, tags: tagsOf(d) }));
  const referrerTagDigests = graph.referrerTags.map((t) => graph.tags[t]).filter((d): d is string => d !== undefined && d !== digest);
  const referrers = [...new Set([...graph.referrers, ...referrerTagDigests])];
  const gone = new Set([digest, ...referrers]);
  const children = (graph.manifests[digest]?.children ?? []).map((c) => ({
    digest: c,
    usedBy: [
      ...tagsOf(c).map((t) => `tag ${t}`),
      ...Object.entries(graph.manifests).filter(([d, m]) => !gone.has(d) && m.children.includes(c)).map(([d]) => `index ${d}`),
    ],
  }));
  const deletes = [digest, ...referrers, ...children.filter((c) => c.usedBy.length === 0).map((c) => c.digest)];
  const blockers = parents.map((p) => `${digest} is a child of the index ${p.digest}${p.tags.length ? ` (tags ${p.tags.join(', ')})` : ''}, which would be left broken`);
  return { digest, tags, parents, referrers, referrerTags: [...graph.referrerTags], children, deletes: [...new Set(deletes)], blockers };
}

/** An untagged index still matters when a tagged index names it (nested indexes). */
function isNamedByOthers(index: string, except: string, graph: RepositoryGraph): boolean {
  return Object.entries(graph.manifests).some(([d, m]) => d !== except && d !== index && m.children.includes(index) && Object.values(graph.tags).includes(d));
}

/** Runs `fn` over `items`, `limit` at a time (registries/ has a mapLimit, but oci/ does not import upwards). */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Reads what planDelete needs from a registry: every tag (HEAD each), every tagged manifest and the
 * digest itself (GET), and the digest's referrers. One request per tag: fine for a CLI command,
 * not for a sweep of thousands (retention reads an inventory instead).
 */
export async function readRepositoryGraph(registry: Registry, repository: string, digest: string, concurrency = 8): Promise<RepositoryGraph> {
  const tagList = await registry.tagList(repository).catch((err: unknown) => {
    if (isNotFoundError(err)) return [] as string[];
    throw err;
  });
  const tags: Record<string, string> = {};
  await eachLimit(tagList, concurrency, async (t) => {
    const head = await registry.manifestHead(repository, t);
    if (head !== undefined) tags[t] = head.digest;
  });
  const manifests: Record<string, { children: string[]; subject?: string }> = {};
  await eachLimit([...new Set([digest, ...Object.values(tags)])], concurrency, async (d) => {
    try {
      const m = await registry.manifestGet(repository, d);
      manifests[d] = { children: m.manifests.map((c) => c.digest), ...(m.subject ? { subject: m.subject.digest } : {}) };
    } catch (err) {
      // A tag deleted since the listing: it names nothing now.
      if (!isNotFoundError(err)) throw err;
    }
  });
  const found = await findReferrers(registry, repository, digest, { tags: tagList });
  return { tags, manifests, referrers: found.descriptors.map((d) => d.digest), referrerTags: [...found.tags] };
}
