// The copy engine: copies an image, an index or a repository's tags between `Registry` handles, tag last.
// Order (regclient's ladder): blobs and child manifests first, then the manifest by digest, then its
// referrers, then the tag; nothing is tagged unless everything below it is verified at the target.
import { OciError, isOciError } from './errors.ts';
import { CopyContext, copyBlob, memo, type BlobSettings, type CopyEndpoint, type CopyResume } from './copy-blob.ts';
import { formatPlatform, parsePlatform, selectPlatforms } from './platform.ts';
import { parseManifest } from './manifest.ts';
import { safeListener, type CopyEventListener } from './progress.ts';
import { repositoryProblem, tagProblem } from './reference.ts';
import { cosignTags, fallbackTag, findReferrers } from './referrers.ts';
import type { Registry } from './registry.ts';
import type { Descriptor, Manifest } from './types.ts';

export type { CopyEvent, CopyEventListener, CopyEventPhase } from './progress.ts';
export type { CopyEndpoint, CopyResume } from './copy-blob.ts';

/** Where to copy from: a tag or a digest in a repository. */
export interface CopySource {
  readonly registry: Registry;
  readonly repository: string;
  /** Tag or `sha256:<hex>` digest. */
  readonly reference: string;
}

/** Where to copy to. Without `tag` the manifest is pushed by digest only. */
export interface CopyTarget {
  readonly registry: Registry;
  readonly repository: string;
  readonly tag?: string;
}

export interface CopyOptions {
  /**
   * Platforms to copy from an index (`linux/amd64`, `linux/arm/v7`):
   * - the filter selects every child → the whole index is copied unchanged (same digest);
   * - it selects exactly one child → that child image is copied and tagged at the target, and the
   *   result's digest is the child's (regclient-like); the child's referrers travel with it, the
   *   index's do not (their subject is not at the target);
   * - it selects several but not all → a new index listing only those children is pushed (every
   *   other field of the source index kept as it is): its digest differs from the source's, and
   *   the index's own referrers do not travel (they name the source digest);
   * - it selects none → OciError NOT_FOUND listing the available platforms.
   * For a single image, the config's platform must match, else NOT_FOUND.
   * @default every platform (the index as it is)
   */
  readonly platforms?: readonly string[];
  /**
   * Copy referrers (signatures, SBOMs, attestations) after their subject, found through the OCI 1.1
   * referrers API, the `sha256-<hex>` fallback tag, and cosign `.sig/.att/.sbom` tags, recursively.
   * A target without the API gets its own fallback index updated as each referrer is pushed
   * (see `Registry.manifestPut`), so its existing entries are kept.
   * @default true
   */
  readonly referrers?: boolean;
  /**
   * Blobs transferred at once.
   * @default {@link DEFAULT_CONCURRENCY}
   */
  readonly concurrency?: number;
  /** Extra attempts of a blob transfer after a retryable failure, each from a fresh GET. @default 3 */
  readonly retries?: number;
  /** Base of the exponential backoff between attempts. @default 500 */
  readonly retryDelayMs?: number;
  /** Blobs larger than this are uploaded in resumable PATCH chunks. @default Infinity (never) */
  readonly chunkThreshold?: number;
  /** Chunk size of resumable uploads. @default 64 MiB */
  readonly chunkSize?: number;
  /**
   * The source repository's tags, when the caller already listed them (a repository sync copying
   * every tag): referrer tags are looked up in this list instead of one tag listing per copy.
   * @default listed once per copy, when referrers are copied
   */
  readonly sourceTags?: readonly string[];
  /** Progress events; a listener that throws is ignored. */
  readonly onEvent?: CopyEventListener;
  readonly signal?: AbortSignal;
  /**
   * Trust a manifest the target already has: skip the completeness check. Without it, a manifest found
   * at the target is verified like `skopeo copy --all` would: every child manifest (HEAD) and every blob
   * (HEAD) below it, and what is missing is copied (`CopyResult.repaired`). Registry cleanups (ECR's
   * and GHCR's untagged rules) delete children and layers under a manifest that stays. With `referrers: false`
   * too, a target tag that already names the source's digest is found with one HEAD at each side (no GET).
   * @default false
   */
  readonly trustTarget?: boolean;
  /**
   * Called with the digest just before the tag is PUT (after everything below it is verified). Resolve
   * false to leave the tag as it is (`CopyResult.tagPublished` false): replication checks here that the
   * source still names this digest, so a stale event never moves a tag back.
   */
  readonly confirmTag?: (digest: string) => Promise<boolean>;
  /**
   * `host/repository@digest` keys of blobs and manifests already verified present at targets, shared
   * between the copies of one run (reconcile, sync) so that a layer shared by many tags is HEADed once.
   * The copies sharing it also share their manifest pushes: a manifest another copy of the run is pushing
   * to the same target (two tags of one digest copied at once) is awaited, not pushed again. A registry
   * can refuse an index while one of its children is being PUT a second time: distribution 2.8.2 answers
   * 400 MANIFEST_BLOB_UNKNOWN inside that window.
   */
  readonly verifiedCache?: Set<string>;
  /**
   * Resume an interrupted copy: blobs an earlier attempt verified at this target are skipped without
   * a HEAD when the manifest is not there yet, and each blob verified now is reported (the completeness
   * check of a manifest already there still HEADs: it looks for blobs deleted since). Replication keeps
   * these in its replication-state table across crashes and invocations.
   * @default none (every blob is HEADed)
   */
  readonly resume?: CopyResume;
}

