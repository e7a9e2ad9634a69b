// The Plan step of a large image: unique blobs (one Map item each) and every target's manifests in push order.
import { parsePlatform, selectPlatforms } from '../../oci/platform.ts';
import { fallbackTag, findReferrers } from '../../oci/referrers.ts';
import type { Registry } from '../../oci/registry.ts';
import type { Manifest } from '../../oci/types.ts';
import type { RegistryAdapter } from '../../registries/adapter.ts';
import { LargeImageError, toLargeImageError } from './errors.ts';
import type { LargeImageInput, LargeImagePlan, LargeImageTarget, PlannedBlob, PlannedManifest, PlannedTarget } from './types.ts';

/** Step Functions refuses a state over 256 KB; the plan must leave room for the rest of the state. */
export const MAX_PLAN_BYTES = 200 * 1024;

export interface LargeImageStepDeps {
  /** Adapters by registry name (createAdapters). */
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
}

/** The adapter of a registry named in the state; a name the config no longer has is fatal. */
export function adapterOf(deps: LargeImageStepDeps, name: string): RegistryAdapter {
  const adapter = deps.adapters.get(name);
  if (!adapter) throw new LargeImageError('REGISTRY_UNKNOWN', `registry "${name}" has no adapter: was it removed from the config since the execution started?`, { retryable: false });
  return adapter;
}

/** Reads the source once per digest, and the tag list once, whatever the number of targets. */
class SourceReader {
  private readonly manifests = new Map<string, Promise<Manifest>>();
  private tagList: Promise<string[]> | undefined;

  constructor(
    readonly registry: Registry,
    readonly repository: string,
  ) {}

  manifest(digest: string): Promise<Manifest> {
    let p = this.manifests.get(digest);
    if (!p) {
      p = this.registry.manifestGet(this.repository, digest).then((m) => {
        if (m.digest !== digest) throw new LargeImageError('DIGEST_MISMATCH', `${this.registry.host}/${this.repository}@${digest} served a manifest with digest ${m.digest}`, { retryable: false });
        return m;
      });
      this.manifests.set(digest, p);
    }
    return p;
  }

  tags(): Promise<string[]> {
    return (this.tagList ??= this.registry.tagList(this.repository));
  }
}

/** The digest tagged at a target: the pushed one, or the one child a platform filter selects. */
async function rootOf(reader: SourceReader, digest: string, target: LargeImageTarget): Promise<string> {
  if (!target.platforms?.length) return digest;
  const top = await reader.manifest(digest);
  if (top.kind !== 'index') return digest;
  const picked = selectPlatforms(top.manifests, target.platforms.map(parsePlatform));
  if (picked.length === top.manifests.length) return digest;
  if (picked.length === 1) return (picked[0] as { digest: string }).digest;
  // A subset index has new bytes that are not at the source to be re-read by digest: the inline copy handles it.
  throw new LargeImageError(
    'PLATFORM_SUBSET_UNSUPPORTED',
    `rule "${target.rule}" selects ${picked.length} of ${top.manifests.length} platforms of ${digest}: a filtered index cannot be fanned out`,
    { retryable: false },
  );
}

/**
 * The walk of one target, in push order: a manifest's children (and blobs) before it, its referrers
 * after it, a referrer tag after its manifest.
 */
class TargetWalk {
  readonly manifests: PlannedManifest[] = [];
  readonly blobs = new Map<string, { size: number; mediaType: string }>();
  private readonly listed = new Set<string>();
  private readonly referrersSeen = new Set<string>();

  constructor(
    private readonly reader: SourceReader,
    private readonly referrers: boolean,
  ) {}

