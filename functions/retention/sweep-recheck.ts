// The last look before a retention DELETE: the registry's current tags and references, since a plan is stale the moment it is made.
import { isNotFoundError } from '../oci/errors.ts';
import type { ImageInfo, RegistryAdapter } from '../registries/adapter.ts';
import type { Inventory } from './types.ts';

/** The reason a skipped deletion carries in the report and the audit log. */
export const CHANGED_SINCE_PLAN = 'skipped: changed since plan';

/** What the registry says now, tag by tag: `tag → digest`. */
export type CurrentTags = ReadonlyMap<string, string>;

/**
 * Rechecks digests against the registry's current state. distribution's DELETE by digest removes every
 * tag on the digest, and no registry offers a conditional delete, so the window can only be narrowed:
 * each check re-lists the tags right before its DELETE (without manifest bodies: one tags/list and a
 * HEAD per tag on distribution, DescribeImages on ECR).
 */
export class SweepRecheck {
  private readonly known: Set<string>;
  /** Manifests that appeared after the plan, read once each: what they point at. */
  private readonly newcomers = new Map<string, { readonly manifests: readonly string[]; readonly subject?: string }>();
  /** Every tag seen during the apply, with the digest it last named. */
  readonly seen = new Map<string, string>();

  constructor(
    private readonly adapter: RegistryAdapter,
    private readonly repository: string,
    inventory: Inventory,
  ) {
    this.known = new Set(inventory.images.map((i) => i.digest));
    for (const i of inventory.images) for (const t of i.tags) this.seen.set(t, i.digest);
  }

  /** The registry's current tags. */
  async currentTags(): Promise<CurrentTags> {
    const listed: ImageInfo[] = await this.adapter.listImages(this.repository, { withManifests: false });
    const tags = new Map<string, string>();
    for (const i of listed) for (const t of i.tags) tags.set(t, i.digest);
    for (const [t, d] of tags) this.seen.set(t, d);
    return tags;
  }

  /**
   * Why `digest` must not be deleted now, or undefined when it still looks as planned: a tag the plan
   * did not expire names it, or a manifest the plan did not know (a new index, a new signature)
   * references it.
   */
  async changed(digest: string, plannedTags: readonly string[]): Promise<string | undefined> {
    const now = await this.currentTags();
    const planned = new Set(plannedTags);
    const added = [...now].filter(([t, d]) => d === digest && !planned.has(t)).map(([t]) => t);
    if (added.length > 0) return `${CHANGED_SINCE_PLAN}: now tagged ${added.sort().join(', ')}`;
    for (const d of new Set(now.values())) {
      if (this.known.has(d) || d === digest) continue;
      const refs = await this.referencesOf(d);
      if (refs.manifests.includes(digest) || refs.subject === digest) return `${CHANGED_SINCE_PLAN}: the new manifest ${d} (tagged after the plan) references it`;
    }
    const referrers = await this.adapter.oci.referrers(this.repository, digest).catch(() => undefined);
    const fresh = (referrers ?? []).map((r) => r.digest).filter((d) => !this.known.has(d));
    if (fresh.length > 0) return `${CHANGED_SINCE_PLAN}: ${fresh.length} new referrer(s) point at it (${fresh[0]})`;
    return undefined;
  }

  private async referencesOf(digest: string): Promise<{ readonly manifests: readonly string[]; readonly subject?: string }> {
    let refs = this.newcomers.get(digest);
    if (!refs) {
      try {
        const m = await this.adapter.oci.manifestGet(this.repository, digest);
        refs = { manifests: m.kind === 'index' ? m.manifests.map((c) => c.digest) : [], ...(m.subject ? { subject: m.subject.digest } : {}) };
      } catch (err) {
        if (!isNotFoundError(err)) throw err;
        refs = { manifests: [] };
      }
      this.newcomers.set(digest, refs);
    }
    return refs;
  }
}