/** What a copy had to add under a manifest the target already had (see {@link CopyOptions.trustTarget}). */
export interface CopyRepairs {
  /** Child manifests of an index that were missing. */
  readonly children: string[];
  /** Blobs (configs and layers) that were missing. */
  readonly blobs: string[];
  /** Referrer manifests and cosign / fallback tags that were missing. */
  readonly referrers: string[];
}

export interface CopyResult {
  /** Digest now at the target (the child's, when a platform filter selected one child). */
  readonly digest: string;
  readonly mediaType: string;
  readonly tag?: string;
  /** Digests of every manifest pushed or found present (children, referrers, the manifest itself). */
  readonly manifests: string[];
  readonly blobs: { readonly uploaded: number; readonly mounted: number; readonly skipped: number };
  readonly bytesUploaded: number;
  /** Digests of the referrer manifests copied or found present (including cosign tag manifests). */
  readonly referrers: string[];
  readonly seconds: number;
  /** True when the target already held everything: no blob moved and no manifest was pushed. */
  readonly noop: boolean;
  /** What was missing under a manifest the target already had, and was copied. Empty for a fresh copy. */
  readonly repaired: CopyRepairs;
  /** False when `confirmTag` declined (the tag at the target was left as it was). */
  readonly tagPublished: boolean;
}

export interface CopyRepositoryOptions extends CopyOptions {
  /**
   * Tags to copy; a tag is copied when the pattern matches it WHOLE (it is anchored). With referrers
   * on, fallback (`sha256-…`) and cosign tags are not matched: they travel with their subjects.
   */
  readonly tagPattern: RegExp;
}

export interface TagCopyOutcome {
  readonly tag: string;
  readonly result?: CopyResult;
  readonly error?: Error;
}

export interface CopyRepositoryResult {
  /** False when any tag failed. */
  readonly ok: boolean;
  readonly tags: TagCopyOutcome[];
  readonly seconds: number;
}

const MiB = 1024 * 1024;
/** Config blobs are small JSON; refuse to read more than this when checking a platform. */
const MAX_CONFIG_BYTES = 4 * MiB;
const REFERRER_TAG_RE = /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/;

/**
 * Blobs a copy transfers at once by default. A small blob's time is mostly round trips (a HEAD, a
 * POST, and a PUT that the registry answers after hashing and moving the file), so with many small
 * layers more transfers in flight keep the wire and both registries busy: 8 beat 4 and 6 on 50
 * layers of 2 MiB, and were no worse on 8 layers of 128 MiB, at the same peak RSS (docs/BENCHMARKS.md,
 * Copy). skopeo copies 6 blobs at once.
 */
export const DEFAULT_CONCURRENCY = 8;

