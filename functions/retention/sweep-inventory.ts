// Builds a repository inventory for the planner from a registry adapter's listing, push times and pull statistics.
import type { ImageInfo, RegistryAdapter } from '../registries/adapter.ts';
import { mapLimit } from '../registries/map-limit.ts';
import { isNotFoundError } from '../oci/errors.ts';
import { parseInventory } from './inventory.ts';
import type { PullStatsScope, PullStatsStore } from './pull-stats.ts';
import { imageCreatedTime, type CreatedTime } from './created-time.ts';
import type { Inventory, InventoryImage, PullCount, RetentionPolicy, TimeSource } from './types.ts';

export { CREATED_ANNOTATION } from './created-time.ts';

const REFERRER_TAG = /^sha256-([a-f0-9]{64})(?:\.(?:sig|att|sbom))?$/;

/**
 * Push times the registry API does not give (distribution has none): the local stack records them
 * from push notifications. `list` also names manifests pushed without a tag, which `tags/list` cannot see.
 */
export interface PushTimeSource {
  list(registry: string, repository: string): Promise<readonly { readonly digest: string; readonly pushedAt: string }[]>;
}

export interface BuildInventoryOptions {
  readonly adapter: RegistryAdapter;
  readonly repository: string;
  readonly policy: RetentionPolicy;
  readonly now: Date;
  readonly pushTimes?: PushTimeSource;
  readonly pullStats?: { readonly store: PullStatsStore; readonly scope: PullStatsScope };
}

export interface BuiltInventory {
  readonly inventory: Inventory;
  /** Things the report should say: push times guessed, pull counts missing. */
  readonly warnings: string[];
}

/** The pull window the policy looks at, in days (90 when it has no pull rule: enough for `sinceImagePulled`). */
function pullWindowDays(policy: RetentionPolicy): number {
  if (policy.format === 'regman' && policy.delete.pulls) return policy.delete.pulls.inDays;
  if (policy.format === 'ecr') {
    const days = policy.rules.filter((r) => r.selection.countType === 'sinceImagePulled').map((r) => r.selection.countNumber);
    if (days.length > 0) return Math.max(...days);
  }
  return 90;
}

