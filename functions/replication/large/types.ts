// The state of the replicate-large state machine: small JSON (digests, sizes, names), never manifest bodies.

/** One target of a large image, as the execution input names it. */
export interface LargeImageTarget {
  /** Name of the replication rule. */
  readonly rule: string;
  /** Target registry name in the config. */
  readonly registry: string;
  /** OCI repository path at the target (namespace applied). */
  readonly repository: string;
  /** Copy signatures, SBOMs and attestations with the image. */
  readonly referrers: boolean;
  readonly platforms?: readonly string[];
}

/** The execution input, written by the fan-out starter. */
export interface LargeImageInput {
  readonly correlationId: string;
  readonly actor: string;
  readonly executionName: string;
  /** Source registry name in the config. */
  readonly sourceRegistry: string;
  /** OCI repository path at the source. */
  readonly repository: string;
  /** The pushed manifest's digest. */
  readonly digest: string;
  /** The tag published last at every target. */
  readonly tag: string;
  readonly eventTime?: string;
  /** ISO time the fan-out started: Record's duration counts from it. */
  readonly startedAt?: string;
  readonly targets: readonly LargeImageTarget[];
}

/** One unique blob and the targets (indexes into `targets`) that need it: one Map item. */
export interface PlannedBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly targets: readonly number[];
}

/**
 * One step of a target's manifest publication, in push order: without `tag`, push the manifest by
 * digest; with `tag`, point the tag at it (the manifest is already there).
 */
export interface PlannedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly tag?: string;
}

/** What one target gets. */
export interface PlannedTarget {
  /** Digest tagged at the target (a child's when a platform filter selected one). */
  readonly root: string;
  readonly manifests: readonly PlannedManifest[];
  /** Blobs of this target and their bytes. */
  readonly blobCount: number;
  readonly bytes: number;
}

/** The Plan step's result (`$.plan`). */
export interface LargeImagePlan {
  readonly blobs: readonly PlannedBlob[];
  readonly targets: readonly PlannedTarget[];
  readonly totalBytes: number;
}

/**
 * A step's answer when a registry is out of rate budget (Docker Hub's pulls spent, a 429 with a long
 * Retry-After): not an error. The ASL's Choice sees `deferral`, Waits until `notBefore`, and runs the same
 * step again, whose input then carries this answer where the step's result goes (so the count goes on).
 */
export interface StepDeferral {
  /** ISO time the registry said the budget is back. */
  readonly notBefore: string;
  readonly retryAfterSeconds: number;
  /** Deferrals of this step so far (1 for the first). */
  readonly deferrals: number;
  /** Why, for the execution history. */
  readonly reason: string;
  readonly registry?: string;
  readonly budgetKey?: string;
  /** CopyBlob only: the outcome of each of the blob's targets that finished before the deferral (null: still to do). */
  readonly outcomes?: readonly (BlobOutcome | null)[];
}

export interface DeferredStep {
  readonly deferral: StepDeferral;
}

/** A CopyBlob item's input (the Map's ItemSelector). */
export interface CopyBlobInput {
  readonly correlationId: string;
  /** The image's digest: the key of its blob progress at each target (absent in executions started before it was added). */
  readonly digest?: string;
  readonly sourceRegistry: string;
  readonly repository: string;
  readonly targets: readonly LargeImageTarget[];
  readonly blob: PlannedBlob;
  /** The previous round's answer (the item's ResultPath): a deferral when the item waited and runs again. */
  readonly copied?: CopyBlobResult | DeferredStep;
}

export type BlobOutcome = 'uploaded' | 'mounted' | 'skipped';

/** A CopyBlob item's result (`$.copied[i]`): one outcome per entry of `blob.targets`, in that order. */
export interface CopyBlobResult {
  readonly digest: string;
  readonly outcomes: readonly BlobOutcome[];
}

/** PublishManifests' result per target (`$.published[i]`). */
export interface PublishedTarget {
  readonly target: string;
  readonly digest: string;
  readonly manifestsPushed: number;
  readonly tagged: boolean;
  /** Set when the tag was not published: the source tag names another digest now (a newer push). */
  readonly superseded?: { readonly eventDigest: string; readonly currentDigest?: string; readonly by: 'source' };
}

/** A Catch's `ResultPath` (`$.error`): Step Functions' error name and cause. */
export interface StepFailure {
  readonly Error: string;
  readonly Cause?: string;
}

/** The state as it reaches Record (success) or RecordFailure (with `error`). */
export interface LargeImageState extends LargeImageInput {
  readonly plan?: LargeImagePlan;
  readonly copied?: readonly CopyBlobResult[];
  readonly published?: readonly PublishedTarget[];
  readonly error?: StepFailure;
}

/** One target's final outcome, as recorded in the audit log. */
export interface LargeImageTargetOutcome {
  readonly target: string;
  readonly repository: string;
  /** `skipped`: superseded, the tag was left for the newer push (see `superseded`). */
  readonly status: 'replicated' | 'skipped' | 'failed';
  readonly digest?: string;
  readonly bytes: number;
  readonly blobs: { readonly uploaded: number; readonly mounted: number; readonly skipped: number };
  readonly errorCode?: string;
  readonly error?: string;
  readonly reason?: string;
  readonly superseded?: PublishedTarget['superseded'];
}

/** Record's result: the execution's output. */
export interface LargeImageSummary {
  readonly status: 'replicated' | 'failed' | 'partial';
  readonly executionName: string;
  readonly digest: string;
  readonly tag: string;
  readonly targets: readonly LargeImageTargetOutcome[];
}
