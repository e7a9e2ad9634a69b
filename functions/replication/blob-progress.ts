// Resumable copies: which blobs of an image are verified at a target, kept across crashes, retries and invocations.
import { isOciError } from '../oci/errors.ts';
import type { CopyResume } from '../oci/copy.ts';
import { errorMessageOf, silentLogger, type LoggerLike } from './observability.ts';

/** One image's copy to one target repository: the unit whose progress is kept. */
export interface BlobProgressKey {
  /** Target registry name. */
  readonly target: string;
  /** OCI repository path at the target. */
  readonly repository: string;
  /** The source digest being copied (the event's, or the tag's at reconcile). */
  readonly digest: string;
}

/**
 * Where blob progress lives (the replication-state table's `blobs#` records). Records expire (TTL):
 * they speed up the retry of an unfinished copy and are not a statement about the target forever.
 */
export interface BlobProgressStore {
  /** Blob digests recorded as verified for `key` (unexpired). With `only`, just those of `only`. */
  verifiedBlobs(key: BlobProgressKey, only?: readonly string[]): Promise<Set<string>>;
  /** Records blobs as verified at the target (batched by the store). */
  recordVerified(key: BlobProgressKey, digests: readonly string[]): Promise<void>;
  /** Drops every record of `key`: the target proved one of them wrong. */
  forget(key: BlobProgressKey): Promise<void>;
}

/** A copy's resume handle: pass `resume` to copyImage, then `close` with the copy's error, if any. */
export interface BlobResume {
  readonly resume: CopyResume;
  /** Blobs the earlier attempts had verified (skipped now without a HEAD). */
  readonly resumed: number;
  /**
   * Writes what is still buffered. After a failure that says a blob is missing at the target although
   * recorded (BLOB_UNKNOWN on the manifest PUT: a cleanup deleted it), drops the records, so the next
   * attempt HEADs everything again. Never throws.
   */
  close(error?: unknown): Promise<void>;
}

export interface OpenBlobResumeOptions {
  readonly logger?: LoggerLike;
}

/**
 * Loads what earlier attempts verified for `key` and returns a resume handle whose reports are
 * written behind the copy: one write at a time, and every blob verified while a write is in flight
 * goes into the next one (batches grow with the copy's parallelism; a crash loses at most the blobs
 * of the write in flight, which the retry then HEADs). A store that cannot be read or written only
 * costs HEADs: the copy goes on.
 *
 * @example
 * const progress = await openBlobResume(store, { target: 'east', repository: 'team/app', digest });
 * try { await copyImage(src, dst, { resume: progress.resume }); await progress.close(); }
 * catch (err) { await progress.close(err); throw err; }
 */
export async function openBlobResume(store: BlobProgressStore, key: BlobProgressKey, options: OpenBlobResumeOptions = {}): Promise<BlobResume> {
  const logger = options.logger ?? silentLogger;
  const where = { target: key.target, repository: key.repository, digest: key.digest };
  const verified = await store.verifiedBlobs(key).catch((err: unknown) => {
    logger.warn('Could not read the blob progress of an earlier attempt; every blob is checked at the target', { ...where, error: errorMessageOf(err) });
    return new Set<string>();
  });
  const resumed = verified.size;
  const reported = new Set(verified);
  let pending: string[] = [];
  let writing: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      await store.recordVerified(key, batch).catch((err: unknown) => {
        logger.warn('Could not record blob progress; a retry checks these blobs at the target again', { ...where, blobs: batch.length, error: errorMessageOf(err) });
      });
    }
    writing = undefined;
  };
  return {
    resumed,
    resume: {
      verified,
      blobVerified(digest) {
        if (reported.has(digest)) return;
        reported.add(digest);
        pending.push(digest);
        writing ??= drain();
      },
    },
    async close(error) {
      while (writing) await writing;
      if (error !== undefined && resumed > 0 && blobUnknown(error)) {
        await store.forget(key).catch((err: unknown) => {
          logger.warn('Could not drop stale blob progress', { ...where, error: errorMessageOf(err) });
        });
      }
    },
  };
}

/** True when `err` (or a cause) is the target saying a blob is unknown. */
function blobUnknown(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (isOciError(e, 'BLOB_UNKNOWN')) return true;
  }
  return false;
}