/** An untagged manifest the push log knows and the listing did not reach, read from the registry. */
async function readUnlisted(adapter: RegistryAdapter, repository: string, digest: string): Promise<ImageInfo | undefined> {
  try {
    const m = await adapter.oci.manifestGet(repository, digest);
    const blobs = m.kind === 'image' ? [...(m.config ? [m.config] : []), ...m.layers].map((d) => ({ digest: d.digest, size: d.size })) : undefined;
    return {
      digest,
      tags: [],
      mediaType: m.mediaType,
      ...(m.kind === 'index' ? { manifests: m.manifests.map((d) => d.digest) } : {}),
      ...(m.subject ? { subject: m.subject.digest } : {}),
      ...(blobs ? { blobs, sizeBytes: blobs.reduce((n, b) => n + b.size, 0) } : {}),
    };
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/**
 * The inventory of one repository:
 * 1. `adapter.listImages` (manifests read, so indexes, children, referrers and blobs are known), plus
 *    untagged manifests only the push log knows;
 * 2. `pushedAt` and `timeSource`: the registry's push time, else the push log's, else the image's own
 *    creation time (created-time.ts: the `org.opencontainers.image.created` annotation, the config
 *    blob's `created`, its label), else its index's or subject's, else `unknown` (with `now` as a
 *    placeholder the planner never ranks or ages: a count or age rule cannot delete it);
 * 3. `pulls`: from the pull-stats store over the policy's window, with the registry's `lastPulledAt`
 *    added as one pull on its day when the store has none that day.
 */
export async function buildSweepInventory(options: BuildInventoryOptions): Promise<BuiltInventory> {
  const { adapter, repository, now } = options;
  const warnings: string[] = [];
  const listed = await adapter.listImages(repository);
  const byDigest = new Map<string, ImageInfo>(listed.map((i) => [i.digest, i]));

  const logged = options.pushTimes ? await options.pushTimes.list(adapter.name, repository) : [];
  const pushLog = new Map(logged.map((p) => [p.digest, p.pushedAt]));
  const unlisted = [...pushLog.keys()].filter((d) => !byDigest.has(d));
  for (const info of await mapLimit(unlisted, 8, (d) => readUnlisted(adapter, repository, d))) if (info) byDigest.set(info.digest, info);

  // The image's own creation time, only for manifests with no better time (a manifest GET, and the config blob's when needed).
  const needTime = [...byDigest.values()].filter((i) => !i.pushedAt && !pushLog.has(i.digest)).map((i) => i.digest);
  const created = new Map<string, CreatedTime>();
  let placeholders = 0;
  await mapLimit(needTime, 8, async (digest) => {
    const found = await imageCreatedTime(adapter.oci, repository, digest, now);
    if (found.time) created.set(digest, found.time);
    if (found.placeholder) placeholders++;
  });

  const ownSource = (i: ImageInfo): { at: string; source: TimeSource } | undefined => {
    if (i.pushedAt) return { at: i.pushedAt, source: 'registry' };
    const logged = pushLog.get(i.digest);
    if (logged) return { at: logged, source: 'push-log' };
    const c = created.get(i.digest);
    return c ? { at: c.at, source: c.source } : undefined;
  };
  const anchors = new Map<string, string>(); // child/referrer → index/subject
  for (const i of byDigest.values()) {
    for (const c of i.manifests ?? []) anchors.set(c, i.digest);
    if (i.subject) anchors.set(i.digest, i.subject);
    // cosign `sha256-<hex>.sig/.att/.sbom` and the referrers fallback tag name their subject.
    const hex = i.tags.map((t) => REFERRER_TAG.exec(t)?.[1]).find((h) => h !== undefined);
    if (hex && !i.subject) anchors.set(i.digest, `sha256:${hex}`);
  }
  let guessed = 0;
  const timeOf = (digest: string, seen = new Set<string>()): { at: string; source: TimeSource } | undefined => {
    const i = byDigest.get(digest);
    const t = i ? ownSource(i) : undefined;
    if (t) return t;
    const anchor = anchors.get(digest);
    if (anchor && !seen.has(anchor)) return timeOf(anchor, seen.add(digest));
    return undefined;
  };

  let pulls = new Map<string, PullCount[]>();
  if (options.pullStats) {
    const tags = new Map([...byDigest.values()].map((i) => [i.digest, i.tags]));
    pulls = await options.pullStats.store.pullsFor(options.pullStats.scope, repository, [...byDigest.keys()], pullWindowDays(options.policy), { now, tags });
  }

  const images: InventoryImage[] = [...byDigest.values()].map((i) => {
    const time = timeOf(i.digest);
    if (!time) guessed++;
    // Unknown: a placeholder time the planner never ranks or ages (timeSource unknown).
    const pushedAt = time?.at ?? now.toISOString();
    const timeSource: TimeSource = time?.source ?? 'unknown';
    const lastPulledAt = i.lastPulledAt ?? null;
    let imagePulls: PullCount[] | undefined;
    if (options.pullStats) {
      imagePulls = [...(pulls.get(i.digest) ?? [])];
      const day = lastPulledAt?.slice(0, 10);
      if (day && !imagePulls.some((p) => p.day === day)) imagePulls.push({ day, count: 1 });
    }
    return {
      digest: i.digest,
      tags: [...i.tags].sort(),
      pushedAt,
      timeSource,
      lastPulledAt,
      ...(imagePulls ? { pulls: imagePulls } : {}),
      ...(i.mediaType ? { mediaType: i.mediaType } : {}),
      ...(i.sizeBytes !== undefined ? { sizeBytes: i.sizeBytes } : {}),
      ...(i.manifests ? { manifests: [...i.manifests] } : {}),
      ...(i.subject ? { subject: i.subject } : {}),
      ...(i.blobs ? { blobs: i.blobs.map((b) => ({ digest: b.digest, size: b.size })) } : {}),
    };
  });
  if (guessed > 0) {
    warnings.push(`${guessed} manifest(s) have no known push or creation time (the registry does not record it, and neither the annotations nor the config say): count and age rules will not rank or age them`);
  }
  if (placeholders > 0) {
    warnings.push(`${placeholders} manifest(s) carry a placeholder created date (before 1980 or in the future, as reproducible builds write): not trusted as a time`);
  }
  const sources = new Map<TimeSource, number>();
  for (const i of images) sources.set(i.timeSource ?? 'registry', (sources.get(i.timeSource ?? 'registry') ?? 0) + 1);
  if (sources.size > 1 || !sources.has('registry')) {
    warnings.push(`times from: ${[...sources].map(([s, n]) => `${s} ${n}`).join(', ')}`);
  }
  return { inventory: parseInventory({ repository, images }, `${adapter.name}/${repository}`), warnings };
}