function settingsOf(options: CopyOptions): BlobSettings {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new OciError(`concurrency must be a positive integer, got ${concurrency}`, { code: 'UNSUPPORTED' });
  }
  return {
    concurrency,
    retries: options.retries ?? 3,
    retryDelayMs: options.retryDelayMs ?? 500,
    chunkThreshold: options.chunkThreshold ?? Number.POSITIVE_INFINITY,
    chunkSize: options.chunkSize ?? 64 * MiB,
  };
}

/**
 * The manifest pushes of each run, keyed by the run's `verifiedCache`: per target key, pending while a
 * copy makes the manifest (and everything below it) present, resolved once it is. A failed push is
 * forgotten, so that another copy of the run tries for itself.
 */
const runPushes = new WeakMap<Set<string>, Map<string, Promise<void>>>();

function pushesOf(verified: Set<string>): Map<string, Promise<void>> {
  let pushes = runPushes.get(verified);
  if (pushes === undefined) {
    pushes = new Map();
    runPushes.set(verified, pushes);
  }
  return pushes;
}

/** Per-copy state beyond blobs: manifests handled, referrers, and the source tag list (listed once). */
class ManifestCopy {
  readonly manifestMemo = new Map<string, Promise<Manifest | undefined>>();
  readonly manifests = new Set<string>();
  readonly referrers = new Set<string>();
  readonly referrersSeen = new Set<string>();
  readonly verifyMemo = new Map<string, Promise<void>>();
  /**
   * Manifests this copy saw at the target: a HEAD (by digest, or a tag naming it) answered for it, or
   * the registry answered 201 to its PUT. Nothing more is needed before something points at them.
   */
  readonly confirmed = new Set<string>();
  readonly repaired = { children: [] as string[], blobs: [] as string[], referrers: [] as string[] };
  /** True while the copy only fills holes under a manifest the target had (what it pushes is a repair). */
  repairing = false;
  /** Manifest pushes of the run this copy belongs to (see {@link CopyOptions.verifiedCache}). */
  readonly pushes: Map<string, Promise<void>>;
  private sourceTags: Promise<string[]> | undefined;

  constructor(
    readonly ctx: CopyContext,
    readonly verified: Set<string> = new Set(),
  ) {
    this.pushes = pushesOf(verified);
  }

  key(digest: string): string {
    return `${this.ctx.dst.registry.host}/${this.ctx.dst.repository}@${digest}`;
  }

  tags(): Promise<string[]> {
    return (this.sourceTags ??= this.ctx.src.registry.tagList(this.ctx.src.repository));
  }

  seedTags(tags: readonly string[]): void {
    this.sourceTags = Promise.resolve([...tags]);
  }
}

function descriptorOf(m: Manifest): Descriptor {
  return { mediaType: m.mediaType, digest: m.digest, size: m.raw.length };
}

function where(e: CopyEndpoint, ref: string): string {
  return `${e.registry.host}/${e.repository}${ref.startsWith('sha256:') ? '@' : ':'}${ref}`;
}

/** PUTs raw bytes under `reference` and checks the registry computed the same digest. */
async function putManifest(mc: ManifestCopy, reference: string, m: Manifest): Promise<void> {
  const { dst } = mc.ctx;
  mc.ctx.signal.throwIfAborted();
  const digest = await dst.registry.manifestPut(dst.repository, reference, { raw: m.raw, mediaType: m.mediaType });
  mc.ctx.stats.manifestPuts++;
  if (digest !== m.digest) {
    throw new OciError(`${where(dst, reference)}: the registry stored digest ${digest}, expected ${m.digest}`, {
      code: 'DIGEST_MISMATCH',
      registry: dst.registry.host,
    });
  }
  // 201 Created: the registry stored these exact bytes and serves them from now on (distribution-spec
  // "Pushing Manifests": https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests).
  mc.confirmed.add(m.digest);
}

/**
 * The proof that a manifest is at the target before anything (an index, a tag) points at it: this
 * copy's own 201 or HEAD for it, else one HEAD now. A HEAD right after the registry answered 201 to
 * the PUT would only repeat what the 201 says.
 */
