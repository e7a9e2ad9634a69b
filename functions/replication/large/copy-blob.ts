// The CopyBlob step of a large image: one blob to each target that needs it, through the copy engine's blob ladder.
import { CopyContext, copyBlob, type BlobSettings } from '../../oci/copy-blob.ts';
import type { CopyEventListener } from '../../oci/progress.ts';
import { toLargeImageError, LargeImageError } from './errors.ts';
import { adapterOf, type LargeImageStepDeps } from './plan.ts';
import { deferralOf } from '../deferral.ts';
import { deferStep, previousDeferral } from './deferral.ts';
import type { BlobOutcome, CopyBlobInput, CopyBlobResult, DeferredStep } from './types.ts';
import type { ReplicationCopyOptions } from '../types.ts';
import type { BlobProgressStore } from '../blob-progress.ts';

const MiB = 1024 * 1024;

export interface CopyBlobStepDeps extends LargeImageStepDeps {
  /** Copy engine settings (retries inside one attempt, chunked uploads). */
  readonly copyOptions?: ReplicationCopyOptions;
  /** Copy progress of the blob (per target). */
  readonly onCopyEvent?: (target: string, event: Parameters<CopyEventListener>[0]) => void;
  /** Blob progress shared with the inline copy: a blob recorded at a target is skipped, one copied is recorded. */
  readonly blobProgress?: BlobProgressStore;
  /** Clock of a deferral's `notBefore`. @default the system clock */
  readonly now?: () => Date;
}

function settingsOf(options: ReplicationCopyOptions = {}): BlobSettings {
  return {
    concurrency: 1,
    // Step Functions retries the item too; one quick retry here absorbs a dropped connection cheaply.
    retries: options.retries ?? 1,
    retryDelayMs: options.retryDelayMs ?? 500,
    chunkThreshold: options.chunkThreshold ?? Number.POSITIVE_INFINITY,
    chunkSize: options.chunkSize ?? 64 * MiB,
  };
}

/**
 * Makes one planned blob present at each of its targets (HEAD skip → cross-repo mount → stream GET
 * into PUT, digest verified), the targets in parallel. Idempotent: a re-run skips what arrived.
 *
 * @throws LargeImageError, named RegmanRetryableError when a fresh attempt may succeed, else RegmanFatalError.
 * @example
 * const { outcomes } = await copyPlannedBlob({ correlationId, sourceRegistry: 'ecr', repository: 'team/app', targets, blob }, { adapters });
 */
export async function copyPlannedBlob(input: CopyBlobInput, deps: CopyBlobStepDeps): Promise<CopyBlobResult> {
  const answer = await copyOrDeferBlob(input, deps);
  if ('deferral' in answer) throw new LargeImageError('RATE_LIMITED', answer.deferral.reason, { retryable: true });
  return answer;
}

/**
 * The CopyBlob step: like copyPlannedBlob, but when every target that failed is out of rate budget it answers a
 * deferral (the ASL Waits, then runs the item again) carrying the outcomes of the targets that finished, so the
 * next round copies only the others and the audit still counts what this round uploaded.
 *
 * @throws as copyPlannedBlob for any other failure; RATE_LIMITED (fatal) after MAX_DEFERRALS rounds.
 * @example
 * const answer = await copyOrDeferBlob(item, deps); // { digest, outcomes } or { deferral: { notBefore, … } }
 */
export async function copyOrDeferBlob(input: CopyBlobInput, deps: CopyBlobStepDeps): Promise<CopyBlobResult | DeferredStep> {
  const { blob } = input;
  const source = adapterOf(deps, input.sourceRegistry);
  const settings = settingsOf(deps.copyOptions);
  const desc = { digest: blob.digest, size: blob.size, mediaType: blob.mediaType };
  const previous = previousDeferral(input.copied);
  const results = await Promise.allSettled(
    blob.targets.map(async (index, k): Promise<BlobOutcome> => {
      // Finished before the previous round was deferred.
      const done = previous?.outcomes?.[k];
      if (done) return done;
      const target = input.targets[index];
      if (!target) throw new LargeImageError('STATE_INVALID', `blob ${blob.digest} names target #${index}, the input has ${input.targets.length}`, { retryable: false });
      const dst = adapterOf(deps, target.registry);
      const emit: CopyEventListener = (event) => deps.onCopyEvent?.(target.registry, event);
      const key = input.digest !== undefined && deps.blobProgress ? { target: target.registry, repository: target.repository, digest: input.digest } : undefined;
      // A redrive or a Map retry after a crash: a blob recorded as verified there is not HEADed again.
      const verified = key ? await deps.blobProgress!.verifiedBlobs(key, [blob.digest]).catch(() => new Set<string>()) : new Set<string>();
      const resume = { verified, blobVerified: () => undefined };
      const ctx = new CopyContext({ registry: source.oci, repository: input.repository }, { registry: dst.oci, repository: target.repository }, settings, emit, deps.copyOptions?.signal, resume);
      await copyBlob(ctx, desc);
      // Recorded before the item reports success: a crash between the two costs one HEAD, never a wrong skip.
      if (key && !verified.has(blob.digest)) await deps.blobProgress!.recordVerified(key, [blob.digest]).catch(() => undefined);
      return ctx.stats.uploaded > 0 ? 'uploaded' : ctx.stats.mounted > 0 ? 'mounted' : 'skipped';
    }),
  );
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected.length > 0 && rejected.every((r) => deferralOf(r.reason) !== undefined)) {
    // Every failed target must wait for its budget: wait for the longest, then run the item again.
    const longest = rejected.reduce((a, b) => ((deferralOf(b.reason)?.retryAfterSeconds ?? 0) > (deferralOf(a.reason)?.retryAfterSeconds ?? 0) ? b : a));
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
    const deferred = deferStep(longest.reason, previous, deps.now?.() ?? new Date(), `CopyBlob ${blob.digest}`, outcomes);
    if (deferred) return deferred;
  }
  const failed = rejected.find((r) => deferralOf(r.reason) === undefined) ?? rejected[0];
  if (failed) {
    const err = toLargeImageError(failed.reason, 'COPY_FAILED');
    throw new LargeImageError(err.code, `blob ${blob.digest} (${blob.size} bytes): ${err.message.replace(/^\[[A-Z0-9_]+\]\s*/, '')}`, { retryable: err.retryable, cause: failed.reason });
  }
  return { digest: blob.digest, outcomes: results.map((r) => (r as PromiseFulfilledResult<BlobOutcome>).value) };
}
