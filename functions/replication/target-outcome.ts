// The result of replicating one event to one target: its own file, so that tag-state.ts (which stores it) and
// types.ts (which returns it) do not import each other.

/** The result of one target. JSON-serialisable (the idempotency record stores it). */
export interface TargetOutcome {
  readonly rule: string;
  /** Target registry name. */
  readonly target: string;
  /** OCI repository path written at the target. */
  readonly repository: string;
  /** `deferred`: handed to the replicate-large state machine, which writes the `replicate` record. */
  readonly status: 'replicated' | 'skipped' | 'failed' | 'deferred';
  /** Digest now at the target (a child's when a one-platform filter applies). */
  readonly digest?: string;
  /** True when the target already had everything. */
  readonly noop?: boolean;
  readonly bytes: number;
  readonly blobs: { readonly uploaded: number; readonly mounted: number; readonly skipped: number };
  readonly durationMs: number;
  readonly errorCode?: string;
  readonly error?: string;
  /** Why a target was skipped. */
  readonly reason?: string;
  /**
   * Set when the tag was not published because a newer push moved it (`reason` starts `superseded`):
   * the event's digest and the digest the tag names now (at the source, or by the newer event applied).
   */
  readonly superseded?: { readonly eventDigest: string; readonly currentDigest?: string; readonly by: 'source' | 'newer-event' };
  /** True when an earlier attempt of this event finished this target: reused, not run or audited again. */
  readonly earlierAttempt?: boolean;
  /** A `deferred` target out of rate budget: when it is tried again (ISO), and the wait asked for. */
  readonly retryAt?: string;
  readonly retryAfterSeconds?: number;
}