async function verifyManifest(mc: ManifestCopy, digest: string): Promise<void> {
  if (mc.confirmed.has(digest)) return;
  const { dst } = mc.ctx;
  const head = await dst.registry.manifestHead(dst.repository, digest);
  if (head?.digest !== digest) {
    throw new OciError(`${where(dst, digest)} is missing after it was pushed`, {
      code: 'MANIFEST_UNKNOWN',
      registry: dst.registry.host,
    });
  }
  mc.confirmed.add(digest);
}

/**
 * Makes a manifest (and everything below it) present at the target, pushed by digest. Returns the
 * fetched manifest, or undefined when the target already had it (then everything below it is there
 * too: registries refuse a manifest whose blobs or children are missing) or another copy of the run
 * made it present. Within a run, one copy at a time pushes a given manifest to a given target.
 */
function ensureManifest(
  mc: ManifestCopy,
  desc: Descriptor,
  known?: { manifest?: Manifest; absent?: boolean },
): Promise<Manifest | undefined> {
  return memo(mc.manifestMemo, desc.digest, async () => {
    const key = mc.key(desc.digest);
    // Wait for the copy of this run that pushes it (or pushed it, or found it there); when that one
    // failed, look again (a third copy may have taken over), else push it here. No await between
    // finding no push and registering this one: two copies never both take it.
    for (let other = mc.pushes.get(key); other !== undefined; other = mc.pushes.get(key)) {
      if (await succeeded(other)) {
        mc.ctx.signal.throwIfAborted();
        // Confirmed as by this copy's own 201: the other copy's PUT of it returned.
        mc.manifests.add(desc.digest);
        mc.confirmed.add(desc.digest);
        mc.ctx.emit({ type: 'manifest', phase: 'skipped', digest: desc.digest, size: desc.size, mediaType: desc.mediaType, reason: 'pushed by a concurrent copy' });
        return undefined;
      }
      if (mc.pushes.get(key) === other) mc.pushes.delete(key);
    }
    const push = pushManifest(mc, desc, known);
    const done = push.then(() => undefined);
    mc.pushes.set(key, done);
    done.catch(() => {
      if (mc.pushes.get(key) === done) mc.pushes.delete(key);
    });
    return push;
  });
}

const succeeded = (p: Promise<unknown>): Promise<boolean> => p.then(() => true, () => false);