  async manifest(digest: string, followReferrers = true): Promise<void> {
    if (this.listed.has(digest)) return;
    this.listed.add(digest);
    const m = await this.reader.manifest(digest);
    if (m.kind === 'index') {
      for (const child of m.manifests) await this.manifest(child.digest);
    } else {
      for (const b of [...(m.config ? [m.config] : []), ...m.layers]) this.blobs.set(b.digest, { size: b.size, mediaType: b.mediaType });
    }
    this.manifests.push({ digest, mediaType: m.mediaType, size: m.raw.length });
    if (this.referrers && followReferrers) {
      for (const subject of [digest, ...(m.kind === 'index' ? m.manifests.map((c) => c.digest) : [])]) await this.referrersOf(subject);
    }
  }

  private async referrersOf(subject: string): Promise<void> {
    if (this.referrersSeen.has(subject)) return;
    this.referrersSeen.add(subject);
    const found = await findReferrers(this.reader.registry, this.reader.repository, subject, { tags: await this.reader.tags() });
    for (const d of found.descriptors) await this.manifest(d.digest);
    for (const tag of found.tags) {
      const head = await this.reader.registry.manifestHead(this.reader.repository, tag);
      if (head === undefined) continue; // deleted since the listing
      // A fallback index only lists referrers (walked above); a signature may itself be signed.
      await this.manifest(head.digest, tag !== fallbackTag(subject));
      this.manifests.push({ digest: head.digest, mediaType: head.mediaType, size: head.size, tag });
    }
  }
}

/**
 * Plans the copy of a large image (the state machine's Plan step). Reads the source only (manifests
 * by digest, the tag list, referrers); blobs shared by several platforms or targets are listed once,
 * with the indexes of the targets that need them.
 *
 * @throws LargeImageError PLAN_TOO_LARGE (the plan would not fit in the state), PLATFORM_SUBSET_UNSUPPORTED,
 *   REGISTRY_UNKNOWN (fatal); source errors as retryable or fatal LargeImageErrors.
 * @example
 * const plan = await planLargeImage(input, { adapters });
 * plan.blobs.length; // Map items
 */
export async function planLargeImage(input: LargeImageInput, deps: LargeImageStepDeps): Promise<LargeImagePlan> {
  const source = adapterOf(deps, input.sourceRegistry);
  for (const t of input.targets) adapterOf(deps, t.registry);
  try {
    const reader = new SourceReader(source.oci, input.repository);
    const blobs = new Map<string, { size: number; mediaType: string; targets: number[] }>();
    const targets: PlannedTarget[] = [];
    for (const [i, target] of input.targets.entries()) {
      const root = await rootOf(reader, input.digest, target);
      const walk = new TargetWalk(reader, target.referrers);
      await walk.manifest(root);
      // The image tag is published last of all.
      const top = await reader.manifest(root);
      const manifests: PlannedManifest[] = [...walk.manifests, { digest: root, mediaType: top.mediaType, size: top.raw.length, tag: input.tag }];
      let bytes = 0;
      for (const [digest, b] of walk.blobs) {
        bytes += b.size;
        const entry = blobs.get(digest) ?? { ...b, targets: [] };
        entry.targets.push(i);
        blobs.set(digest, entry);
      }
      targets.push({ root, manifests, blobCount: walk.blobs.size, bytes });
    }
    const planned: PlannedBlob[] = [...blobs].map(([digest, b]) => ({ digest, size: b.size, mediaType: b.mediaType, targets: b.targets }));
    const plan: LargeImagePlan = { blobs: planned, targets, totalBytes: planned.reduce((s, b) => s + b.size, 0) };
    const size = Buffer.byteLength(JSON.stringify(plan));
    if (size > MAX_PLAN_BYTES) {
      throw new LargeImageError('PLAN_TOO_LARGE', `the plan of ${input.repository}@${input.digest} is ${size} bytes (${planned.length} blobs), over ${MAX_PLAN_BYTES}: Step Functions states are limited to 256 KB`, { retryable: false });
    }
    return plan;
  } catch (err) {
    throw toLargeImageError(err, 'PLAN_FAILED');
  }
}
