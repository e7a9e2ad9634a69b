// Copies a repository's tags from one registry adapter to several, in parallel, with a result per target per tag.
import { copyImage, type CopyEvent, type CopyResult } from '../oci/copy.ts';
import type { RegistryAdapter } from './adapter.ts';
import { mapLimit } from './map-limit.ts';

/** `sha256-<hex>` fallback indexes and cosign `.sig/.att/.sbom` tags travel with their subjects. */
const REFERRER_TAG = /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/;

export interface SyncRepositoryOptions {
  readonly source: RegistryAdapter;
  readonly targets: readonly RegistryAdapter[];
  /**
   * Repository name relative to each registry's namespace: the OCI path is
   * `<adapter.namespace>/<repository>` (or `repository` when the namespace is '').
   */
  readonly repository: string;
  /** Tags to copy; matched WHOLE (anchored), like copyRepository. @default every tag */
  readonly tagPattern?: RegExp;
  /** Copy signatures, SBOMs and attestations with their subjects. @default true */
  readonly referrers?: boolean;
  /** Platform filter, as copyImage's `platforms`. @default every platform */
  readonly platforms?: readonly string[];
  /** Tag copies (target × tag) in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Blob transfers at once within one tag copy. @default copyImage's (4) */
  readonly blobConcurrency?: number;
  /**
   * Trust a manifest a target already has (copyImage's `trustTarget`): a no-op re-sync is then one
   * manifest HEAD per tag at each target, with no HEAD of the blobs below it. @default false (checked)
   */
  readonly trustTarget?: boolean;
  readonly onEvent?: (event: SyncEvent) => void;
  readonly signal?: AbortSignal;
}

/**
 * Progress of a sync, as data:
 * - `planned`: the tags selected and the targets, before any copy;
 * - `tag-started` / `tag-finished` / `tag-failed`: one tag to one target;
 * - `copy`: a copy engine event (blob and manifest steps) of one tag to one target.
 */
export type SyncEvent =
  | { readonly type: 'planned'; readonly tags: readonly string[]; readonly targets: readonly string[] }
  | { readonly type: 'tag-started'; readonly target: string; readonly tag: string }
  | { readonly type: 'tag-finished'; readonly target: string; readonly tag: string; readonly result: CopyResult }
  | { readonly type: 'tag-failed'; readonly target: string; readonly tag: string; readonly error: Error }
  | { readonly type: 'copy'; readonly target: string; readonly tag: string; readonly event: CopyEvent };

export interface SyncTagOutcome {
  readonly tag: string;
  readonly result?: CopyResult;
  readonly error?: Error;
}

export interface SyncTargetResult {
  /** Adapter name of the target. */
  readonly target: string;
  /** OCI repository path written at the target. */
  readonly repository: string;
  readonly ok: boolean;
  readonly tags: SyncTagOutcome[];
}

export interface SyncResult {
  /** False when any tag failed on any target. */
  readonly ok: boolean;
  readonly source: string;
  /** OCI repository path read at the source. */
  readonly repository: string;
  /** The source tags selected. */
  readonly tags: string[];
  readonly targets: SyncTargetResult[];
  readonly seconds: number;
}

/** The OCI repository path of `repository` in an adapter's namespace. */
export function repositoryPath(adapter: Pick<RegistryAdapter, 'namespace'>, repository: string): string {
  return adapter.namespace ? `${adapter.namespace}/${repository}` : repository;
}

/**
 * Copies every tag of `repository` that `tagPattern` matches to every target, through each adapter's
 * OCI data plane (copyImage: blobs skipped, mounted or streamed; referrers after their subject; tag
 * last). Copies run in parallel (`concurrency` at once). A failed tag or an unreachable target is
 * recorded in its outcome and does not stop the others; only a source whose tag list cannot be read
 * throws.
 *
 * @example
 * const result = await syncRepository({ source: ecr, targets: [gar, acr], repository: 'team/app', tagPattern: /v\d+\..+/ });
 * if (!result.ok) for (const t of result.targets) for (const o of t.tags) if (o.error) console.error(t.target, o.tag, o.error.message);
 */
export async function syncRepository(options: SyncRepositoryOptions): Promise<SyncResult> {
  const started = performance.now();
  const { source, targets } = options;
  const referrers = options.referrers ?? true;
  const emit = (e: SyncEvent): void => {
    try {
      options.onEvent?.(e);
    } catch {
      // A progress display must never decide whether a copy succeeds.
    }
  };
  const srcRepo = repositoryPath(source, options.repository);
  const pattern = options.tagPattern ?? /.*/;
  const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
  const all = await source.oci.tagList(srcRepo);
  const tags = all.filter((t) => whole.test(t) && !(referrers && REFERRER_TAG.test(t)));
  emit({ type: 'planned', tags, targets: targets.map((t) => t.name) });

  const jobs = targets.flatMap((target, ti) => tags.map((tag) => ({ target, ti, tag })));
  // Blobs and manifests verified at a target in this run (keys name host and repository): a layer that
  // many tags share is HEADed once per target, not once per tag, as in a reconcile run. The copies sharing it
  // also share their manifest pushes: two tags of one digest copied at once push it once; the other tag's
  // copy waits for that push, then PUTs only its tag (distribution 2.8.2 refuses an index PUT while another
  // copy re-PUTs one of its children: the flaky "1 of 2 tag copies failed" of cli-dry-run.test.ts).
  const verifiedCache = new Set<string>();
  const outcomes = targets.map(() => new Map<string, SyncTagOutcome>());
  await mapLimit(jobs, options.concurrency ?? 4, async ({ target, ti, tag }) => {
    const record = (o: SyncTagOutcome): void => void outcomes[ti]?.set(tag, o);
    if (options.signal?.aborted) {
      const error = new Error(`copy of ${srcRepo}:${tag} to ${target.name} was not started: aborted`);
      record({ tag, error });
      emit({ type: 'tag-failed', target: target.name, tag, error });
      return;
    }
    emit({ type: 'tag-started', target: target.name, tag });
    try {
      const result = await copyImage(
        { registry: source.oci, repository: srcRepo, reference: tag },
        { registry: target.oci, repository: repositoryPath(target, options.repository), tag },
        {
          referrers,
          // Listed once above: referrer tags are found in it, not by one listing per tag.
          sourceTags: all,
          ...(options.platforms?.length ? { platforms: options.platforms } : {}),
          ...(options.blobConcurrency !== undefined ? { concurrency: options.blobConcurrency } : {}),
          ...(options.signal !== undefined ? { signal: options.signal } : {}),
          ...(options.trustTarget ? { trustTarget: true } : {}),
          verifiedCache,
          onEvent: (event) => emit({ type: 'copy', target: target.name, tag, event }),
        },
      );
      record({ tag, result });
      emit({ type: 'tag-finished', target: target.name, tag, result });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      record({ tag, error });
      emit({ type: 'tag-failed', target: target.name, tag, error });
    }
  });

  const results: SyncTargetResult[] = targets.map((target, ti) => {
    const byTag = outcomes[ti] as Map<string, SyncTagOutcome>;
    const list = tags.map((tag) => byTag.get(tag) ?? { tag, error: new Error('not copied') });
    return { target: target.name, repository: repositoryPath(target, options.repository), ok: list.every((o) => o.result !== undefined), tags: list };
  });
  return {
    ok: results.every((r) => r.ok),
    source: source.name,
    repository: srcRepo,
    tags,
    targets: results,
    seconds: (performance.now() - started) / 1000,
  };
}