/** The work of {@link ensureManifest}: HEAD unless known absent, then children or blobs, then the PUT by digest. */
async function pushManifest(mc: ManifestCopy, desc: Descriptor, known?: { manifest?: Manifest; absent?: boolean }): Promise<Manifest | undefined> {
  const { ctx } = mc;
  const { src, dst } = ctx;
  ctx.signal.throwIfAborted();
  const base = { type: 'manifest' as const, digest: desc.digest, size: desc.size, mediaType: desc.mediaType };
  if (!known?.absent && (await dst.registry.manifestHead(dst.repository, desc.digest)) !== undefined) {
    mc.manifests.add(desc.digest);
    mc.confirmed.add(desc.digest);
    ctx.emit({ ...base, phase: 'skipped', reason: 'target has it' });
    return undefined;
  }
  ctx.emit({ ...base, phase: 'started' });
  try {
    const m = known?.manifest ?? (await src.registry.manifestGet(src.repository, desc.digest));
    if (m.digest !== desc.digest) {
      throw new OciError(`${where(src, desc.digest)} served a manifest with digest ${m.digest}`, {
        code: 'DIGEST_MISMATCH',
        registry: src.registry.host,
      });
    }
    if (m.kind === 'index') {
      // Children by digest first; each is HEADed before the index may point at it.
      await ctx.all(m.manifests, (child) => ensureManifest(mc, child));
      await ctx.all(m.manifests, (child) => verifyManifest(mc, child.digest));
    } else {
      const blobs = [...(m.config ? [m.config] : []), ...m.layers];
      await ctx.all(blobs, (b) => copyBlob(ctx, b));
    }
    await putManifest(mc, desc.digest, m);
    mc.manifests.add(desc.digest);
    ctx.emit({ ...base, phase: 'finished' });
    return m;
  } catch (err) {
    ctx.emit({ ...base, phase: 'failed', reason: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/** Publishes `tag` → `m` at the target, after HEADing `m` there; a no-op when the tag already points at it. */
async function publishTag(mc: ManifestCopy, tag: string, m: Manifest): Promise<void> {
  const { dst } = mc.ctx;
  if ((await dst.registry.manifestHead(dst.repository, tag))?.digest === m.digest) return;
  await verifyManifest(mc, m.digest);
  await putManifest(mc, tag, m);
}

/** The digests whose referrers travel with a manifest: its own, and its children's for an index. */
function subjectDigests(m: Manifest | undefined, digest: string): string[] {
  return [digest, ...(m?.kind === 'index' ? m.manifests.map((c) => c.digest) : [])];
}

/**
 * Copies what refers to `digest` (already verified at the target): referrer manifests by digest, their
 * own referrers recursively, then the fallback and cosign tags.
 */
async function copyReferrers(mc: ManifestCopy, digest: string): Promise<void> {
  if (mc.referrersSeen.has(digest)) return;
  mc.referrersSeen.add(digest);
  const { ctx } = mc;
  const { src } = ctx;
  const found = await findReferrers(src.registry, src.repository, digest, { tags: await mc.tags() });
  await ctx.all(found.descriptors, async (d) => {
    const m = await ensureManifest(mc, d);
    mc.referrers.add(d.digest);
    if (m !== undefined && mc.repairing) mc.repaired.referrers.push(d.digest);
    await ctx.all(subjectDigests(m, d.digest), (sub) => copyReferrers(mc, sub));
  });
  const cosign = new Set(cosignTags(digest));
  // The source's fallback index is not copied as it is: pushing each referrer above made the target
  // list it (its referrers API, or the client's update of the target's own fallback index, which
  // keeps entries the source does not have).
  const fallback = fallbackTag(digest);
  await ctx.all(found.tags.filter((t) => t !== fallback), async (tag) => {
    const head = await src.registry.manifestHead(src.repository, tag);
    if (head === undefined) return; // deleted since the listing
    if (cosign.has(tag)) mc.referrers.add(head.digest);
    if ((await ctx.dst.registry.manifestHead(ctx.dst.repository, tag))?.digest === head.digest) {
      // Already tagged there, so the manifest and everything below it are there too.
      mc.manifests.add(head.digest);
      mc.confirmed.add(head.digest);
      // A signature may itself be signed.
      await copyReferrers(mc, head.digest);
      return;
    }
    const m = await src.registry.manifestGet(src.repository, head.digest);
    const pushed = await ensureManifest(mc, descriptorOf(m), { manifest: m });
    if (pushed !== undefined && mc.repairing) mc.repaired.referrers.push(m.digest);
    await ctx.all(subjectDigests(m, m.digest), (sub) => copyReferrers(mc, sub));
    await publishTag(mc, tag, m);
    if (mc.repairing) mc.repaired.referrers.push(tag);
  });
}

/**
 * The completeness check of a manifest the target already has: HEADs every child manifest and blob
 * below it (from the source's manifest, the authority on what belongs there) and copies what is
 * missing. A missing child is copied whole; a present one is checked the same way, recursively.
 */
function verifyPresent(mc: ManifestCopy, desc: Descriptor, known?: Manifest): Promise<void> {
  return memo(mc.verifyMemo, desc.digest, async () => {
    const { ctx } = mc;
    const { src, dst } = ctx;
    ctx.signal.throwIfAborted();
    const m = known ?? (await src.registry.manifestGet(src.repository, desc.digest));
    if (m.kind === 'index') {
      await ctx.all(m.manifests, async (child) => {
        if (mc.verified.has(mc.key(child.digest))) return;
        if ((await dst.registry.manifestHead(dst.repository, child.digest)) === undefined) {
          await ensureManifest(mc, child, { absent: true });
          mc.repaired.children.push(child.digest);
        } else {
          mc.manifests.add(child.digest);
          mc.confirmed.add(child.digest);
          await verifyPresent(mc, child);
        }
        mc.verified.add(mc.key(child.digest));
      });
    } else {
      const blobs = [...(m.config ? [m.config] : []), ...m.layers];
      // Children share layers: each blob is checked once (the memo), and once per run (the cache).
      await ctx.all(blobs, (b) =>
        memo(mc.verifyMemo, `blob:${b.digest}`, async () => {
          // Not skipped by `resume`: this check exists to find blobs deleted after a copy finished.
          if (mc.verified.has(mc.key(b.digest))) return;
          if ((await dst.registry.blobHead(dst.repository, b.digest)) === undefined) {
            await copyBlob(ctx, b);
            mc.repaired.blobs.push(b.digest);
          } else if (ctx.resume && !ctx.resume.verified.has(b.digest)) {
            ctx.resume.blobVerified(b.digest);
          }
          mc.verified.add(mc.key(b.digest));
        }),
      );
    }
  });
}

/** Reads a small JSON blob (an image config) whole. */
async function readConfig(registry: Registry, repository: string, d: Descriptor, signal?: AbortSignal): Promise<unknown> {
  if (d.size > MAX_CONFIG_BYTES) return {};
  const reader = await registry.blobGet(repository, d.digest, { expectedSize: d.size, ...(signal ? { signal } : {}) });
  const chunks: Buffer[] = [];
  for await (const chunk of reader.stream) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/**
 * The source index with only `picked` children: the document is kept field for field and only its
 * `manifests` array is filtered, so annotations and the media type survive; the bytes (and so the
 * digest) are new by necessity.
 */
function filteredIndex(top: Manifest, picked: readonly Descriptor[]): Manifest {
  const keep = new Set(picked.map((d) => d.digest));
  const doc = JSON.parse(top.raw.toString('utf8')) as { manifests: { digest: string }[] };
  doc.manifests = doc.manifests.filter((m) => keep.has(m.digest));
  return parseManifest(Buffer.from(JSON.stringify(doc)), top.mediaType);
}

/** Applies a platform filter: see {@link CopyOptions.platforms}. */
async function selectRoot(src: CopySource, top: Manifest, platforms: readonly string[], signal?: AbortSignal): Promise<Manifest> {
  const wanted = platforms.map(parsePlatform);
  const asked = wanted.map(formatPlatform).join(', ');
  const name = where(src, src.reference);
  if (top.kind === 'index') {
    const picked = selectPlatforms(top.manifests, wanted);
    const available = top.manifests.map((c) => formatPlatform(c.platform)).join(', ');
    if (picked.length === 0) {
      throw new OciError(`${name} has no manifest for platform ${asked}; available: ${available}`, { code: 'NOT_FOUND' });
    }
    if (picked.length === top.manifests.length) return top;
    if (picked.length > 1) return filteredIndex(top, picked);
    const child = await src.registry.manifestGet(src.repository, (picked[0] as Descriptor).digest);
    return child;
  }
  if (!top.config) return top;
  const config = (await readConfig(src.registry, src.repository, top.config, signal)) as {
    os?: string;
    architecture?: string;
    variant?: string;
  };
  if (config.os && config.architecture) {
    const have = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (selectPlatforms([{ ...top.config, platform: have }], wanted).length === 0) {
      throw new OciError(`${name} is a single-platform image for ${formatPlatform(have)}, not ${asked}`, {
        code: 'NOT_FOUND',
      });
    }
  }
  return top;
}

/**
 * Refuses a malformed target repository or tag up front: otherwise every blob and manifest would be
 * uploaded first and only the final tag PUT would fail, leaving untagged content behind.
 */
function checkTarget(dst: CopyTarget): void {
  const problem = repositoryProblem(dst.repository) ?? (dst.tag !== undefined ? tagProblem(dst.tag) : undefined);
  if (problem !== undefined) {
    const name = `${dst.registry.host}/${dst.repository}${dst.tag !== undefined ? `:${dst.tag}` : ''}`;
    throw new OciError(`invalid copy target "${name}": ${problem}`, { code: 'INVALID_REFERENCE' });
  }
}

function incomplete(err: unknown, src: CopySource, dst: CopyTarget, digest: string, userSignal?: AbortSignal): OciError {
  if (isOciError(err, 'COPY_INCOMPLETE')) return err;
  const aborted = userSignal?.aborted === true;
  const reason = (aborted ? 'the copy was aborted' : err instanceof Error ? err.message : String(err)).replace(/\.+$/, '');
  const tagNote = dst.tag !== undefined ? ` The tag "${dst.tag}" was not published.` : '';
  // Credentials and permissions are not cured by running again; the cause already says what to fix.
  const accessProblem = isOciError(err, 'UNAUTHORIZED') || isOciError(err, 'DENIED');
  return new OciError(
    `copy of ${where(src, digest)} to ${dst.registry.host}/${dst.repository} did not finish: ${reason}.${tagNote}` +
      (accessProblem ? '' : ' Run the copy again to resume: what already arrived is skipped.'),
    {
      code: 'COPY_INCOMPLETE',
      cause: aborted ? (userSignal?.reason ?? err) : err,
      retryable: !aborted && isOciError(err) && err.retryable,
      ...(isOciError(err) && err.registry !== undefined ? { registry: err.registry } : {}),
      ...(isOciError(err) && err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    },
  );
}

/**
 * Copies one image or index from `src` to `dst`: blobs (skip / mount / stream, in parallel, retried),
 * child manifests by digest, the manifest by digest, its referrers, and the tag last. If the target
 * already holds the digest under the tag, nothing is pushed. On failure it throws an OciError
 * COPY_INCOMPLETE (its `cause` the underlying error) and the tag is never published; errors before
 * anything was written (source manifest missing, bad platform filter) are thrown as they are.
 *
 * @example
 * const result = await copyImage(
 *   { registry: hub, repository: 'library/alpine', reference: '3.20' },
 *   { registry: ecr, repository: 'mirror/alpine', tag: '3.20' },
 *   { platforms: ['linux/arm64'], onEvent: (e) => log(e) },
 * );
 * result.digest; // the digest now tagged at the target
 */
export async function copyImage(src: CopySource, dst: CopyTarget, options: CopyOptions = {}): Promise<CopyResult> {
  const started = performance.now();
  const settings = settingsOf(options);
  checkTarget(dst);
  options.signal?.throwIfAborted();
  if (options.trustTarget && options.referrers === false && dst.tag !== undefined && !options.platforms?.length) {
    const done = await alreadyTagged(src, dst, dst.tag, options, started);
    if (done) return done;
  }
  const top = await src.registry.manifestGet(src.repository, src.reference);
  const root = options.platforms?.length ? await selectRoot(src, top, options.platforms, options.signal) : top;
  const ctx = new CopyContext(src, dst, settings, safeListener(options.onEvent), options.signal, options.resume);
  const mc = new ManifestCopy(ctx, options.verifiedCache);
  if (options.sourceTags !== undefined) mc.seedTags(options.sourceTags);
  let tagPublished = dst.tag !== undefined;
  try {
    // The tag first: when it already names the digest, the manifest is there too (one HEAD, not two,
    // per tag of a no-op re-sync).
    const tagged = dst.tag === undefined || (await dst.registry.manifestHead(dst.repository, dst.tag))?.digest === root.digest;
    const present = (dst.tag !== undefined && tagged) || (await dst.registry.manifestHead(dst.repository, root.digest)) !== undefined;
    if (present) {
      // Already there: seed the memo so nothing HEADs it again, then (unless trusted) check what is below it.
      mc.manifestMemo.set(root.digest, Promise.resolve(undefined));
      mc.manifests.add(root.digest);
      mc.confirmed.add(root.digest);
      for (const child of root.manifests) mc.manifests.add(child.digest);
      ctx.emit({ type: 'manifest', phase: 'skipped', digest: root.digest, size: root.raw.length, mediaType: root.mediaType, reason: 'target has it' });
      mc.repairing = true;
      // Within one repository there is nothing the "target" could lack that the source has.
      const sameRepository = src.registry.host === dst.registry.host && src.repository === dst.repository;
      if (!options.trustTarget && !sameRepository && !mc.verified.has(mc.key(root.digest))) {
        await verifyPresent(mc, descriptorOf(root), root);
        mc.verified.add(mc.key(root.digest));
      }
    } else {
      await ensureManifest(mc, descriptorOf(root), { manifest: root, absent: true });
    }
    if (options.referrers ?? true) {
      await ctx.all(subjectDigests(root, root.digest), (d) => copyReferrers(mc, d));
    }
    if (!tagged && dst.tag !== undefined) {
      if (options.confirmTag && !(await options.confirmTag(root.digest))) tagPublished = false;
      else await publishTag(mc, dst.tag, root);
    }
  } catch (err) {
    throw incomplete(ctx.firstError ?? err, src, dst, root.digest, options.signal);
  }
  const { stats } = ctx;
  return {
    digest: root.digest,
    mediaType: root.mediaType,
    ...(dst.tag !== undefined ? { tag: dst.tag } : {}),
    manifests: [...mc.manifests],
    blobs: { uploaded: stats.uploaded, mounted: stats.mounted, skipped: stats.skipped },
    bytesUploaded: stats.bytesUploaded,
    referrers: [...mc.referrers],
    seconds: (performance.now() - started) / 1000,
    noop: stats.manifestPuts === 0 && stats.uploaded === 0 && stats.mounted === 0,
    repaired: mc.repaired,
    tagPublished,
  };
}

/**
 * The no-op of a copy that trusts the target and copies no referrers: when the target tag already names the
 * digest the source reference names, nothing below it is looked at, so the source manifest is only HEADed
 * (one HEAD at each side; a manifest GET is a pull on Docker Hub). Undefined when the copy has work to do.
 */
async function alreadyTagged(src: CopySource, dst: CopyTarget, tag: string, options: CopyOptions, started: number): Promise<CopyResult | undefined> {
  const head = await src.registry.manifestHead(src.repository, src.reference);
  if (head === undefined) return undefined; // the full path reports the missing manifest
  if ((await dst.registry.manifestHead(dst.repository, tag))?.digest !== head.digest) return undefined;
  safeListener(options.onEvent)({ type: 'manifest', phase: 'skipped', digest: head.digest, size: head.size, mediaType: head.mediaType, reason: 'target has it' });
  return {
    digest: head.digest,
    mediaType: head.mediaType,
    tag,
    manifests: [head.digest],
    blobs: { uploaded: 0, mounted: 0, skipped: 0 },
    bytesUploaded: 0,
    referrers: [],
    seconds: (performance.now() - started) / 1000,
    noop: true,
    repaired: { children: [], blobs: [], referrers: [] },
    tagPublished: true,
  };
}

/**
 * Copies every tag of `src.repository` that `tagPattern` matches whole to the same tag in
 * `dst.repository`, one tag after another. A failed tag is reported in its outcome and makes `ok`
 * false; the other tags are still copied (an abort stops the rest). Throws only when the tag list
 * cannot be read.
 *
 * @example
 * const { ok, tags } = await copyRepository(
 *   { registry: src, repository: 'team/app' },
 *   { registry: dst, repository: 'team/app' },
 *   { tagPattern: /v1\.\d+\.\d+/ },
 * );
 */
export async function copyRepository(
  src: CopyEndpoint,
  dst: CopyEndpoint,
  options: CopyRepositoryOptions,
): Promise<CopyRepositoryResult> {
  const started = performance.now();
  const { tagPattern, ...copyOptions } = options;
  const whole = new RegExp(`^(?:${tagPattern.source})$`, tagPattern.flags.replace(/[gy]/g, ''));
  const referrers = copyOptions.referrers ?? true;
  const all = await src.registry.tagList(src.repository);
  const selected = all.filter((t) => whole.test(t) && !(referrers && REFERRER_TAG_RE.test(t)));
  const tags: TagCopyOutcome[] = [];
  for (const tag of selected) {
    if (copyOptions.signal?.aborted) {
      tags.push({ tag, error: new OciError(`copy of tag "${tag}" was not started: aborted`, { code: 'COPY_INCOMPLETE' }) });
      continue;
    }
    try {
      const result = await copyImage(
        { registry: src.registry, repository: src.repository, reference: tag },
        { registry: dst.registry, repository: dst.repository, tag },
        { ...copyOptions, sourceTags: all },
      );
      tags.push({ tag, result });
    } catch (err) {
      tags.push({ tag, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return { ok: tags.every((t) => t.result !== undefined), tags, seconds: (performance.now() - started) / 1000 };
}
