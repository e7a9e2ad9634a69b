// Dry runs of the copy engine: what a copy would upload, mount, skip and tag, and the bytes, with nothing written.
import { isDigest } from './digest.ts';
import { copyImage, copyRepository, type CopyEndpoint, type CopyEvent, type CopyOptions, type CopyRepositoryOptions, type CopySource, type CopyTarget } from './copy.ts';
import { DryRunSource, DryRunTarget, type PlannedWrite } from './dry-run-registry.ts';
import type { Registry } from './registry.ts';

export interface PlannedBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string;
}

/** A tag a copy would write: new (`from` absent) or moved from another digest. */
export interface PlannedTag {
  readonly repository: string;
  readonly tag: string;
  readonly from?: string;
  readonly to: string;
}

/** The writes a dry run held back at one target, summed up. */
export interface PlannedWrites {
  /** Blobs that would be streamed from the source. */
  readonly upload: PlannedBlob[];
  /** Blobs that would be mounted from another repository of the same registry. */
  readonly mount: (PlannedBlob & { readonly from: string })[];
  /** Blobs the target already has (or that need no transfer), with the reason. */
  readonly present: (PlannedBlob & { readonly reason: string })[];
  /** Manifests that would be PUT (children, referrers, the image itself, fallback and cosign tags). */
  readonly manifests: { readonly reference: string; readonly digest: string; readonly mediaType: string; readonly size: number }[];
  /** Tags that would be written; a `from` means the tag moves away from that digest. */
  readonly tags: PlannedTag[];
  readonly bytes: { readonly upload: number; readonly mount: number; readonly present: number };
  /** True when the target already holds everything: nothing would be written. */
  readonly noop: boolean;
}

/** What `regman copy --dry-run` prints: the copy engine's own decisions, with the writes held back. */
export interface CopyPlan extends PlannedWrites {
  readonly dryRun: true;
  /** Digest the target would hold (the child's, when a platform filter selects one). */
  readonly digest: string;
  readonly mediaType: string;
  readonly tag?: string;
  readonly referrers: string[];
}

/** Collects blob sizes and skip reasons from the copy engine's events. */
export class PlanRecorder {
  private readonly sizes = new Map<string, PlannedBlob>();
  private readonly skipped = new Map<string, PlannedBlob & { reason: string }>();

  readonly onEvent = (e: CopyEvent): void => {
    if (e.type !== 'blob') return;
    const blob = { digest: e.digest, size: e.size, ...(e.mediaType !== undefined ? { mediaType: e.mediaType } : {}) };
    this.sizes.set(e.digest, blob);
    if (e.phase === 'skipped' && !this.skipped.has(e.digest)) this.skipped.set(e.digest, { ...blob, reason: e.reason ?? 'target has it' });
  };

  /** The writes a DryRunTarget held back, with the sizes and skip reasons seen in the events. */
  summarise(writes: readonly PlannedWrite[]): PlannedWrites {
    const upload: PlannedBlob[] = [];
    const mount: (PlannedBlob & { from: string })[] = [];
    const manifests: CopyPlan['manifests'] = [];
    const tags: PlannedTag[] = [];
    const moved = new Set<string>();
    for (const w of writes) {
      if (w.kind === 'blob-upload') upload.push(this.sizes.get(w.digest) ?? { digest: w.digest, size: w.size });
      else if (w.kind === 'blob-mount') mount.push({ ...(this.sizes.get(w.digest) ?? { digest: w.digest, size: 0 }), from: w.from });
      else {
        manifests.push({ reference: w.reference, digest: w.digest, mediaType: w.mediaType, size: w.size });
        if (!isDigest(w.reference) && !moved.has(`${w.repository}:${w.reference}`)) {
          moved.add(`${w.repository}:${w.reference}`);
          tags.push({ repository: w.repository, tag: w.reference, ...(w.previous !== undefined ? { from: w.previous } : {}), to: w.digest });
        }
      }
    }
    const written = new Set([...upload, ...mount].map((b) => b.digest));
    const present = [...this.skipped.values()].filter((b) => !written.has(b.digest));
    const sum = (bs: readonly PlannedBlob[]): number => bs.reduce((n, b) => n + b.size, 0);
    return { upload, mount, present, manifests, tags, bytes: { upload: sum(upload), mount: sum(mount), present: sum(present) }, noop: writes.length === 0 };
  }
}

/** The dry-run views of two registries; wrap once per run, so that copies in one plan see each other's planned writes. */
export function dryRunPair(src: Registry, dst: Registry): { source: DryRunSource; target: DryRunTarget } {
  return { source: new DryRunSource(src), target: new DryRunTarget(dst) };
}

/**
 * Runs copyImage against a target that records instead of writing and a source that downloads no
 * layer: the plan is what this copy would do now (skip, mount, upload, tag), with its bytes. The
 * source's manifests are read (and an image config, when a platform filter needs it); the target
 * is only read (HEAD, GET, tag list).
 *
 * @example
 * const plan = await planCopy({ registry: a, repository: 'team/app', reference: 'v1' }, { registry: b, repository: 'team/app', tag: 'v1' });
 * console.log(`${plan.upload.length} blobs, ${plan.bytes.upload} bytes to upload`);
 */
export async function planCopy(src: CopySource, dst: CopyTarget, options: CopyOptions = {}): Promise<CopyPlan> {
  const { source, target } = dryRunPair(src.registry, dst.registry);
  const recorder = new PlanRecorder();
  const onEvent = (e: CopyEvent): void => {
    recorder.onEvent(e);
    options.onEvent?.(e);
  };
  const result = await copyImage({ ...src, registry: source }, { ...dst, registry: target }, { ...options, onEvent });
  return {
    dryRun: true,
    digest: result.digest,
    mediaType: result.mediaType,
    ...(result.tag !== undefined ? { tag: result.tag } : {}),
    referrers: result.referrers,
    ...recorder.summarise(target.writes),
  };
}

/** What `regman copy --all-tags … --dry-run` prints: each tag's outcome, and the writes of all of them together. */
export interface RepositoryCopyPlan extends PlannedWrites {
  readonly dryRun: true;
  readonly copies: { readonly tag: string; readonly digest?: string; readonly upToDate?: boolean; readonly error?: string }[];
}

/**
 * copyRepository against the same dry-run views as planCopy, shared by every tag, so that a blob two
 * tags share is planned once, as the real copy would send it once.
 */
export async function planRepositoryCopy(src: CopyEndpoint, dst: CopyEndpoint, options: CopyRepositoryOptions): Promise<RepositoryCopyPlan> {
  const { source, target } = dryRunPair(src.registry, dst.registry);
  const recorder = new PlanRecorder();
  const onEvent = (e: CopyEvent): void => {
    recorder.onEvent(e);
    options.onEvent?.(e);
  };
  const result = await copyRepository({ ...src, registry: source }, { ...dst, registry: target }, { ...options, onEvent });
  return {
    dryRun: true,
    copies: result.tags.map((t) => ({
      tag: t.tag,
      ...(t.result ? { digest: t.result.digest, upToDate: t.result.noop } : {}),
      ...(t.error ? { error: t.error.message } : {}),
    })),
    ...recorder.summarise(target.writes),
  };
}
