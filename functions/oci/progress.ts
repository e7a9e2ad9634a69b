// Copy progress as data: the events the copy engine emits (the library never prints; the CLI renders them).

/**
 * One step of a copy.
 * - `started`: work on the manifest or blob began.
 * - `skipped`: the target already had it (or it is the same repository); `reason` says which.
 * - `mounted`: the blob was mounted from another repository of the same registry.
 * - `progress`: `bytes` of the blob have been sent so far.
 * - `retrying`: an attempt failed with a retryable error; `reason` holds its message.
 * - `finished`: pushed and committed at the target.
 * - `failed`: gave up; `reason` holds the error message.
 */
export type CopyEventPhase = 'started' | 'skipped' | 'mounted' | 'progress' | 'retrying' | 'finished' | 'failed';

export interface CopyEvent {
  readonly type: 'manifest' | 'blob';
  readonly phase: CopyEventPhase;
  readonly digest: string;
  readonly size: number;
  /** Bytes sent so far (`progress`, and `finished` for uploaded blobs). */
  readonly bytes?: number;
  readonly reason?: string;
  readonly mediaType?: string;
}

export type CopyEventListener = (event: CopyEvent) => void;

/**
 * Wraps a listener so that a throwing listener cannot break (or be retried as part of) a transfer:
 * a progress display must never decide whether a copy succeeds.
 */
export function safeListener(listener: CopyEventListener | undefined): CopyEventListener {
  if (!listener) return () => undefined;
  return (event) => {
    try {
      listener(event);
    } catch {
      // Deliberately ignored: see above.
    }
  };
}
